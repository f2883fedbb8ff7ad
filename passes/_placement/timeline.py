"""Start and end cycles of a placed program: list scheduling in graph order.

Reads the placement from a ``Layout`` value (the placer's candidates, or the layout the schedule
pass reads back from the ops: both see exactly the same thing; nothing here writes the module).
An op occupies its resources (``crossbar:<id>`` for every replica of a tile, ``tile:<chip
tile>`` for a digital op, ``bank:<id>`` for a shard) from its start to its end, but for its
off-chip part (see `_uses`). A value whose
producer sits on another chip tile than its consumer crosses the mesh: one transfer per (value,
destination tile), shared by every consumer there, sized by what they read and as far as the
farthest replica of the consumer (``moves.py``). A transfer holds every mesh link of its route for
its bytes' serialisation, so transfers that share a link queue behind each other; an op that
first reads off-chip DRAM (an embedding table on a chip without banks), or a staged weight load
streaming its tile, holds the chip's I/O (``io:0``) for that part.

Pipelined (batch k starts at k x interval), the interval is the busiest resource's occupancy per
batch, and an op goes at the earliest cycle from which its resources are free modulo the
interval (a modulo reservation table), so consecutive batches never collide. When an op fits
nowhere, the period grows by 1/64 and the schedule is tried again; a retry resumes after the
steps that no longer period can change (``resume.py``).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

from ir.dialects import pim
from passes._placement.layout import Layout
from passes._placement.modulo import Busy, Probe, fit
from passes._placement.moves import Move, plan_moves
from passes._placement.problem import OpInfo, Problem
from passes._placement.resume import Bounds, Prefix, tracked
from targets.primitives import Transfer

__all__ = ["IO", "Timeline", "duration", "schedule"]

_NEVER = 1 << 62
_KEY = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}
IO = "io:0"  # the chip's off-chip interface, shared by everything that crosses it


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
        known: dict[tuple[int, int], float] = {}  # (bytes, hops) -> J: sends repeat

        def joules(n: int, hops: int) -> float:
            got = known.get((n, hops))
            if got is None:
                got = known[(n, hops)] = sum(prob.coster.energy((Transfer(n, hops),)).values())
            return got

        hops = prob.mesh.hops
        return sum(joules(n, hops(a, b)) for m in self.moves for (a, b), n in m.sends.items())


# What an op or a transfer holds: (resource, offset from its start, length) as plain tuples,
# one per resource, layout and op (a NamedTuple costs several times a tuple).
_Held = tuple[str, int, int]


def _uses(layout: Layout, info: OpInfo, d: int) -> list[_Held]:
    """What an op of duration `d` holds: its units for the whole time, except that an op with
    an off-chip part (rows read from off-chip DRAM; a staged weight load's transfer) holds the
    chip's I/O for that part first and its unit for the rest."""
    io = info.io_part(d)
    out = [(IO, 0, io)] if io > 0 else []
    return out + [(r, io, d - io) for r in _resources(_KEY[info.unit], layout.locs(info))]


@functools.lru_cache(maxsize=1 << 13)
def _resources(kind: str, locs: tuple[int, ...]) -> tuple[str, ...]:
    """The distinct resource names of `locs` (layouts share most locations)."""
    return tuple(dict.fromkeys(f"{kind}:{x}" for x in locs))


def duration(prob: Problem, layout: Layout, info: OpInfo) -> int:
    r = layout.replicas_of(info)
    group = prob.groups.get(info.group)
    if group is not None and r in group.choices:
        return group.cycles[info.index][group.choices.index(r)]
    return prob.cycles(info.op, r) if r != 1 else info.cycles


def _move_uses(m: Move) -> list[_Held]:
    return [(link, 0, cycles) for link, cycles in m.occupancy.items()]


def _never(period: int) -> bool:
    return False


def schedule(prob: Problem, layout: Layout, pipelined: bool,
             loses: Callable[[int], bool] | None = None) -> Timeline | None:
    """List-schedule the program placed by `layout` (see the module docstring). `loses`: for
    a pipelined schedule, whether an interval of at least a given period would be of no use to
    the caller; None (no timeline) once the period it would try is one of those (the interval
    is never shorter than the period tried: periods only grow)."""
    durations = {info.index: duration(prob, layout, info) for info in prob.ops}
    wanted = {info.index: _uses(layout, info, durations[info.index]) for info in prob.ops}
    moves = plan_moves(prob, layout)
    link_uses = [_move_uses(m) for m in moves]
    occupancy: dict[str, int] = {}
    get = occupancy.get
    for w in chain(wanted.values(), link_uses):
        for resource, _, length in w:
            occupancy[resource] = get(resource, 0) + length
    period = max(occupancy.values(), default=1)
    gives_up = loses if pipelined and loses is not None else _never
    if gives_up(period):  # settled before the steps are even worked out
        return None
    steps, tables = _steps(prob, durations, wanted, moves, link_uses)
    prefix = Prefix(tables) if pipelined else None  # what a retry need not redo
    while True:
        tl = _run(steps, tables, durations, moves, period if pipelined else None, prefix)
        if tl is not None:
            break
        period += max(1, period // 64)  # small steps: a coarse one overshoots the interval
        if gives_up(period):
            return None
    tl.busy = occupancy
    if not pipelined:
        tl.interval = tl.latency
    return tl


def _loads(prob: Problem) -> dict[int, OpInfo]:
    """Streamed weights: the tile op each `pim.load` feeds (its index) -> the load."""
    loads = [info for info in prob.ops if isinstance(info.op, pim.Load)]
    if not loads:
        return {}
    out = {}
    for info in loads:
        user = prob.first_mvm_reader(info.op.results[0])
        if user is not None:
            out[user] = info
    return out


def _with_load(uses: list[_Held], load: list[_Held], d_load: int) -> list[_Held]:
    """A tile op's uses with its weight load just before it: the load's crossbars stay held
    from when the load takes them to the op's end (the loaded tile lives there until it is
    used). A load that streams its tile over the off-chip I/O first (a staging target) takes
    the crossbars only for its last part, so the array computes with the previous tile meanwhile."""
    takes = {r: offset for r, offset, _ in load}
    out = [(r, takes[r] - d_load, length + d_load - takes[r])
           if r in takes and offset == 0 else (r, offset, length) for r, offset, length in uses]
    mine = {r for r, _, _ in uses}
    return out + [(r, offset - d_load, length) for r, offset, length in load if r not in mine]


# One op of the list schedule: its index, the index of the weight load scheduled with it (or
# None), its longest use, what it holds on resources that something else uses too and those
# probes' bounds (``resume.Bounds``), the load's lead, the indices of all its producers, and
# the transfers that bring its inputs in the order of its operands (each with its input's
# producers, the move, its longest link use, its shared link uses and their bounds, and
# whether this step is the first the move serves: that step places it). A resource that only
# one use ever holds is always free when that use is placed, so it is never looked at.
_Arrival = tuple[tuple[int, ...], Move, int, list[Probe], Bounds, bool]
_Step = tuple[int, int | None, int, list[Probe], Bounds, int, tuple[int, ...], list[_Arrival]]


def _steps(prob: Problem, durations: dict[int, int], wanted: dict[int, list[_Held]],
           moves: list[Move], link_uses: list[list[_Held]]) -> tuple[list[_Step], list[Busy]]:
    """What every `_run` of one layout reads, worked out once (only the period differs), and
    the reservation tables of the resources that more than one use holds."""
    loads = _loads(prob)
    deferred = {load.index for load in loads.values()}
    held: list[tuple[OpInfo, OpInfo | None, list[_Held], int]] = []
    for info in prob.ops:
        if info.index in deferred:  # scheduled with the tile op it feeds
            continue
        load = loads.get(info.index)
        uses, lead = wanted[info.index], 0
        if load is not None:
            lead = durations[load.index]
            uses = _with_load(uses, wanted[load.index], lead)
        held.append((info, load, uses, lead))
    count = Counter(map(itemgetter(0), chain.from_iterable(
        chain((h[2] for h in held), link_uses))))
    tables: dict[str, Busy] = {}

    def shared(w: list[_Held]) -> tuple[int, list[Probe], Bounds]:
        return _shared(w, count, tables)

    into: dict[int, list[tuple[int, tuple[int, ...], tuple]]] = {}
    for m, w in zip(moves, link_uses):
        entry = (m, *shared(w))
        for c in m.consumers:
            position, prods = prob.slots(c)[id(m.value)]
            into.setdefault(c, []).append((position, prods, entry))
    steps: list[_Step] = []
    seen: set[int] = set()  # moves already brought in by an earlier step
    for info, load, uses, lead in held:
        steps.append((info.index, None if load is None else load.index, *shared(uses), lead,
                      info.preds, _arrivals(into.get(info.index, ()), seen)))
    return steps, list(tables.values())


def _shared(w: list[_Held], count: Counter, tables: dict[str, Busy]) -> tuple[int, list[Probe],
                                                                            Bounds]:
    """Of uses `w`: the longest, the probes of those on resources that more than one use holds
    (`count`; their tables made as needed), and the probes' bounds."""
    probes: list[Probe] = []
    longest = w[0][2] if w else 0
    least, most, far = _NEVER, -_NEVER, -_NEVER  # the probes' bounds
    for r, offset, length in w:
        if length > longest:
            longest = length
        if count[r] > 1:
            table = tables.get(r)
            if table is None:
                table = tables[r] = Busy(_NEVER)
            probes.append((table, offset, length))
            least, most, far = (min(least, offset), max(most, offset),
                                max(far, offset + length))
    return longest, probes, (least, most, far) if probes else None


def _arrivals(into: list[tuple[int, tuple[int, ...], tuple]], seen: set[int]) -> list[_Arrival]:
    """The transfers into one op in the order of its operands; `seen`: the moves an earlier
    step already brings (added to)."""
    out: list[_Arrival] = []
    for _, prods, (m, link_longest, link_probes, bounds) in sorted(into, key=lambda x: x[0]):
        out.append((prods, m, link_longest, link_probes, bounds, id(m) not in seen))
        seen.add(id(m))
    return out


def _run(steps: list[_Step], tables: list[Busy], durations: dict[int, int], moves: list[Move],
         period: int | None, prefix: Prefix | None = None) -> Timeline | None:
    """One try at `period` (None: not pipelined); None when something fits nowhere in it.
    With a `prefix` (of tries at shorter periods), the steps it covers are not redone, and
    it grows over those of this try that a longer period repeats."""
    cap = period or _NEVER  # not pipelined: an absolute timeline; no use may be longer
    begun = _begin(steps, tables, durations, cap, prefix)
    if begun is None:
        return None
    start, end, k = begun
    for index, load, longest, uses, _, lead, preds, arriving in steps[k:]:
        if load is not None:
            start[load] = end[load] = 0  # its result: placed below, with this op
        # when every input is there: a transfer arrives after its producers end, so the
        # inputs it brings count from its arrival (its links are reserved first, in order,
        # by the first step it brings an input to)
        ready = max([end[p] for p in preds], default=0)
        if arriving:
            ready = _arrive(arriving, end, ready, cap)
            if ready < 0:
                return None
        # a weight load needs no input: it may run ahead of the op's inputs (a prefetch), so
        # the op starts once its inputs are there and its tile has been loaded
        t = fit(uses, ready if ready > lead else lead, cap) if longest <= cap else None
        if t is None:
            return None
        for table, offset, length in uses:
            table.hold(t + offset, length)
        if load is not None:
            start[load], end[load] = t - lead, t
        start[index], end[index] = t, t + durations[index]
    first = min(start.values(), default=0)
    latency = max(end.values(), default=0) - first
    return Timeline(start, end, moves, latency, period or latency, period is not None, {})


def _begin(steps: list[_Step], tables: list[Busy], durations: dict[int, int], cap: int,
           prefix: Prefix | None) -> tuple[dict[int, int], dict[int, int], int] | None:
    """The start and end cycles after the steps a try need not redo (and the first step left):
    none without a prefix; else the prefix's and those after it that a longer period repeats
    (which extend it). None when one of those fits nowhere in the period."""
    if prefix is None:
        for table in tables:
            table.reset(cap)
        return {}, {}, 0
    start, end = prefix.restore(tables, cap)
    k, ok = tracked(steps, prefix.steps, durations, start, end, cap, prefix)
    return (start, end, k) if ok else None


def _arrive(arriving: list[_Arrival], end: dict[int, int], ready: int, cap: int) -> int:
    """When the transfers into an op have all arrived (at least `ready`), placing those that
    this op is the first to need; -1 when one fits nowhere in the period."""
    for prods, m, link_longest, link_uses, _, first in arriving:
        if first:
            done = max([end[p] for p in prods], default=0)
            t = fit(link_uses, done, cap) if link_longest <= cap else None
            if t is None:
                return -1
            for table, offset, length in link_uses:
                table.hold(t + offset, length)
            m.start, m.end = t, t + m.cycles
        if m.end > ready:
            ready = m.end
    return ready
