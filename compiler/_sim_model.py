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
from operator import attrgetter

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
from targets.coster import shared_coster
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
    # producers, (id, part: 0 or -1 for its last), then the positions of their nodes
    preds: list = field(default_factory=list)
    part: int = 0
    holds: bool = False  # a streamed weight load: its crossbar stays held for its readers
    holds_for: list[int] = field(default_factory=list)  # those readers: ids, then positions


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
        self.coster = shared_coster(self.target)  # prices depend on the target alone
        self.graph_ops = module.main.ops
        self.shares = gather_shares(self.graph_ops)
        self.where = _resources_of(schedule)
        self.nodes: list[Node] = []
        self.last: dict[int, int] = {}  # id -> its last part
        self.energy: dict[str, float] = {}
        # many ops (weight tiles of one shape) and transfers share their primitives
        self.priced: dict[tuple, tuple[int, int, bool, dict[str, float]]] = {}
        self.net = self.target.chip.network if self.target.chip is not None else None
        self.serials: dict[int, int] = {}  # bytes -> a link's cycles

    def price(self, key: tuple, prims: Callable[[], tuple[Primitive, ...]],
              what: Callable[[], str]) -> tuple[int, int, bool]:
        """(cycles, of them those on the off-chip I/O, whether it loads a streamed weight) of
        the primitives `prims()` (`key` names them); their energy is added to the total."""
        hit = self.priced.get(key)
        if hit is None:
            hit = self.priced[key] = self._priced(prims(), what)
        energy = self.energy
        for k, j in hit[3].items():
            energy[k] = energy.get(k, 0.0) + j
        return hit[0], hit[1], hit[2]

    def _priced(self, prims: tuple[Primitive, ...], what: Callable[[], str]
                ) -> tuple[int, int, bool, dict[str, float]]:
        try:
            parts = self.coster.energy(prims)
            cycles = self.coster.cycles(prims)
        except TargetError as exc:
            raise PimcError(f"cannot price {what()}: {exc}") from None
        dram = offchip_part(prims, self.target)
        off = offchip_span(self.coster.cycles(dram), cycles) if dram else 0
        return cycles, off, any(isinstance(p, WeightLoad) for p in prims), parts

    def uses(self, resources, cost: Cost, phase: int) -> dict[str, int]:
        """Resource -> the cycles a task of `cost` holds it, of the resources of `phase`."""
        return self.phases(resources, cost)[phase]

    def phases(self, resources, cost: Cost) -> tuple[dict[str, int], dict[str, int]]:
        """`uses` of phase 0 and of phase 1 at once."""
        out: tuple[dict[str, int], dict[str, int]] = ({}, {})
        rules = self.rules
        for r in resources:
            kind = rules.get(r.partition(":")[0])
            if kind is None:
                raise _unknown(rules, r)
            phase, rule = kind
            if phase == 0 or phase == 1:
                cycles = rule(cost, r)
                if cycles > 0:
                    out[phase][r] = cycles
        return out

    def add(self, node: Node) -> None:
        self.nodes.append(node)
        self.last[node.id] = node.part

    def op(self, entry: dict) -> None:
        i, name, start = entry["id"], entry["name"], entry["start"]
        op = _graph_op(self.graph_ops, entry)
        prims = primitives(op, self.target, self.shares.get(id(op), 1.0))
        if isinstance(op, pim.MVM):
            r = int(entry.get("replicas", len(entry["loc"]) or 1))
            prims = tuple(p if p.replicas == r else dataclasses.replace(p, replicas=r)
                          for p in prims)
        total, off, holds = self.price(prims, lambda: prims, lambda: f"op {i} ({name})")
        res = self.where.get(i, ())
        fetch, use = self.phases(res, Cost(total - off, off))
        if fetch and off < total:  # fetched over the I/O first, then computed on the unit
            self.add(Node(i, name, (start, i, 0), off, fetch))
            begin = int(entry.get("io_end", start))  # its planned start on the unit
            self.add(Node(i, name, (begin, i, 1), total - off, use, [(i, 0)], part=1,
                          holds=holds))
            return
        if off:  # not split: its unit is held the whole time
            use = self.uses(res, Cost(total, off), 1)
        self.add(Node(i, name, (start, i, 0), total, {**fetch, **use} if fetch else use,
                      holds=holds))

    def transfer(self, t: dict, srcs: list[int]) -> None:
        net = self.net
        if net is None:
            raise PimcError(f"schedule.json transfer {t['id']} crosses a network that target "
                            f"'{self.target.name}' does not have")
        i, hops = t["id"], int(t["hops"])
        serials = self.serials
        # link -> its cycles, re-derived from its bytes over it (the schedule's cycles are not
        # read); a transfer of version 1 lists no links
        serial = {}
        for x in t.get("links", ()):
            link, b = x["link"], int(x["bytes"])
            serial[link] = serials.get(b) or self.serial(b)
        key = (max(1, int(t["bytes"])), hops)
        cycles = self.price(key, lambda: (Transfer(*key),), lambda: f"transfer {i}")[0]
        if serial:  # the busiest link's serialisation, then the hops of the farthest tile
            cycles = net.arrival_cycles(max(serial.values()), hops, self.target.clock)
        self.add(Node(i, f"transfer {i}", (t["start"], i, 0), cycles,
                      self.uses(self.where.get(i, ()), Cost(cycles, 0, serial), 0),
                      [(s, -1) for s in srcs]))

    def serial(self, nbytes: int) -> int:
        """A link's cycles for `nbytes` (`Network.serial_cycles`; many transfers share sizes)."""
        hit = self.serials.get(nbytes)
        if hit is None:
            hit = self.serials[nbytes] = self.net.serial_cycles(nbytes, self.target.clock)
        return hit


