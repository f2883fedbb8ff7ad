"""The simulator's task and run records, shared by its engines (``compiler._sim_engine`` and
``compiler._sim_levels``; see the former for what a task's fields mean), and the tasks of a
model's nodes (``tasks_of``)."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

__all__ = ["Run", "Task", "tasks_of"]


@dataclass(slots=True)
class Task:
    rank: int
    cycles: int  # from start until the result is ready
    use: dict[int, int]  # resource index -> cycles it is occupied from the start
    preds: tuple[int, ...] = ()
    holds_for: tuple[int, ...] = ()  # consumers that keep this task's resources held
    at: int = 0  # planned start in batch 0: its place in each resource's order (`ordered`)


@dataclass
class Run:
    start: list[list[int]]  # [batch][task]
    end: list[list[int]]


def _ranks(nodes: list, unique: bool) -> list[int]:
    """Each node's place in the order of the nodes' `order`s; `unique`: no two nodes share an
    id and a part (else those share the rank of the later one)."""
    if unique:
        orders = [n.order for n in nodes]
        rank = [0] * len(nodes)
        for r, k in enumerate(sorted(range(len(nodes)), key=orders.__getitem__)):
            rank[k] = r
        return rank
    rank = dict(zip([(n.id, n.part) for n in sorted(nodes, key=attrgetter("order"))],
                    range(len(nodes))))
    return [rank[(n.id, n.part)] for n in nodes]


def tasks_of(nodes: list, unique: bool = False, alike: dict[int, int] | None = None
             ) -> tuple[list[Task], list[str]]:
    """The engine's tasks of the model's nodes (``_sim_model.Node``), and the resources they
    use (sorted: a task's resource is its index there); `unique` as in ``_ranks``; `alike`:
    node position -> a group of nodes of equal `use` (their tasks' uses worked out once)."""
    resources = sorted(set().union(*[n.use for n in nodes]))
    index = dict(zip(resources, range(len(resources))))
    uses = [{index[r]: c for r, c in n.use.items()} if alike is None or k not in alike
            else None for k, n in enumerate(nodes)]
    made: dict[int, dict[int, int]] = {}
    for k, group in (alike or {}).items():
        got = made.get(group)
        if got is None:
            got = made[group] = {index[r]: c for r, c in nodes[k].use.items()}
        uses[k] = dict(got)
    tasks = [Task(r, n.cycles, use, tuple(n.preds), tuple(n.holds_for), int(n.order[0]))
             for n, r, use in zip(nodes, _ranks(nodes, unique), uses)]
    return tasks, resources
