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
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from passes._placement.layout import Layout, held
from passes._placement.modulo import Busy, fit
from passes._placement.moves import Move, least_cycles, least_waits, plan_moves, route
from passes._placement.problem import OpInfo, Problem
from passes._placement.resume import Prefix, tracked
from passes._placement.steps import NEVER as _NEVER
from passes._placement.steps import Arrival, Held, Step
from passes._placement.steps import build as _steps
from targets.primitives import Transfer

__all__ = ["IO", "Timeline", "duration", "occupancy", "schedule", "shared_held"]

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


def _uses(layout: Layout, info: OpInfo, d: int) -> list[Held]:
    """What an op of duration `d` holds: its units for the whole time, except that an op with
    an off-chip part (rows read from off-chip DRAM; a staged weight load's transfer) holds the
    chip's I/O for that part first and its unit for the rest."""
    io = info.io_part(d)
    out = [(IO, 0, io)] if io > 0 else []
    locs = held(info.unit, layout.locs(info))
    return out + [(r, io, d - io) for r in _resources(_KEY[info.unit], locs)]


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


def _move_uses(m: Move) -> list[Held]:
    return [(link, 0, cycles) for link, cycles in m.occupancy.items()]


def _never(period: int) -> bool:
    return False


def schedule(prob: Problem, layout: Layout, pipelined: bool,
             loses: Callable[[int], bool] | None = None) -> Timeline | None:
    """List-schedule the program placed by `layout` (see the module docstring). `loses`:
    whether a timeline would be of no use to the caller once its interval is at least a given
    period (pipelined) or its latency at least a given count (not pipelined; non-decreasing in
    it); None (no timeline) once the schedule shows that: the period it would try is one of
    those (the interval is never shorter than the period tried: periods only grow), or an op
    ends that many cycles after the least start so far (the latency is at least that)."""
    if not pipelined:
        return _one_batch(prob, layout, loses)
    durations = _durations(prob, layout)
    gives_up = _never if loses is None else loses
    wanted = _wanted(prob, layout, durations)
    held = _tally(wanted.values())
    # settled by what the ops hold before the transfers are planned, then by what the links
    # hold before the steps are worked out (transfers only add to it)
    if gives_up(max(held.values(), default=1)):
        return None
    moves = plan_moves(prob, layout)
    link_uses = [_move_uses(m) for m in moves]
    held = _tally(link_uses, held)
    period = max(held.values(), default=1)
    if gives_up(period):
        return None
    steps, tables = _steps(prob, durations, wanted, moves, link_uses)
    prefix = Prefix(tables)  # what a retry need not redo
    while True:
        tl = _run(steps, tables, durations, moves, period, prefix)
        if tl is not None:
            break
        period += max(1, period // 64)  # small steps: a coarse one overshoots the interval
        if gives_up(period):
            return None
    tl.busy = held
    return tl


def _one_batch(prob: Problem, layout: Layout,
               loses: Callable[[int], bool] | None) -> Timeline | None:
    """`schedule`, batches one after another. With `loses`, settled by the longest chain of
    op durations (the latency is at least that), then with the waits `least_waits` knows
    before the transfers are planned (they only delay an op), then with each transfer's
    `least_cycles` before they are routed, then with their own cycles; `tails` (what may
    follow each op, ``_tails``) then settles the list schedule as it goes."""
    durations = _durations(prob, layout)
    if loses is not None and (_chain_loses(prob, durations, loses) or
                              _chain_loses(prob, durations, loses, least_waits(prob, layout))):
        return None
    moves = plan_moves(prob, layout, routed=loses is None)
    tails, bar = None, _NEVER
    if loses is not None:
        if _chain_loses(prob, durations, loses, _transfer_waits(prob, moves, least_cycles)):
            return None
        route(prob, moves)
        tails = _tails(prob, durations, _transfer_waits(prob, moves))
        if loses(_longest_chain(durations, tails)):
            return None
        bar = least_losing(loses)
    wanted = _wanted(prob, layout, durations)
    link_uses = [_move_uses(m) for m in moves]
    steps, tables = _steps(prob, durations, wanted, moves, link_uses)
    tl = _run(steps, tables, durations, moves, None, None, bar, None if bar == _NEVER else tails)
    if tl is not None:
        tl.busy, tl.interval = _tally(link_uses, _tally(wanted.values())), tl.latency
    return tl


def occupancy(prob: Problem, layout: Layout) -> dict[str, int]:
    """The cycles each resource is held per batch under `layout` (a pipelined schedule's
    first period is the largest), without scheduling anything."""
    _, wanted = _op_holds(prob, layout)
    return _tally(_transfers(prob, layout)[1], _tally(wanted.values()))


def shared_held(prob: Problem, layout: Layout) -> int:
    """The most cycles per batch that the ops hold a crossbar, a bank or the I/O under
    `layout`, which no choice of chip tiles for the digital ops changes (they hold their chip
    tile and, for an off-chip part, the I/O, whichever tile it is; durations follow the
    replica counts): the interval is at least that."""
    _, wanted = _op_holds(prob, layout)
    return max((c for r, c in _tally(wanted.values()).items() if not r.startswith("tile:")),
               default=0)


def _op_holds(prob: Problem, layout: Layout) -> tuple[dict[int, int], dict[int, list[Held]]]:
    """Each op's duration and what it holds."""
    durations = _durations(prob, layout)
    return durations, _wanted(prob, layout, durations)


def _durations(prob: Problem, layout: Layout) -> dict[int, int]:
    return {info.index: duration(prob, layout, info) for info in prob.ops}


def _wanted(prob: Problem, layout: Layout, durations: dict[int, int]) -> dict[int, list[Held]]:
    return {info.index: _uses(layout, info, durations[info.index]) for info in prob.ops}


def _chain_loses(prob: Problem, durations: dict[int, int], loses: Callable[[int], bool],
                 waits: dict[tuple[int, int], int] | None = None) -> bool:
    """Whether the longest chain of op durations loses, with `waits` (``_tails``'s; none:
    no transfers) between them."""
    return loses(_longest_chain(durations, _tails(prob, durations, waits)))


def _longest_chain(durations: dict[int, int], tails: dict[int, int]) -> int:
    """The longest chain of op durations through the program (`tails`: ``_tails``'s): a
    latency no schedule of them beats (each op ends at least its duration after its
    producers; the first starts at 0)."""
    return max((d + tails[i] for i, d in durations.items()), default=0)


def _tails(prob: Problem, durations: dict[int, int],
           waits: dict[tuple[int, int], int] | None = None) -> dict[int, int]:
    """Per op, the longest chain of op durations after it: the last op ends at least that
    long after it does. `waits`: (producer, consumer) -> cycles the consumer starts at least
    after the producer ends (a transfer between them; none when absent)."""
    tail = dict.fromkeys(durations, 0)
    get = waits.get if waits else None
    for info in reversed(prob.ops):
        c = info.index
        after = durations[c] + tail[c]
        for p in info.preds:
            t = after + get((p, c), 0) if get else after
            if t > tail[p]:
                tail[p] = t
    return tail


def _transfer_waits(prob: Problem, moves: list[Move],
                    cycles: Callable[[Problem, Move], int] | None = None
                    ) -> dict[tuple[int, int], int]:
    """(producer, consumer) -> the cycles of the transfer between them (`cycles(prob, m)`;
    None: the routed move's own): a transfer leaves once its producers have all ended and its
    consumer starts once it has arrived."""
    waits: dict[tuple[int, int], int] = {}
    slots = prob.slots
    for m in moves:
        vid = id(m.value)
        took = m.cycles if cycles is None else cycles(prob, m)
        for c in m.consumers:
            for p in slots(c)[vid][1]:
                if took > waits.get((p, c), 0):
                    waits[(p, c)] = took
    return waits


def _transfers(prob: Problem, layout: Layout) -> tuple[list[Move], list[list[Held]]]:
    """The transfers `layout` needs, and the links each holds."""
    moves = plan_moves(prob, layout)
    return moves, [_move_uses(m) for m in moves]


def _tally(holds: Iterable[list[Held]], held: dict[str, int] | None = None) -> dict[str, int]:
    """`held` (a new dict when None) with the cycles of every hold in `holds` added."""
    held = {} if held is None else held
    get = held.get
    for w in holds:
        for resource, _, length in w:
            held[resource] = get(resource, 0) + length
    return held


def least_losing(loses: Callable[[int], bool]) -> int:
    """The least count (at least 0) that `loses` (non-decreasing) says loses; _NEVER when
    none below it does."""
    if not loses(_NEVER):
        return _NEVER
    lo, hi = 0, _NEVER
    while lo < hi:
        mid = (lo + hi) // 2
        if loses(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _run(steps: list[Step], tables: list[Busy], durations: dict[int, int], moves: list[Move],
         period: int | None, prefix: Prefix | None = None, bar: int = _NEVER,
         tails: dict[int, int] | None = None) -> Timeline | None:
    """One try at `period` (None: not pipelined); None when something fits nowhere in it.
    With a `prefix` (of tries at shorter periods), the steps it covers are not redone, and
    it grows over those of this try that a longer period repeats. Not pipelined: None as well
    once an op ends `bar` or more cycles after the least start so far (the latency, the last
    end less the least start, is then at least `bar`)."""
    cap = period or _NEVER  # not pipelined: an absolute timeline; no use may be longer
    begun = _begin(steps, tables, durations, cap, prefix)
    if begun is None:
        return None
    start, end, k = begun
    least = _NEVER  # the least start so far (a load starts its op's lead earlier)
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
        done = end[index] = t + durations[index]
        start[index] = t
        least = t - lead if t - lead < least else least
        if done + (tails[index] if tails else 0) - least >= bar:
            return None
    first = min(start.values(), default=0)
    latency = max(end.values(), default=0) - first
    return Timeline(start, end, moves, latency, period or latency, period is not None, {})


def _begin(steps: list[Step], tables: list[Busy], durations: dict[int, int], cap: int,
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


def _arrive(arriving: list[Arrival], end: dict[int, int], ready: int, cap: int) -> int:
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
