"""Lower bounds on the interval and the latency of any placement and schedule of a problem.

Interval (cycles between batch starts when pipelined; every resource does one batch's work
within one interval, since batch k's ops repeat at k x interval and may not collide):

- every crossbar op at its most replicas (the count that fits beside every other op at one
  replica, and never more than its vectors): the interval is at least its time;
- a class of resources (crossbars, chip-tile digital units, banks) does its whole per-batch
  work on its n resources: interval >= ceil(work / n), where a tile's crossbar work at r
  replicas is r x its time at r (at least its work at one replica: ceil(v/r) x r >= v), so we
  take the least over the replica counts;
- the crossbars are shared: an interval T needs every crossbar op at a replica count whose
  time is within T, so at least the fewest such replicas of each, and their tiles must fit
  in the chip's crossbars together: interval >= the least T at which they fit (a sum over
  ops, where the bound above looks at one op alone with every other at one replica);
- no op splits across resources of its class, so interval >= the longest digital op or shard;
- the chip's off-chip I/O is one resource: interval >= the cycles every lookup of a table in
  off-chip DRAM holds it per batch (that part of an op's time is on the I/O, not on its unit).

Latency (one batch, first start to last end): the longest dependency path with every crossbar
op at its most replicas and every other op at its fixed time, with no transfer except one that
cannot be avoided: a bank op's result always leaves the DRAM stack for a chip tile, at least
one hop with at least the bytes its consumer reads. The per-class work bounds above hold for
one batch too (the work of one batch fits between its first start and its last end).

Crossbar ops whose input must cross the mesh (latency): a tile op reads its input value
without a transfer only when every one of its replicas sits on the chip tile of the value's
(first) producer; a chip tile holds ``per_tile`` crossbars, so at ``r`` replicas at most
``q = per_tile // r`` tile ops of an op can do so, and every other tile op waits for a
transfer of at least its share of the bytes it reads (replicas split the input vectors, so one
copy's tile receives at least 1/r of them) over at least one hop after that producer ends
(transfers grow with bytes and hops). All tiles of an op share ``r``. With ``head`` (earliest
start) and ``tail`` (longest path from an op's end to the last end, at best times) as above,
the op at ``r`` makes latency at least max(max over tiles of head + time_r + tail, the
(q+1)-th largest over tiles of (producer end + transfer, head).max + time_r + tail); the
placer picks ``r``, so the bound takes the least over the op's replica counts.
"""

from __future__ import annotations

import math

import numpy as np

from passes._placement.moves import edge_bytes, read_bytes
from passes._placement.problem import Problem, producers_of
from targets.primitives import Transfer

__all__ = ["interval_bound", "lower_bounds"]


