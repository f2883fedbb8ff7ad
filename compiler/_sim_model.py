"""The simulator's task graph, built from schedule.json and the mapped module.

Tasks are the schedule's ops and transfers (a transfer with several producers, or several
consumers, is one task). An op that first reads off-chip DRAM and is placed on the chip's I/O
(``io:<n>``) is two tasks: the fetch on the I/O, then the rest on its unit. Durations come from
the cost model, never from the schedule's start and end cycles; those serve only to rank the
tasks: their order in batch 0, and the order in which each resource serves them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

from compiler._report_facts import energy_sum, replicated
from compiler._sim_engine import Task
from compiler._sim_tasks import tasks_of
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
from passes._placement.layout import held
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


@dataclass(slots=True)
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
        self.at: dict[int, int] = {}  # id -> the position of its last node
        self.first: dict[int, int] = {}  # id -> the position of its last node of part 0
        self.second: dict[int, int] = {}  # id -> the position of its last node of part 1
        # many ops (weight tiles of one shape) and transfers share their primitives (``_priced``)
        self.priced: dict[tuple, tuple[int, int, bool, dict[str, float], int, Cost]] = {}
        self.spent: list[int] = []  # every priced task's energy, as that place
        self.net = self.target.chip.network if self.target.chip is not None else None
        self.serials: dict[int, int] = {}  # bytes -> a link's cycles
        self.routes: dict[tuple, tuple[int, dict[str, int], int]] = {}  # see `transfer`
        self.alike: dict[int, int] = {}  # node position -> its route's (``_tasks``)

    @property
    def energy(self) -> dict[str, float]:
        """Energy by component of every task priced so far, summed in the order priced."""
        return energy_sum([hit[3] for hit in self.priced.values()], self.spent)

    def _priced(self, key: tuple, prims: tuple[Primitive, ...], what: Callable[[], str]
                ) -> tuple[int, int, bool, dict[str, float], int, Cost]:
        """Of the primitives `prims` (`key` names them; `what()` in an error): their cycles,
        of them those on the off-chip I/O, whether they load a streamed weight, their energy
        by component, the place of `key` in the order priced (``energy``) and the `Cost` of
        an op of them on its unit; kept as `key`'s."""
        try:
            parts = self.coster.energy(prims)
            cycles = self.coster.cycles(prims)
        except TargetError as exc:
            raise PimcError(f"cannot price {what()}: {exc}") from None
        dram = offchip_part(prims, self.target)
        off = offchip_span(self.coster.cycles(dram), cycles) if dram else 0
        hit = self.priced[key] = (cycles, off, any(isinstance(p, WeightLoad) for p in prims),
                                  parts, len(self.priced), Cost(cycles - off, off))
        return hit

    def phases(self, resources, cost: Cost) -> tuple[dict[str, int], dict[str, int]]:
        """Resource -> the cycles a task of `cost` holds it, of the resources of phase 0 and
        of those of phase 1."""
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
        k = self.at[node.id] = len(self.nodes)
        (self.first if node.part == 0 else self.second)[node.id] = k
        self.nodes.append(node)

    def op(self, entry: dict) -> None:
        i, name, start = entry["id"], entry["name"], entry["start"]
        op = _graph_op(self.graph_ops, entry)
        prims = primitives(op, self.target, self.shares.get(id(op), 1.0))
        if isinstance(op, pim.MVM):
            prims = replicated(prims, int(entry.get("replicas", len(entry["loc"]) or 1)))
        hit = self.priced.get(prims) or self._priced(prims, prims, lambda: f"op {i} ({name})")
        self.spent.append(hit[4])
        total, off, holds = hit[0], hit[1], hit[2]
        res = self.where.get(i, ())
        fetch, use = self.phases(res, hit[5])  # Cost(total - off, off)
        if fetch and off < total:  # fetched over the I/O first, then computed on the unit
            self.add(Node(i, name, (start, i, 0), off, fetch))
            begin = int(entry.get("io_end", start))  # its planned start on the unit
            self.add(Node(i, name, (begin, i, 1), total - off, use, [(i, 0)], part=1,
                          holds=holds))
            return
        if off:  # not split: its unit is held the whole time
            use = self.phases(res, Cost(total, off))[1]
        self.add(Node(i, name, (start, i, 0), total, {**fetch, **use} if fetch else use,
                      holds=holds))

    def transfer(self, t: dict, srcs: list[int]) -> None:
        if self.net is None:
            raise PimcError(f"schedule.json transfer {t['id']} crosses a network that target "
                            f"'{self.target.name}' does not have")
        i, hops = t["id"], int(t["hops"])
        res = self.where.get(i, ())
        # transfers of one size on one route (and resources) take the same cycles and hold
        # the same: worked out once (from the same inputs, so the same, errors included)
        links = t.get("links", ())
        try:
            route = (t["bytes"], hops, tuple(map(_LINK, links)), tuple(map(_BYTES, links)),
                     tuple(res))
            hit = self.routes.get(route)
        except (KeyError, TypeError):  # not as a schedule writes it: each on its own
            route = hit = None
        if hit is None:
            hit = self._transfer(t, i, hops, res)
            if route is not None:
                self.routes[route] = hit
        else:
            self.spent.append(hit[2])
        if route is not None:  # kept in `routes`, so its id names it while this runs
            self.alike[len(self.nodes)] = id(hit)
        self.add(Node(i, f"transfer {i}", (t["start"], i, 0), hit[0], dict(hit[1]),
                      [(s, -1) for s in srcs]))

    def _transfer(self, t: dict, i: int, hops: int, res) -> tuple[int, dict[str, int], int]:
        """(cycles, the cycles it holds each resource of `res`, its energy's place) of
        transfer `t` (id i)."""
        serials = self.serials
        # link -> its cycles, re-derived from its bytes over it (the schedule's cycles are not
        # read); a transfer of version 1 lists no links
        serial = {}
        for x in t.get("links", ()):
            link, b = x["link"], int(x["bytes"])
            serial[link] = serials.get(b) or self.serial(b)
        key = (max(1, int(t["bytes"])), hops)
        hit = self.priced.get(key) or self._priced(key, (Transfer(*key),), lambda: f"transfer {i}")
        self.spent.append(hit[4])
        cycles = hit[0]
        if serial:  # the busiest link's serialisation, then the hops of the farthest tile
            cycles = self.net.arrival_cycles(max(serial.values()), hops, self.target.clock)
        return cycles, self.phases(res, Cost(cycles, 0, serial))[0], self.spent[-1]

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
            locs = held(op["unit"], op["loc"])
            out.setdefault(op["id"], {}).update(dict.fromkeys([f"{kind}:{x}" for x in locs]))
    for t in schedule["transfers"]:  # listed once for each op it feeds: any new link added
        out.setdefault(t["id"], {}).update(dict.fromkeys(map(_LINK, t.get("links", ()))))
    return out


