"""A placement (replica counts, snake positions, banks, a digital strategy) and its score.

Crossbar op ``g`` whose tiles take ``t`` crossbars, at ``r`` replicas, occupies snake
positions ``start .. start + t*r - 1``: replica ``j`` of its ``k``-th crossbar (its tiles' in
graph order) sits at ``start + j*t + k``; a tile's ``pim.loc`` lists its crossbars replica by
replica.
Shards go to banks balanced by expected lookups (longest first onto the least-loaded bank that
still has room). Digital ops sit on the chip tile of their first producer (``anchored``: the
port's tile for bank producers; the producer bank's near-bank unit on a target with no chip),
where they finish first (``earliest-finish``), or load-balanced over the chip tiles
(``balanced``; both in
``digital.py``). A placement is turned into a ``Layout`` value and scored without touching the
module; the placer writes only the one it keeps.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ir.errors import PimcError
from passes._costing.op_primitives import table_bytes
from passes._placement.digital import balanced, earliest_finish
from passes._placement.layout import Layout
from passes._placement.problem import OpInfo, Problem
from passes._placement.timeline import Timeline, occupancy, schedule, shared_held

__all__ = ["DIGITAL_STRATEGIES", "OBJECTIVES", "PIPELINED_OBJECTIVES", "Placement", "Score",
           "assign_banks", "evaluate", "keep_timeline", "layout_of", "occupancy_of",
           "timeline_of"]

OBJECTIVES = ("latency", "throughput", "energy", "mix")
# Objectives whose batches overlap: throughput and mix by definition; energy too, since a batch
# then pays leakage over one interval instead of over its whole latency.
PIPELINED_OBJECTIVES = ("throughput", "mix", "energy")
DIGITAL_STRATEGIES = ("anchored", "earliest-finish", "balanced")


@dataclass(frozen=True)
class Placement:
    replicas: dict[str, int]
    start: dict[str, int]
    banks: dict[int, int]
    digital: str = "anchored"  # where digital ops go: one of DIGITAL_STRATEGIES

    def used(self, prob: Problem) -> int:
        return sum(g.weight_tiles * self.replicas[n] for n, g in prob.groups.items())


@dataclass(frozen=True)
class Score:
    latency: int
    interval: int
    energy: float
    value: float


def assign_banks(prob: Problem) -> dict[int, int]:
    """Shards onto banks: longest expected time first, onto the least-loaded bank with room
    (the lowest-numbered on a tie). The banks wait in a heap by (load, bank): a scan of every
    bank for every shard was 5 ms of a nasrec-float candidate on hetero (208 shards, 256
    banks)."""
    shards = prob.shards()
    if not shards:
        return {}
    mesh = prob.mesh
    if mesh.banks == 0:
        raise PimcError(f"target '{prob.target.name}' has no DRAM banks for pim.gather shards; "
                        "partition embeddings onto another unit")
    room = [mesh.bank_bytes] * mesh.banks
    banks = [(0, b) for b in range(mesh.banks)]  # (load, bank), in heap order already
    out = {}
    for info in sorted(shards, key=lambda s: (-s.cycles, s.index)):
        size = table_bytes(info.op)
        full = []  # least loaded first, but without room for this shard
        while banks and room[banks[0][1]] < size:
            full.append(heapq.heappop(banks))
        if not banks:
            raise PimcError(f"shard {info.op.attrs['shard']} of {info.op.attrs['op']} "
                            f"({size} bytes) fits in no bank of {mesh.bank_bytes} bytes")
        load, bank = heapq.heappop(banks)
        room[bank] -= size
        out[info.index] = bank
        heapq.heappush(banks, (load + info.cycles, bank))
        for item in full:
            heapq.heappush(banks, item)
    return out


def layout_of(prob: Problem, place: Placement) -> Layout:
    """Where `place` puts every op with a unit (pure: nothing is written)."""
    return _digital(prob, place.digital, _anchored(prob, place))


def _digital(prob: Problem, strategy: str, anchored: Layout) -> Layout:
    """`anchored` with its digital ops where `strategy` puts them (the crossbar and bank ops
    stay: every strategy starts from the anchored layout of one placement)."""
    if strategy == "balanced":
        return anchored.with_locs(balanced(prob, anchored))
    if strategy == "earliest-finish":
        return anchored.with_locs(earliest_finish(prob, anchored))
    return anchored


def _anchored(prob: Problem, place: Placement) -> Layout:
    """`place`'s layout with its digital ops anchored (whatever its strategy)."""
    mesh = prob.mesh
    loc: dict[int, tuple[int, ...]] = {}
    replicas: dict[int, int] = {}
    for name, g in prob.groups.items():
        r = place.replicas[name]
        loc.update(zip(g.ops, _group_locs(prob, name, r, place.start[name])))
        replicas.update(dict.fromkeys(g.ops, r))
    for info in prob.ops:
        if info.unit == "bank" and info.index in place.banks:
            loc[info.index] = (place.banks[info.index],)
        elif info.unit == "bank":  # near-bank GEMV runs in all-bank mode, as HBM-PIM does
            loc[info.index] = tuple(range(mesh.banks))
        elif info.unit == "digital":
            loc[info.index] = (_anchor(prob, loc, info),)
        elif not info.group:
            loc[info.index] = _crossbars_of_user(prob, loc, info)
    return Layout(loc, replicas)


