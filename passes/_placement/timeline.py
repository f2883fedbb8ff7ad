"""Start and end cycles of a placed program: list scheduling in graph order.

Reads the placement from a ``Layout`` value (the placer's candidates, or the layout the schedule
pass reads back from the ops: both see exactly the same thing; nothing here writes the module).
An op occupies its resources (``crossbar:<id>`` for every replica of a tile, ``tile:<chip
tile>`` for a digital op, ``bank:<id>`` for a shard) from its start to its end. A value whose
producer sits on another chip tile than its consumer crosses the mesh: one transfer per (value,
destination tile), shared by every consumer there, sized by what they read and as far as the
farthest replica of the consumer; transfers delay but do not occupy a resource (link contention
is not modelled).

Pipelined (batch k starts at k x interval), the interval is the busiest resource's occupancy per
batch, and an op goes at the earliest cycle from which its resources are free modulo the
interval (a modulo reservation table), so consecutive batches never collide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ir.core import Value
from ir.dialects import pim
from passes._costing.op_primitives import bits_of
from passes._placement.layout import Layout
from passes._placement.mesh import PORT
from passes._placement.problem import OpInfo, Problem, producers_of
from targets.primitives import Transfer

__all__ = ["Move", "Timeline", "duration", "edge_bytes", "plan_moves", "reach", "read_bytes",
           "resources", "schedule"]

_NEVER = 1 << 62
_KEY = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}


@dataclass
class Move:
    value: Value
    src: int
    dst: int
    bytes: int
    hops: int
    consumers: list[int] = field(default_factory=list)
    cycles: int = 0
    start: int = 0
    end: int = 0


@dataclass
class Timeline:
    start: dict[int, int]
    end: dict[int, int]
    moves: list[Move]
    latency: int
    interval: int
    pipelined: bool
    busy: dict[str, int]

    def network_energy(self, prob: Problem) -> float:
        return sum(sum(prob.coster.energy((Transfer(m.bytes, m.hops),)).values())
                   for m in self.moves)


def resources(layout: Layout, info: OpInfo) -> list[str]:
    return [f"{_KEY[info.unit]}:{x}" for x in layout.locs(info)]


def reach(prob: Problem, layout: Layout, info: OpInfo) -> tuple[int, ...]:
    """The chip tiles an op's data must reach (PORT for bank ops)."""
    if info.unit == "bank":
        return (PORT,)
    if info.unit == "crossbar":
        return tuple(dict.fromkeys(prob.mesh.chip_tile_of(x) for x in layout.locs(info)))
    return (layout.locs(info)[0],)


def duration(prob: Problem, layout: Layout, info: OpInfo) -> int:
    r = layout.replicas_of(info)
    group = prob.groups.get(info.group)
    if group is not None and r in group.choices:
        return group.cycles[info.index][group.choices.index(r)]
    return prob.cycles(info.op, r) if r != 1 else info.cycles


