"""Start and end cycles of a placed program: list scheduling in graph order.

Reads the placement from a ``Layout`` value (the placer's candidates, or the layout the schedule
pass reads back from the ops: both see exactly the same thing; nothing here writes the module).
An op occupies its resources (``crossbar:<id>`` for every replica of a tile, ``tile:<chip
tile>`` for a digital op, ``bank:<id>`` for a shard) from its start to its end. A value whose
producer sits on another chip tile than its consumer crosses the mesh: one transfer per (value,
destination tile), shared by every consumer there, sized by what they read and as far as the
farthest replica of the consumer (``moves.py``). A transfer holds every mesh link of its route for
its bytes' serialisation, so transfers that share a link queue behind each other; an op that
first reads off-chip DRAM (an embedding table on a chip without banks) holds the chip's I/O
(``io:0``) for that part.

Pipelined (batch k starts at k x interval), the interval is the busiest resource's occupancy per
batch, and an op goes at the earliest cycle from which its resources are free modulo the
interval (a modulo reservation table), so consecutive batches never collide.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from ir.dialects import pim
from passes._placement.layout import Layout
from passes._placement.moves import Move, plan_moves
from passes._placement.problem import OpInfo, Problem, producers_of
from targets.primitives import Transfer

__all__ = ["IO", "Timeline", "Use", "duration", "resources", "schedule", "uses"]

_NEVER = 1 << 62
_KEY = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}
IO = "io:0"  # the chip's off-chip interface, shared by everything that crosses it


@dataclass(frozen=True)
class Use:
    """An op or a transfer holds `resource` from `offset` cycles after its start, `length` long."""

    resource: str
    offset: int
    length: int


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
        return sum(sum(prob.coster.energy((Transfer(n, prob.mesh.hops(a, b)),)).values())
                   for m in self.moves for (a, b), n in m.sends.items())


def resources(layout: Layout, info: OpInfo) -> list[str]:
    return [f"{_KEY[info.unit]}:{x}" for x in layout.locs(info)]


def uses(layout: Layout, info: OpInfo, d: int) -> list[Use]:
    """What an op of duration `d` holds: its units for the whole time, except that an op that
    first reads off-chip DRAM holds the chip's I/O for that part and its unit for the rest."""
    io = info.io_part(d)
    out = [Use(IO, 0, io)] if io > 0 else []
    return out + [Use(r, io, d - io) for r in dict.fromkeys(resources(layout, info))]


def duration(prob: Problem, layout: Layout, info: OpInfo) -> int:
    r = layout.replicas_of(info)
    group = prob.groups.get(info.group)
    if group is not None and r in group.choices:
        return group.cycles[info.index][group.choices.index(r)]
    return prob.cycles(info.op, r) if r != 1 else info.cycles


def _move_uses(m: Move) -> list[Use]:
    return [Use(link, 0, cycles) for link, cycles in m.occupancy.items()]


class _Busy:
    """One resource's reservations modulo the period: [start, end) with 0 <= start < period,
    sorted by start; they never overlap modulo the period, so their ends are sorted too.
    Back-to-back reservations are kept as one block: a start inside either conflicts with
    both, so a search moves past the whole block in one step instead of one per reservation."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.starts: list[int] = []
        self.ends: list[int] = []

    def conflict(self, t: int, d: int) -> int | None:
        """The absolute end of a reservation overlapping [t, t + d), or None when it is free."""
        period = self.period
        t0 = t % period
        starts, ends = self.starts, self.ends
        n = len(starts)
        for k in (-period, 0, period):  # the reservations' copies one period apart
            i = bisect.bisect_right(ends, t0 - k)
            if i < n and starts[i] + k < t0 + d:
                return t - t0 + ends[i] + k
        return None

    def hold(self, t: int, d: int) -> None:
        s = t % self.period
        e = s + d
        starts, ends = self.starts, self.ends
        i = bisect.bisect_left(starts, s)
        if d <= 0:  # an empty reservation stays on its own (every use here is longer)
            starts.insert(i, s)
            ends.insert(i, e)
        elif i > 0 and ends[i - 1] == s:  # extends the block before it
            if i < len(starts) and starts[i] == e:  # and closes the gap to the next
                ends[i - 1] = ends[i]
                del starts[i], ends[i]
            else:
                ends[i - 1] = e
        elif i < len(starts) and starts[i] == e:  # joins the block after it
            starts[i] = s
        else:
            starts.insert(i, s)
            ends.insert(i, e)


class _Tables:
    """Modulo reservation tables: resource -> the reservations that hold it."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.busy: dict[str, _Busy] = {}

    def _of(self, resource: str) -> _Busy:
        table = self.busy.get(resource)
        if table is None:
            table = self.busy[resource] = _Busy(self.period)
        return table

    def fit(self, wanted: list[Use], ready: int) -> int | None:
        """The earliest start >= ready at which every use (none longer than the period) fits,
        or None (the period is full). Each conflict moves the start to where that reservation
        ends (no earlier start can clear it), until no use conflicts: a fixed point, found in a
        few steps."""
        period = self.period
        probes = [(self._of(u.resource).conflict, u.offset, u.length) for u in wanted]
        t = ready
        while True:
            moved = False
            for conflict, offset, length in probes:
                end = conflict(t + offset, length)
                if end is not None:
                    t, moved = end - offset, True
            if not moved:
                return t
            if t - ready >= period:
                return None

    def hold(self, wanted: list[Use], t: int) -> None:
        for u in wanted:
            self._of(u.resource).hold(t + u.offset, u.length)