def _group_locs(prob: Problem, name: str, r: int, start: int) -> list[tuple[int, ...]]:
    """The crossbars of every tile of crossbar op `name` at `r` replicas from snake position
    `start` (the same for every placement that puts it there: worked out once): replica j of
    tile i, crossbar x, at snake position start + j * (crossbars of a copy) + (the crossbars of
    the tiles before i) + x, replica by replica. Worked out for all its tiles at once in numpy
    (one by one in Python, 2.7 ms of a nasrec-float search-loop candidate on isaac)."""
    key = (name, r, start)
    got = prob.group_locs.get(key)
    if got is None:
        g = prob.groups[name]
        per = np.fromiter((g.crossbars_of(i) for i in g.ops), np.int64, len(g.ops))
        size = per * r  # each tile's crossbars over its replicas
        ends = np.cumsum(size)
        tile = np.repeat(np.arange(len(per)), size)
        k = np.arange(int(ends[-1])) - np.repeat(ends - size, size)  # within its tile
        c = per[tile]
        first = (np.cumsum(per) - per)[tile]
        ids = prob.mesh.crossbars_at(start + k // c * g.weight_tiles + first + k % c).tolist()
        got = [tuple(ids[a:b]) for a, b in zip((0, *ends[:-1].tolist()), ends.tolist())]
        prob.group_locs[key] = got
    return got


def _anchor(prob: Problem, loc: dict[int, tuple[int, ...]], info: OpInfo) -> int:
    mesh = prob.mesh
    for p in info.preds:
        pred = prob.by_index[p]
        here = loc.get(pred.index)
        if not here:
            continue
        if pred.unit == "crossbar":
            return mesh.chip_tile_of(here[0])
        if pred.unit == "digital":
            return here[0]
        return mesh.port_chip_tile() if mesh.chip_tiles else here[0] // mesh.banks_per_unit
    return mesh.port_chip_tile() if mesh.chip_tiles else 0


def _crossbars_of_user(prob: Problem, loc: dict[int, tuple[int, ...]],
                       info: OpInfo) -> tuple[int, ...]:
    """A crossbar op that is no tile (a pim.load): the crossbars of the tile it feeds."""
    user = prob.first_mvm_reader(info.op.results[0])
    if user is not None:
        return loc[user]
    raise PimcError(f"{info.op.name} (op {info.index}) is on a crossbar but feeds no pim.mvm")


def evaluate(prob: Problem, place: Placement, objective: str, weights: tuple[float, ...],
             refs: Score | None = None,
             beat: float | None = None) -> tuple[Score, Timeline, Layout] | None:
    """Lay out `place`, schedule it and score it on `objective` (mix: weighted, over `refs`);
    the module is not touched. Energy is what placement changes per batch: the network's
    transfers plus leakage over the cycles a batch holds the chip (the interval when batches
    overlap, else the latency); the ops' own dynamic energy is the same for every placement.
    `beat`: a value the caller keeps unless this one is below it; None as soon as the schedule
    shows it cannot be (its periods only grow, so a failed try can settle it)."""
    pipelined = objective in PIPELINED_OBJECTIVES
    loses = None if beat is None else functools.partial(
        _loses, prob, objective, weights, refs, beat, pipelined)
    if pipelined and loses is not None and place.digital != "anchored" and \
            loses(_shared_held(prob, place)):
        return None  # settled before this strategy's layout is worked out
    layout = _layout(prob, place)
    tl = timeline_of(prob, layout, pipelined, loses)
    if tl is None:
        return None
    energy = tl.network_energy(prob) + prob.leakage_per_cycle * tl.interval
    parts = (tl.latency, tl.interval, energy)
    return Score(tl.latency, tl.interval, energy, _value(objective, weights, refs, parts)), tl, \
        layout


def occupancy_of(prob: Problem, place: Placement) -> dict[str, int]:
    """The cycles each resource is held per batch under `place` (its timeline's ``busy``),
    without scheduling it."""
    return occupancy(prob, _layout(prob, place))


def _shared_held(prob: Problem, place: Placement) -> int:
    """The most cycles per batch that the ops of `place` hold a crossbar, a bank or the I/O,
    whichever digital strategy (``timeline.shared_held`` of its anchored layout, once per
    problem): an interval no strategy of `place` beats. Not for the latency: the strategies
    share their longest chain of op durations too, but on the search loop's candidates it
    settled too few of them to pay for working it out."""
    key = _crossbars(place)
    got = prob.held.get(key)
    if got is None:
        got = prob.held[key] = shared_held(prob, _layout(prob, dataclasses.replace(
            place, digital="anchored")))
    return got


def _crossbars(place: Placement) -> tuple:
    return (tuple(sorted(place.replicas.items())), tuple(sorted(place.start.items())),
            tuple(sorted(place.banks.items())))


def _layout(prob: Problem, place: Placement) -> Layout:
    """`layout_of(prob, place)`, once per problem: growth stops often give one placement
    twice, and the digital strategies of one placement share its anchored layout."""
    crossbars = _crossbars(place)
    layout = prob.layouts.get((*crossbars, place.digital))
    if layout is None:
        anchored = prob.layouts.get((*crossbars, "anchored"))
        if anchored is None:
            anchored = prob.layouts[(*crossbars, "anchored")] = _anchored(prob, place)
        layout = prob.layouts[(*crossbars, place.digital)] = _digital(prob, place.digital,
                                                                      anchored)
    return layout


def timeline_of(prob: Problem, layout: Layout, pipelined: bool,
                loses: Callable[[int], bool] | None = None) -> Timeline | None:
    """`timeline.schedule` of `layout`, once per problem: strategies and growth stops often
    land on one layout, and the schedule pass reads back the one place chose (a timeline
    given up by `loses` is not kept)."""
    key = _timeline_key(layout, pipelined)
    tl = prob.timelines.get(key)
    if tl is None:
        tl = schedule(prob, layout, pipelined=pipelined, loses=loses)
        if tl is not None:
            prob.timelines[key] = tl
    return tl


def _timeline_key(layout: Layout, pipelined: bool) -> tuple:
    return pipelined, tuple(sorted(layout.loc.items())), tuple(sorted(layout.replicas.items()))


def keep_timeline(prob: Problem, layout: Layout, pipelined: bool) -> None:
    """Forget every scored layout and timeline but `layout`'s: what the passes after place
    read of its search."""
    key = _timeline_key(layout, pipelined)
    kept = prob.timelines.get(key)
    prob.timelines.clear()
    prob.layouts.clear()
    prob.held.clear()
    prob.least.clear()
    if kept is not None:
        prob.timelines[key] = kept


def _value(objective: str, weights: tuple[float, ...], refs: Score | None,
           parts: tuple[float, float, float]) -> float:
    """The objective's value of (latency, interval, energy) (mix: weighted, over `refs`)."""
    if objective == "mix":
        base = (refs.latency, refs.interval, refs.energy) if refs else parts
        return sum(w * p / max(b, 1e-30) for w, p, b in zip(weights, parts, base))
    return float(parts[OBJECTIVES.index(objective)])


def _loses(prob: Problem, objective: str, weights: tuple[float, ...], refs: Score | None,
           beat: float, pipelined: bool, cycles: int) -> bool:
    """Whether a schedule cannot score below `beat` when its interval (pipelined) or its
    latency (not pipelined, where the interval is the latency) is at least `cycles`: its
    value is at least that of no latency (pipelined) or a latency of `cycles`, an interval of
    `cycles` and only the leakage over it (no network energy), every part counting with a
    non-negative weight (so the answer never falls as `cycles` grows)."""
    if objective == "mix" and refs is None:  # weighed over its own parts: nothing to bound
        return False
    latency = 0 if pipelined else cycles
    least = _value(objective, weights, refs,
                   (latency, cycles, prob.leakage_per_cycle * cycles))
    return least >= beat