def read_bytes(prob: Problem, info: OpInfo, v: Value) -> int:
    """Bytes `info` reads of `v` (a weight tile reads only its rows of the input)."""
    op = info.op
    bits = v.type.bits or bits_of(op, prob.target)
    if isinstance(op, pim.MVM) and v is op.operands[0]:
        (r0, r1) = op.attrs["rows"]
        return max(1, -(-(v.type.size // max(1, v.type.shape[-1])) * (r1 - r0) * bits // 8))
    return max(1, -(-v.type.size * bits // 8))


def edge_bytes(prob: Problem) -> dict[tuple[int, int], int]:
    """Bytes each op reads from each producer (op indices), wherever they sit."""
    out: dict[tuple[int, int], int] = {}
    for info in prob.ops:
        for v in dict.fromkeys(info.op.operands):
            for p in producers_of(v, prob.memo):
                key = (prob.by_op[id(p)].index, info.index)
                out[key] = max(out.get(key, 0), read_bytes(prob, info, v))
    return out


def plan_moves(prob: Problem, layout: Layout) -> list[Move]:
    """The transfers the placement needs, in the order their first consumer appears."""
    if prob.mesh.chip_tiles == 0:
        return []
    memo, by_op = prob.memo, prob.by_op
    moves: dict[tuple[int, int], Move] = {}
    for info in prob.ops:
        dst = reach(prob, layout, info)
        for v in dict.fromkeys(info.op.operands):
            prods = producers_of(v, memo)
            if not prods:
                continue
            src = reach(prob, layout, by_op[id(prods[0])])[0]
            hops = max(prob.mesh.hops(src, t) for t in dst)
            if hops == 0 or dst[0] == PORT:
                continue
            m = moves.setdefault((id(v), dst[0]), Move(v, src, dst[0], 0, 0))
            full = -(-v.type.size * (v.type.bits or bits_of(info.op, prob.target)) // 8)
            m.bytes = min(max(1, full), m.bytes + read_bytes(prob, info, v))
            m.hops = max(m.hops, hops)
            m.consumers.append(info.index)
    out = list(moves.values())
    for m in out:
        m.cycles = prob.coster.cycles((Transfer(m.bytes, m.hops),))
    return out


def _fits(busy: list[tuple[int, int]], t: int, d: int, period: int) -> bool:
    for b, bd in busy:
        if (t - b) % period < bd or (b - t) % period < d:
            return False
    return True


def _slot(tables: list[list[tuple[int, int]]], ready: int, d: int, period: int) -> int | None:
    cands = {ready}
    for busy in tables:
        for b, bd in busy:
            cands.add(ready + (b + bd - ready) % period)
    for t in sorted(cands):
        if all(_fits(busy, t, d, period) for busy in tables):
            return t
    return None


def schedule(prob: Problem, layout: Layout, pipelined: bool) -> Timeline:
    """List-schedule the program placed by `layout` (see the module docstring)."""
    durations = {info.index: duration(prob, layout, info) for info in prob.ops}
    occupancy: dict[str, int] = {}
    for info in prob.ops:
        for r in resources(layout, info):
            occupancy[r] = occupancy.get(r, 0) + durations[info.index]
    period = max(occupancy.values(), default=1)
    moves = plan_moves(prob, layout)
    while True:
        tl = _run(prob, layout, durations, moves, period if pipelined else None)
        if tl is not None:
            break
        period += max(1, period // 64)  # small steps: a coarse one overshoots the interval
    tl.busy = occupancy
    if not pipelined:
        tl.interval = tl.latency
    return tl


def _run(prob: Problem, layout: Layout, durations: dict[int, int], moves: list[Move],
         period: int | None) -> Timeline | None:
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    into = {(c, id(m.value)): m for m in moves for c in m.consumers}
    placed: set[int] = set()
    tables: dict[str, list[tuple[int, int]]] = {}
    wrap = period or _NEVER  # not pipelined: an absolute timeline
    for info in prob.ops:
        ready = _ready(prob, info, end, into, placed)
        d, res = durations[info.index], dict.fromkeys(resources(layout, info))
        t = _slot([tables.setdefault(r, []) for r in res], ready, d, wrap)
        if t is None:
            return None
        for r in res:
            tables[r].append((t % wrap, d))
        start[info.index], end[info.index] = t, t + d
    first = min(start.values(), default=0)
    latency = max(end.values(), default=0) - first
    return Timeline(start, end, moves, latency, period or latency, period is not None, {})


def _ready(prob: Problem, info: OpInfo, end: dict[int, int], into: dict, placed: set) -> int:
    ready = 0
    for v in dict.fromkeys(info.op.operands):
        prods = producers_of(v, prob.memo)
        done = max((end[prob.by_op[id(p)].index] for p in prods), default=0)
        m = into.get((info.index, id(v)))
        if m is not None:
            if id(m) not in placed:
                m.start, m.end = done, done + m.cycles
                placed.add(id(m))
            done = m.end
        ready = max(ready, done)
    return ready
