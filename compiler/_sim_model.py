"""The simulator's task graph, built from schedule.json and the mapped module.

Tasks are the schedule's ops and transfers (a transfer with several producers, or several
consumers, is one task). An op that first reads off-chip DRAM and is placed on the chip's I/O
(``io:<n>``) is two tasks: the fetch on the I/O, then the rest on its unit. Durations come from
the cost model, never from the schedule's start and end cycles; those serve only to rank the
tasks: their order in batch 0, and the order in which each resource serves them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from compiler._sim_engine import Task
from ir.core import Module, Op
from ir.dialects import pim
from ir.dialects.pim_attrs import TARGET
from ir.errors import PimcError
from passes._costing.op_primitives import (
    gather_shares,
    offchip_part,
    offchip_span,
    primitives,
)
from targets.coster import OpCoster
from targets.errors import TargetError
from targets.loader import load_target
from targets.primitives import Primitive, Transfer, WeightLoad
from targets.rollup import rollup

__all__ = ["Cost", "Model", "Node", "build"]

_UNIT_KIND = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}


@dataclass(frozen=True)
class Cost:
    """What the resource rules read: cycles on the unit, on the off-chip I/O, per link."""

    compute: int
    offchip: int = 0
    links: dict[str, int] = field(default_factory=dict)


@dataclass
class Node:
    id: int  # the schedule's op or transfer id
    name: str
    order: tuple[int, int, int]  # (planned batch-0 start, id, part): its rank and turn
    cycles: int
    use: dict[str, int]  # resource -> cycles held from the start
    preds: list[tuple[int, int]] = field(default_factory=list)  # (id, part) of producers
    part: int = 0
    holds: bool = False  # a streamed weight load: its crossbar stays held for its readers
    holds_for: list[int] = field(default_factory=list)  # ids of those readers


@dataclass
class Model:
    nodes: list[Node]
    tasks: list[Task]
    resources: list[str]
    pipelined: bool
    energy: dict[str, float]
    leakage: float  # W
    clock: float


class _Builder:
    def __init__(self, schedule: dict, module: Module, rules: dict) -> None:
        if not TARGET.has(module):
            raise PimcError(f"simulate needs a mapped module with '{TARGET.name}'")
        self.schedule, self.rules = schedule, rules
        self.target = load_target(str(TARGET.of(module)))
        self.coster = OpCoster(self.target)
        self.graph_ops = module.main.ops
        self.shares = gather_shares(self.graph_ops)
        self.where = _resources_of(schedule)
        self.nodes: list[Node] = []
        self.last: dict[int, int] = {}  # id -> its last part
        self.energy: dict[str, float] = {}
        self.kinds: dict[str, tuple[int, Callable]] = {}  # resource -> its kind's rule

    def price(self, what: str, prims: tuple[Primitive, ...]) -> int:
        try:
            parts = self.coster.energy(prims)
            cycles = self.coster.cycles(prims)
        except TargetError as exc:
            raise PimcError(f"cannot price {what}: {exc}") from None
        for k, j in parts.items():
            self.energy[k] = self.energy.get(k, 0.0) + j
        return cycles

    def uses(self, resources: list[str], cost: Cost, phase: int) -> dict[str, int]:
        out = {}
        kinds = self.kinds
        for r in resources:
            kind = kinds.get(r)
            if kind is None:
                kind = kinds[r] = _rule(self.rules, r)
            first, rule = kind
            if first != phase:
                continue
            cycles = rule(cost, r)
            if cycles > 0:
                out[r] = cycles
        return out

    def add(self, node: Node) -> None:
        self.nodes.append(node)
        self.last[node.id] = node.part

    def op(self, entry: dict) -> None:
        i = entry["id"]
        op = _graph_op(self.graph_ops, entry)
        prims = primitives(op, self.target, self.shares.get(id(op), 1.0))
        if isinstance(op, pim.MVM):
            r = int(entry.get("replicas", len(entry["loc"]) or 1))
            prims = tuple(p if p.replicas == r else dataclasses.replace(p, replicas=r)
                          for p in prims)
        total = self.price(f"op {i} ({entry['name']})", prims)
        dram = offchip_part(prims, self.target)
        off = offchip_span(self.coster.cycles(dram), total) if dram else 0
        res = self.where.get(i, [])
        fetch = self.uses(res, Cost(total - off, off), 0)
        order = (entry["start"], i)
        holds = any(isinstance(p, WeightLoad) for p in prims)
        if fetch and off < total:  # fetched over the I/O first, then computed on the unit
            self.add(Node(i, entry["name"], (*order, 0), off, fetch))
            begin = int(entry.get("io_end", entry["start"]))  # its planned start on the unit
            self.add(Node(i, entry["name"], (begin, i, 1), total - off,
                          self.uses(res, Cost(total - off, off), 1), [(i, 0)], part=1,
                          holds=holds))
            return
        self.add(Node(i, entry["name"], (*order, 0), total,
                      {**fetch, **self.uses(res, Cost(total, off), 1)}, holds=holds))

    def transfer(self, t: dict, srcs: list[int]) -> None:
        net = self.target.chip.network if self.target.chip is not None else None
        if net is None:
            raise PimcError(f"schedule.json transfer {t['id']} crosses a network that target "
                            f"'{self.target.name}' does not have")
        clock = self.target.clock
        serial = {link: net.serial_cycles(b, clock) for link, b in _links(t)}
        prim = Transfer(max(1, int(t["bytes"])), int(t["hops"]))
        cycles = self.price(f"transfer {t['id']}", (prim,))
        if serial:  # the busiest link's serialisation, then the hops of the farthest tile
            cycles = net.arrival_cycles(max(serial.values()), int(t["hops"]), clock)
        res = self.where.get(t["id"], [])
        self.add(Node(t["id"], f"transfer {t['id']}", (t["start"], t["id"], 0), cycles,
                      self.uses(res, Cost(cycles, 0, serial), 0), [(s, -1) for s in srcs]))


def _resources_of(schedule: dict) -> dict[int, list[str]]:
    """Every op or transfer id -> the resources the schedule puts it on."""
    out: dict[int, dict[str, None]] = {}  # id -> its resources, in first-seen order

    def of(key: int) -> dict[str, None]:
        got = out.get(key)
        if got is None:
            got = out[key] = {}
        return got

    for name, uses in schedule["units"].items():
        for use in uses:
            of(int(use["op"] if "op" in use else use.get("transfer", -1)))[name] = None
    for op in schedule["ops"]:
        kind = _UNIT_KIND.get(op["unit"])
        if kind is not None:
            of(op["id"]).update((f"{kind}:{x}", None) for x in op["loc"])
    for t in schedule["transfers"]:
        of(t["id"]).update((link, None) for link, _ in _links(t))
    return {k: list(v) for k, v in out.items()}


def _links(transfer: dict) -> list[tuple[str, int]]:
    """(link resource, bytes over it) of a transfer's route (version 2; none in version 1).
    The link's cycles in the schedule are not read: they are re-derived from the bytes."""
    return [(x["link"], int(x["bytes"])) for x in transfer.get("links", ())]