def _work_bound(prob: Problem) -> int:
    """max over resource classes of ceil(work / resources), and the longest indivisible op."""
    work: dict[str, int] = {}
    longest = 0
    for info in prob.ops:
        g = prob.groups.get(info.group)
        if g is not None:
            c = g.cycles[info.index]
            work["crossbar"] = work.get("crossbar", 0) + min(
                r * c[k] for k, r in enumerate(g.choices))
            continue
        io = info.io_part(info.cycles)
        work["io"] = work.get("io", 0) + io
        work[info.unit] = work.get(info.unit, 0) + info.cycles - io
        if info.unit != "crossbar":
            longest = max(longest, info.cycles - io)
    mesh = prob.mesh
    count = {"crossbar": mesh.crossbars, "bank": mesh.banks, "io": 1,
             "digital": mesh.chip_tiles or max(1, mesh.banks // mesh.banks_per_unit)}
    shared = max((math.ceil(w / max(1, count[k])) for k, w in work.items()), default=0)
    return max(shared, longest)


def _best_time(prob: Problem, index: int, cycles: int, group: str) -> int:
    g = prob.groups.get(group)
    return g.cycles[index][-1] if g is not None else cycles


def _forced(prob: Problem, units: dict[int, str], nbytes: dict, p: int, c: int) -> int:
    """The transfer from op p to op c that no placement avoids (a bank result to the chip)."""
    if units[p] == "bank" and units[c] != "bank" and prob.mesh.chip_tiles:
        return prob.coster.cycles((Transfer(nbytes[(p, c)], 1),))
    return 0


def _paths(prob: Problem, best: dict[int, int], nbytes: dict) -> tuple[dict, dict]:
    """(end, tail) of every op: earliest end and longest path after it, at best times."""
    units = {info.index: info.unit for info in prob.ops}
    end: dict[int, int] = {}
    for info in prob.ops:
        ready = max((end[p] + _forced(prob, units, nbytes, p, info.index) for p in info.preds),
                    default=0)
        end[info.index] = ready + best[info.index]
    tail = {info.index: 0 for info in prob.ops}
    for info in reversed(prob.ops):
        for p in info.preds:
            after = _forced(prob, units, nbytes, p, info.index) + best[info.index]
            tail[p] = max(tail[p], after + tail[info.index])
    return end, tail


def _input(prob: Problem, end: dict, index: int) -> tuple[int | None, int, int]:
    """Of a tile op: (its input's producers' end, or None when the input cannot cross; its
    head; the bytes it reads of the input)."""
    info = prob.by_op[id(prob.module.main.ops[index])]
    value = info.op.operands[0]
    prods = producers_of(value, prob.memo)
    head = end[index] - prob.groups[info.group].cycles[index][-1]
    if not prods or not prob.mesh.chip_tiles:
        return None, head, 0
    done = max(end[prob.by_op[id(p)].index] for p in prods)
    return done, head, read_bytes(prob, info, value)


def _crossing_bound(prob: Problem, end: dict, tail: dict) -> int:
    """Latency bound from crossbar ops whose inputs must cross (module docstring). A tile op
    whose input crosses, at r copies, starts no earlier than its producers' end + the least
    transfer of its share of the input (a chip tile holding one copy receives at least that)."""
    out = 0
    per_tile = max(1, prob.mesh.crossbars_per_chip_tile)
    transfer: dict[int, int] = {}  # bytes -> cycles of one hop: many tiles send the same

    def moved(done: int, nbytes: int, r: int) -> int:
        share = max(1, math.ceil(nbytes / r))
        got = transfer.get(share)
        if got is None:
            got = transfer[share] = prob.coster.cycles((Transfer(share, 1),))
        return done + got

    for g in prob.groups.values():
        inputs = [(i, *_input(prob, end, i)) for i in g.ops]
        least = None
        for k, r in enumerate(g.choices):
            stay, cross = 0, []
            for i, done, head, nbytes in inputs:
                rest = g.cycles[i][k] + tail[i]
                stay = max(stay, head + rest)
                arrive = head if done is None else max(moved(done, nbytes, r), head)
                cross.append(arrive + rest)
            cross.sort(reverse=True)
            q = per_tile // r
            value = max(stay, cross[q]) if q < len(cross) else stay
            least = value if least is None else min(least, value)
        out = max(out, least or 0)
    return out


def _widest(prob: Problem) -> int:
    """The longest crossbar op at its most replicas."""
    return max((g.cycles[i][-1] for g in prob.groups.values() for i in g.ops), default=0)


def _capacity(prob: Problem) -> int:
    """The least interval at which every crossbar op, at the fewest replicas that run it
    within the interval, fits in the crossbars beside the others (module docstring); 0 when
    not even one replica of each fits. Streamed weights need no case of their own: where
    their tiles take turns, not all of them fit; where they all fit, each op has one replica
    and the interval is at least its time, which is at least this. Worked out once per
    problem (place and lower-bound both read it)."""
    if prob.capacity is None:
        prob.capacity = _least_fitting(list(prob.groups.values()), prob.mesh.crossbars)
    return prob.capacity


def _least_fitting(groups: list, room: int) -> int:
    if not groups:
        return 0
    width = max(len(g.choices) for g in groups)
    never = np.iinfo(np.int64).max  # the time of a replica count an op does not have
    times = np.full((len(groups), width), never, np.int64)
    counts = np.zeros((len(groups), width), np.int64)
    for row, g in enumerate(groups):
        times[row, :len(g.choices)] = [g.duration(k) for k in range(len(g.choices))]
        counts[row, :len(g.choices)] = g.choices
    tiles = np.array([g.weight_tiles for g in groups], np.int64)

    def fits(interval: int) -> bool:  # an op with no count within it needs more than the room
        least = np.where(times <= interval, counts, room + 1).min(axis=1)
        return int((tiles * least).sum()) <= room

    # the answer is one op's time at one count; repeats do no harm to the search (np.unique
    # would drop them, but its first call imports numpy.ma: 5 ms of a small compile)
    values = np.sort(times[times != never], axis=None)
    lo, hi = 0, len(values) - 1
    if not fits(values[hi]):
        return 0
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(values[mid]) else (mid + 1, hi)
    return int(values[lo])


def interval_bound(prob: Problem) -> int:
    """The interval's lower bound alone (the latency's paths are not needed for it)."""
    return max(_work_bound(prob), _widest(prob), _capacity(prob))


def lower_bounds(prob: Problem) -> tuple[int, int]:
    """(latency, interval) lower bounds in cycles (see the module docstring), worked out once
    per problem."""
    if prob.bounds is None:
        prob.bounds = _bounds(prob)
    return prob.bounds


def _bounds(prob: Problem) -> tuple[int, int]:
    best = {info.index: _best_time(prob, info.index, info.cycles, info.group)
            for info in prob.ops}
    work = _work_bound(prob)
    interval = max(work, _widest(prob), _capacity(prob))
    nbytes = edge_bytes(prob)
    end, tail = _paths(prob, best, nbytes)
    crossing = 0 if prob.streamed else _crossing_bound(prob, end, tail)
    latency = max(max(end.values(), default=0), work, crossing)
    return latency, interval