def _resources_of(schedule: dict) -> dict[int, dict[str, None]]:
    """Every op or transfer id -> the resources the schedule puts it on, in first-seen order."""
    out: dict[int, dict[str, None]] = {}
    for name, uses in schedule["units"].items():
        for use in uses:
            key = int(use["op"] if "op" in use else use.get("transfer", -1))
            got = out.get(key)
            if got is None:
                out[key] = {name: None}
            else:
                got[name] = None
    for op in schedule["ops"]:
        kind = _UNIT_KIND.get(op["unit"])
        if kind is not None:
            _of(out, op["id"]).update(dict.fromkeys([f"{kind}:{x}" for x in op["loc"]]))
    routes: dict[int, list] = {}  # a transfer feeding several ops is listed once for each
    for t in schedule["transfers"]:
        links = t.get("links", ())
        if routes.get(t["id"]) != links:
            routes[t["id"]] = links
            _of(out, t["id"]).update(dict.fromkeys([x["link"] for x in links]))
    return out


def _of(out: dict[int, dict[str, None]], key: int) -> dict[str, None]:
    got = out.get(key)
    if got is None:
        got = out[key] = {}
    return got


def _graph_op(ops: list[Op], entry: dict) -> Op:
    i, kind = entry["id"], entry["kind"]
    if not 0 <= i < len(ops) or ops[i].name != kind:
        have = ops[i].name if 0 <= i < len(ops) else "nothing"
        raise PimcError(f"schedule.json op {i} is {kind} but mapped.pir has {have} there; "
                        "the schedule belongs to another module")
    return ops[i]


def _unknown(rules: dict, resource: str) -> PimcError:
    return PimcError(f"schedule.json resource '{resource}' is of no known kind; accepted: "
                     f"{', '.join(sorted(rules))}")


def _wire(b: _Builder) -> None:
    """Producers of every op (through the transfer between them, if any), then every node's
    producers and held-for readers as positions of their nodes."""
    sched, nodes = b.schedule, b.nodes
    via = {(t["src"], t["dst"]): t["id"] for t in sched["transfers"]}
    first = {n.id: k for k, n in enumerate(nodes) if n.part == 0}
    last = {n.id: k for k, n in enumerate(nodes) if n.part == b.last[n.id]}
    for entry in sched["ops"]:
        i = entry["id"]
        node = nodes[first[i]]
        for p in entry["inputs"]:
            producer = last.get(p)
            if producer is None:
                raise PimcError(f"schedule.json op {i} reads op {p}, which is not scheduled")
            node.preds.append((via.get((p, i), p), -1))
            if nodes[producer].holds:  # a streamed tile stays in its crossbar until it is used
                nodes[producer].holds_for.append(i)
    for n in nodes:  # part 0: that node of the op; -1 (or its number): its last part
        if n.preds:
            n.preds = [first[i] if part == 0 else last[i] for i, part in n.preds]
        if n.holds_for:
            n.holds_for = [last[c] for c in n.holds_for]


def _tasks(nodes: list[Node]) -> tuple[list[Task], list[str]]:
    """The engine's tasks of the nodes, and the resources they use (sorted: a task's resource
    is its index there)."""
    rank = dict(zip([(n.id, n.part) for n in sorted(nodes, key=attrgetter("order"))],
                    range(len(nodes))))
    resources = sorted(set().union(*[n.use for n in nodes]))
    at = dict(zip(resources, range(len(resources)))).__getitem__
    tasks = [Task(rank[(n.id, n.part)], n.cycles, dict(zip(map(at, n.use), n.use.values())),
                  tuple(n.preds), tuple(n.holds_for), int(n.order[0]))
             for n in nodes]
    return tasks, resources


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
    tasks, resources = _tasks(b.nodes)
    pipelined = schedule.get("pipelined", schedule["interval"] < schedule["latency"])
    return Model(b.nodes, tasks, resources, bool(pipelined), b.energy,
                 rollup(b.target).leakage, float(b.target.clock))