def _graph_op(ops: list[Op], entry: dict) -> Op:
    i, kind = entry["id"], entry["kind"]
    if not 0 <= i < len(ops) or ops[i].name != kind:
        have = ops[i].name if 0 <= i < len(ops) else "nothing"
        raise PimcError(f"schedule.json op {i} is {kind} but mapped.pir has {have} there; "
                        "the schedule belongs to another module")
    return ops[i]


def _rule(rules: dict, resource: str) -> tuple[int, Callable]:
    kind = resource.split(":", 1)[0]
    if kind not in rules:
        raise PimcError(f"schedule.json resource '{resource}' is of no known kind; accepted: "
                        f"{', '.join(sorted(rules))}")
    return rules[kind]


def _wire(b: _Builder) -> None:
    """Producers of every op (through the transfer between them, if any)."""
    sched = b.schedule
    via = {(t["src"], t["dst"]): t["id"] for t in sched["transfers"]}
    first = {n.id: n for n in b.nodes if n.part == 0}
    last = {n.id: n for n in b.nodes if n.part == b.last[n.id]}
    for entry in sched["ops"]:
        node = first[entry["id"]]
        for p in entry["inputs"]:
            if p not in last:
                raise PimcError(f"schedule.json op {entry['id']} reads op {p}, which is not "
                                "scheduled")
            src = via.get((p, entry["id"]), p)
            node.preds.append((src, b.last[src]))
            if last[p].holds:  # a streamed tile stays in its crossbar until it is used
                last[p].holds_for.append(entry["id"])
    for n in b.nodes:
        n.preds = [(i, b.last[i] if part < 0 else part) for i, part in n.preds]


def build(schedule: dict, module: Module, rules: dict) -> Model:
    """The task graph of `schedule` on `module`'s target, with durations from the cost model."""
    b = _Builder(schedule, module, rules)
    for entry in schedule["ops"]:
        b.op(entry)
    srcs: dict[int, list[int]] = {}
    for t in schedule["transfers"]:
        srcs.setdefault(t["id"], [])
        if t["src"] not in srcs[t["id"]]:
            srcs[t["id"]].append(t["src"])
    for t in {t["id"]: t for t in schedule["transfers"]}.values():
        b.transfer(t, srcs[t["id"]])
    _wire(b)
    index = {(n.id, n.part): i for i, n in enumerate(b.nodes)}
    rank = {(n.id, n.part): r for r, n in enumerate(sorted(b.nodes, key=lambda n: n.order))}
    resources = sorted({r for n in b.nodes for r in n.use})
    at = {r: i for i, r in enumerate(resources)}
    tasks = [Task(rank[(n.id, n.part)], n.cycles, {at[r]: c for r, c in n.use.items()},
                  tuple(index[p] for p in n.preds),
                  tuple(index[(c, b.last[c])] for c in n.holds_for), int(n.order[0]))
             for n in b.nodes]
    pipelined = schedule.get("pipelined", schedule["interval"] < schedule["latency"])
    return Model(b.nodes, tasks, resources, bool(pipelined), b.energy,
                 rollup(b.target).leakage, float(b.target.clock))
