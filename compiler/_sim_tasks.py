"""The simulator's task and run records, shared by its engines (``compiler._sim_engine`` and
``compiler._sim_levels``; see the former for what a task's fields mean)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Run", "Task"]


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