def schedule(prob: Problem, layout: Layout, pipelined: bool) -> Timeline:
    """List-schedule the program placed by `layout` (see the module docstring)."""
    durations = {info.index: duration(prob, layout, info) for info in prob.ops}
    wanted = {info.index: uses(layout, info, durations[info.index]) for info in prob.ops}
    moves = plan_moves(prob, layout)
    link_uses = [_move_uses(m) for m in moves]
    occupancy: dict[str, int] = {}
    for u in [u for w in wanted.values() for u in w] + [u for w in link_uses for u in w]:
        occupancy[u.resource] = occupancy.get(u.resource, 0) + u.length
    period = max(occupancy.values(), default=1)
    steps = _steps(prob, durations, wanted, moves, link_uses)
    while True:
        tl = _run(steps, durations, moves, period if pipelined else None)
        if tl is not None:
            break
        period += max(1, period // 64)  # small steps: a coarse one overshoots the interval
    tl.busy = occupancy
    if not pipelined:
        tl.interval = tl.latency
    return tl


def _loads(prob: Problem) -> dict[int, OpInfo]:
    """Streamed weights: the tile op each `pim.load` feeds (its index) -> the load."""
    loads = [info for info in prob.ops if isinstance(info.op, pim.Load)]
    if not loads:
        return {}
    first: dict[int, int] = {}  # value -> the first pim.mvm reading it
    for user in prob.ops:
        if isinstance(user.op, pim.MVM):
            for v in user.op.operands:
                first.setdefault(id(v), user.index)
    out = {}
    for info in loads:
        user = first.get(id(info.op.results[0]))
        if user is not None:
            out[user] = info
    return out


def _with_load(uses: list[Use], load: list[Use], d_load: int) -> list[Use]:
    """A tile op's uses with its weight load just before it: the load's crossbars stay held
    from when the load takes them to the op's end (the loaded tile lives there until it is
    used). A load that streams its tile over the off-chip I/O first (a staging target) takes
    the crossbars only for its last part, so the array computes with the previous tile meanwhile."""
    takes = {u.resource: u.offset for u in load}
    out = [Use(u.resource, takes[u.resource] - d_load, u.length + d_load - takes[u.resource])
           if u.resource in takes and u.offset == 0 else u for u in uses]
    mine = {u.resource for u in uses}
    return out + [Use(u.resource, u.offset - d_load, u.length) for u in load
                  if u.resource not in mine]


# One op of the list schedule: its index, the index of the weight load scheduled with it (or
# None), its longest use, what it holds on resources that something else uses too, the load's
# lead, and per distinct input the producers' indices and the transfer that brings it (with
# that transfer's longest link use and its shared link uses), if any. A resource that only one
# use ever holds is always free when that use is placed, so it is never looked at.
_Step = tuple[int, int | None, int, list[Use], int,
              list[tuple[tuple[int, ...], tuple | None]]]


def _steps(prob: Problem, durations: dict[int, int], wanted: dict[int, list[Use]],
           moves: list[Move], link_uses: list[list[Use]]) -> list[_Step]:
    """What every `_run` of one layout reads, worked out once (only the period differs)."""
    loads = _loads(prob)
    deferred = {load.index for load in loads.values()}
    held: list[tuple[OpInfo, OpInfo | None, list[Use], int]] = []
    for info in prob.ops:
        if info.index in deferred:  # scheduled with the tile op it feeds
            continue
        load = loads.get(info.index)
        uses, lead = wanted[info.index], 0
        if load is not None:
            lead = durations[load.index]
            uses = _with_load(uses, wanted[load.index], lead)
        held.append((info, load, uses, lead))
    count: dict[str, int] = {}
    for w in [h[2] for h in held] + link_uses:
        for u in w:
            count[u.resource] = count.get(u.resource, 0) + 1

    def shared(w: list[Use]) -> tuple[int, list[Use]]:
        return max((u.length for u in w), default=0), [u for u in w if count[u.resource] > 1]

    into = {(c, id(m.value)): (m, *shared(w)) for m, w in zip(moves, link_uses)
            for c in m.consumers}
    steps: list[_Step] = []
    for info, load, uses, lead in held:
        inputs = [(tuple(prob.by_op[id(p)].index for p in producers_of(v, prob.memo)),
                   into.get((info.index, id(v)))) for v in dict.fromkeys(info.op.operands)]
        steps.append((info.index, None if load is None else load.index, *shared(uses), lead,
                      inputs))
    return steps


def _run(steps: list[_Step], durations: dict[int, int], moves: list[Move],
         period: int | None) -> Timeline | None:
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    tables = _Tables(period or _NEVER)  # not pipelined: an absolute timeline
    placed: set[int] = set()
    cap = tables.period  # no use may be longer
    for index, load, longest, uses, lead, inputs in steps:
        if load is not None:
            start[load] = end[load] = 0  # its result: placed below, with this op
        ready = 0  # when every input is there (its transfers scheduled on their links first)
        for prods, move in inputs:
            done = max([end[p] for p in prods], default=0)
            if move is not None:
                m, link_longest, link_uses = move
                if id(m) not in placed:
                    t = tables.fit(link_uses, done) if link_longest <= cap else None
                    if t is None:
                        return None
                    tables.hold(link_uses, t)
                    m.start, m.end = t, t + m.cycles
                    placed.add(id(m))
                done = m.end
            if done > ready:
                ready = done
        # a weight load needs no input: it may run ahead of the op's inputs (a prefetch), so
        # the op starts once its inputs are there and its tile has been loaded
        t = tables.fit(uses, max(ready, lead)) if longest <= cap else None
        if t is None:
            return None
        tables.hold(uses, t)
        if load is not None:
            start[load], end[load] = t - lead, t
        start[index], end[index] = t, t + durations[index]
    first = min(start.values(), default=0)
    latency = max(end.values(), default=0) - first
    return Timeline(start, end, moves, latency, period or latency, period is not None, {})