_LINK, _BYTES = itemgetter("link"), itemgetter("bytes")


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
    first, last = b.first, b.at  # an id's last node is of its last part
    named = {k for k, n in enumerate(nodes) if n.preds}  # producers named by id (and part)
    for entry in sched["ops"]:
        i = entry["id"]
        k = first[i]
        node = nodes[k]
        for p in entry["inputs"]:
            producer = last.get(p)
            if producer is None:
                raise PimcError(f"schedule.json op {i} reads op {p}, which is not scheduled")
            got = via.get((p, i), p)  # its last part: found at once where the node names no
            node.preds.append((got, -1) if k in named else last[got])  # other producer
            if nodes[producer].holds:  # a streamed tile stays in its crossbar until it is used
                nodes[producer].holds_for.append(last[i])
    for k in sorted(named):  # part 0: that node of the op; -1 (or its number): its last part
        nodes[k].preds = [first[i] if part == 0 else last[i] for i, part in nodes[k].preds]


def build(schedule: dict, module: Module, rules: dict) -> Model:
    """The task graph of `schedule` on `module`'s target, with durations from the cost model."""
    b = _Builder(schedule, module, rules)
    for entry in schedule["ops"]:
        b.op(entry)
    srcs: dict[int, list[int]] = {}
    last: dict[int, dict] = {}  # a transfer listed for several consumers: its last entry
    for t in schedule["transfers"]:
        got = srcs.get(t["id"])
        if got is None:
            srcs[t["id"]] = [t["src"]]
        elif t["src"] not in got:
            got.append(t["src"])
        last[t["id"]] = t
    for i, t in last.items():
        b.transfer(t, srcs[i])
    _wire(b)
    tasks, resources = tasks_of(b.nodes, len(b.first) + len(b.second) == len(b.nodes),
                                b.alike)
    pipelined = schedule.get("pipelined", schedule["interval"] < schedule["latency"])
    return Model(b.nodes, tasks, resources, bool(pipelined), b.energy,
                 rollup(b.target).leakage, float(b.target.clock))
