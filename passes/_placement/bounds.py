"""Lower bounds on the interval and the latency of any placement and schedule of a problem.

Interval (cycles between batch starts when pipelined; every resource does one batch's work
within one interval, since batch k's ops repeat at k x interval and may not collide):

- every crossbar op at its most replicas (the count that fits beside every other op at one
  replica, and never more than its vectors): the interval is at least its time;
- a class of resources (crossbars, chip-tile digital units, banks) does its whole per-batch
  work on its n resources: interval >= ceil(work / n), where a tile's crossbar work at r
  replicas is r x its time at r (at least its work at one replica: ceil(v/r) x r >= v), so we
  take the least over the replica counts;
- no op splits across resources of its class, so interval >= the longest digital op or shard.

Latency (one batch, first start to last end): the longest dependency path with every crossbar
op at its most replicas and every other op at its fixed time, with no transfer except one that
cannot be avoided: a bank op's result always leaves the DRAM stack for a chip tile, at least
one hop with at least the bytes its consumer reads. The per-class work bounds above hold for
one batch too (the work of one batch fits between its first start and its last end).
"""

from __future__ import annotations

import math

from passes._placement.problem import Problem
from passes._placement.timeline import edge_bytes
from targets.primitives import Transfer

__all__ = ["lower_bounds"]


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
        work[info.unit] = work.get(info.unit, 0) + info.cycles
        if info.unit != "crossbar":
            longest = max(longest, info.cycles)
    mesh = prob.mesh
    count = {"crossbar": mesh.crossbars, "bank": mesh.banks,
             "digital": mesh.tiles or max(1, mesh.banks // mesh.banks_per_unit)}
    if prob.streamed:
        count["crossbar"] = mesh.crossbars
    spread = max((math.ceil(w / max(1, count[k])) for k, w in work.items()), default=0)
    return max(spread, longest)


def _best_time(prob: Problem, index: int, cycles: int, group: str) -> int:
    g = prob.groups.get(group)
    return g.cycles[index][-1] if g is not None else cycles


def lower_bounds(prob: Problem) -> tuple[int, int]:
    """(latency, interval) lower bounds in cycles (see the module docstring)."""
    best = {info.index: _best_time(prob, info.index, info.cycles, info.group)
            for info in prob.ops}
    work = _work_bound(prob)
    widest = max((best[i] for g in prob.groups.values() for i in g.ops), default=0)
    interval = max(work, widest)
    units = {info.index: info.unit for info in prob.ops}
    nbytes = edge_bytes(prob)
    end: dict[int, int] = {}
    for info in prob.ops:
        ready = 0
        for p in info.preds:
            move = 0
            if units[p] == "bank" and info.unit != "bank" and prob.mesh.tiles:
                move = prob.coster.cycles((Transfer(nbytes[(p, info.index)], 1),))
            ready = max(ready, end[p] + move)
        end[info.index] = ready + best[info.index]
    latency = max(max(end.values(), default=0), work)
    return latency, interval
