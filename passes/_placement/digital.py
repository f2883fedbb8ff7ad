"""Chip tiles for digital ops: by earliest finish (a list schedule in graph order), or balanced.

With the crossbar and bank ops placed, every digital op in graph order goes to the candidate
chip tile where it would finish first, counting the transfers of its inputs (bytes over the
link plus hops) and the ops already on that tile's digital unit, plus the transfer its result
then needs to reach its crossbar consumers. Candidates: its producers' tiles, its crossbar
consumers' tiles, the port's tile and the tile whose digital unit frees first (so independent
branches spread out instead of queueing on one tile). Ties keep the earlier candidate, so the
choice is deterministic. Pure: both functions take a layout and return the digital ops' new
locations; nothing is written.
"""

from __future__ import annotations

import heapq

from passes._placement.layout import Layout, held
from passes._placement.mesh import PORT
from passes._placement.moves import edge_bytes, reach
from passes._placement.problem import OpInfo, Problem
from passes._placement.timeline import duration
from targets.primitives import Transfer

__all__ = ["balanced", "earliest_finish"]


def _consumers(prob: Problem) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for info in prob.ops:
        for p in info.preds:
            out.setdefault(p, []).append(info.index)
    return out


class _ListSchedule:
    """A list schedule in graph order that chooses digital ops' tiles as it goes."""

    def __init__(self, prob: Problem, layout: Layout) -> None:
        self.prob = prob
        self.layout = layout
        self.loc: dict[int, tuple[int, ...]] = {}  # digital ops placed so far
        self.work = Layout(dict(layout.loc), layout.replicas)  # `layout` with those applied
        self.info = prob.by_index
        self.reached: dict[int, tuple[int, ...]] = {}  # reach's cache (reset when an op moves)
        self.xbar_users: dict[int, list[int]] = {}  # crossbar_users' cache
        self.outs: dict[int, tuple] = {}  # out_groups' cache
        self.nbytes = edge_bytes(prob)
        self.users = _consumers(prob)
        self.end: dict[int, int] = {}
        self.free: dict[tuple[str, int], int] = {}  # (unit, id) -> when it is next free
        self.unit_free = [0] * prob.mesh.chip_tiles  # each chip tile's digital unit
        self.moves: dict[tuple[int, int], int] = {}  # (hops, bytes) -> cycles

    def move(self, src: int, dst: int, nbytes: int) -> int:
        return self.sent(self.prob.mesh.hops(src, dst), nbytes)

    def sent(self, hops: int, nbytes: int) -> int:
        """Cycles of a transfer of `nbytes` over `hops` (a move's time depends on nothing
        else)."""
        key = (hops, nbytes)
        cycles = self.moves.get(key)
        if cycles is None:
            cycles = self.moves[key] = (self.prob.coster.cycles((Transfer(nbytes, hops),))
                                        if hops else 0)
        return cycles

    def reach(self, index: int) -> tuple[int, ...]:
        got = self.reached.get(index)
        if got is None:
            got = self.reached[index] = reach(self.prob, self.work, self.info[index])
        return got

    def crossbar_users(self, info: OpInfo) -> list[int]:
        got = self.xbar_users.get(info.index)
        if got is None:
            got = self.xbar_users[info.index] = [
                c for c in self.users.get(info.index, ())
                if self.info[c].unit == "crossbar" and c in self.layout.loc]
        return got

    def out_groups(self, info: OpInfo) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """The op's crossbar consumers as (bytes each reads, the chip tiles of all that read
        that many): crossbar ops never move here, so this holds for the whole schedule."""
        got = self.outs.get(info.index)
        if got is None:
            groups: dict[int, dict[int, None]] = {}
            for c in self.crossbar_users(info):
                groups.setdefault(self.nbytes[(info.index, c)], {}).update(
                    dict.fromkeys(self.reach(c)))
            got = self.outs[info.index] = tuple((n, tuple(ts)) for n, ts in groups.items())
        return got

    def out_cost(self, info: OpInfo, tile: int) -> int:
        """The slowest transfer of the op's result from `tile` to its crossbar consumers' tiles
        (per distinct bytes and hop count: a transfer's time depends on nothing else)."""
        cost = 0
        row = self.prob.mesh.hops_from(tile)
        for n, tiles in self.out_groups(info):
            cost = max(cost, max(self.sent(h, n) for h in {row[d - PORT] for d in tiles}))
        return cost

    def candidates(self, info: OpInfo) -> list[int]:
        mesh = self.prob.mesh
        cands = [self.reach(p)[0] for p in info.preds]
        cands += [self.reach(c)[0] for c in self.crossbar_users(info)]
        cands.append(mesh.port_chip_tile())
        free = self.unit_free
        cands.append(free.index(min(free)))  # the first tile whose unit frees first
        return list(dict.fromkeys(mesh.port_chip_tile() if c == PORT else c for c in cands))

    def inbound(self, info: OpInfo) -> list[tuple[int, int, int]]:
        """The op's inputs as (source chip tile, bytes, the latest end of the producers that
        send that many from there): inputs alike arrive alike, so `ready` needs only these."""
        latest: dict[tuple[int, int], int] = {}
        end, nbytes = self.end, self.nbytes
        for p in info.preds:
            key = (self.reach(p)[0], nbytes[(p, info.index)])
            t = latest.get(key)
            if t is None or end[p] > t:
                latest[key] = end[p]
        return [(src, n, t) for (src, n), t in latest.items()]

    def ready(self, inbound: list[tuple[int, int, int]], dst: tuple[int, ...]) -> int:
        """When inputs `inbound` (as `inbound` gives them) have all reached every chip tile
        of `dst`; an op at the DRAM port reads them where they are."""
        if dst[0] == PORT:
            return max([t for _, _, t in inbound], default=0)
        move = self.move
        return max([t + max([move(src, d, n) for d in dst]) for src, n, t in inbound],
                   default=0)

    def choose_tile(self, info: OpInfo, d: int, inbound: list[tuple[int, int, int]]) -> int:
        best = None
        sent, hops_from = self.sent, self.prob.mesh.hops_from
        # `ready(inbound, (tile,))` for every candidate tile, each source's hops read once
        rows = [(hops_from(src), n, t) for src, n, t in inbound]
        for tile in self.candidates(info):
            at = tile - PORT
            ready = max([t + sent(row[at], n) for row, n, t in rows], default=0)
            start = max(ready, self.unit_free[tile])
            key = (start + d + self.out_cost(info, tile), start)
            if best is None or key < best[0]:
                best = (key, tile)
        return best[1]

    def step(self, info: OpInfo) -> None:
        d = duration(self.prob, self.layout, info)
        inbound = self.inbound(info)
        if info.unit == "digital":
            tile = self.choose_tile(info, d, inbound)
            self.loc[info.index] = self.work.loc[info.index] = (tile,)
            self.reached.pop(info.index, None)
        ready = self.ready(inbound, self.reach(info.index))
        unit = info.unit
        res = [(unit, x) for x in held(unit, self.work.locs(info))]
        start = max([ready] + [self.free.get(r, 0) for r in res])
        for r in res:
            self.free[r] = start + d
        if info.unit == "digital":
            self.unit_free[self.loc[info.index][0]] = start + d
        self.end[info.index] = start + d


def earliest_finish(prob: Problem, layout: Layout) -> dict[int, tuple[int, ...]]:
    """The chip tile of every digital op (op index -> (tile,)); other ops keep `layout`'s."""
    if not prob.mesh.chip_tiles:
        return {}
    sched = _ListSchedule(prob, layout)
    for info in prob.ops:
        sched.step(info)
    return sched.loc


def balanced(prob: Problem, layout: Layout) -> dict[int, tuple[int, ...]]:
    """Digital ops spread for throughput: longest first, each onto the least-loaded chip tile
    (transfers delay a batch but occupy no unit, so only the load sets the interval)."""
    if not prob.mesh.chip_tiles:
        return {}
    # every tile once as (load, tile): the least is the least-loaded tile, the first on ties
    # (a heap instead of a scan over every tile for every op)
    loads = [(0, t) for t in range(prob.mesh.chip_tiles)]
    ops = [(duration(prob, layout, i), i.index) for i in prob.ops if i.unit == "digital"]
    out = {}
    for d, index in sorted(ops, key=lambda x: (-x[0], x[1])):
        load, tile = loads[0]
        heapq.heapreplace(loads, (load + d, tile))
        out[index] = (tile,)
    return out
