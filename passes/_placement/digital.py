"""Chip tiles for digital ops by earliest finish: a list schedule in graph order that places.

With the crossbar and bank ops placed, every digital op in graph order goes to the candidate
chip tile where it would finish first, counting the transfers of its inputs (bytes over the
link plus hops) and the ops already on that tile's digital unit, plus the transfer its result
then needs to reach its crossbar consumers. Candidates: its producers' tiles, its crossbar
consumers' tiles, the port's tile and the tile whose digital unit frees first (so independent
branches spread out instead of queueing on one tile). Ties keep the earlier candidate, so the
choice is deterministic. Pure: returns the tiles, writes nothing but each op's trial ``pim.loc``.
"""

from __future__ import annotations

from passes._placement.mesh import PORT
from passes._placement.problem import OpInfo, Problem
from passes._placement.timeline import duration, edge_bytes, spread
from targets.primitives import Transfer

__all__ = ["balanced", "earliest_finish"]


def _consumers(prob: Problem) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for info in prob.ops:
        for p in info.preds:
            out.setdefault(p, []).append(info.index)
    return out


class _Sim:
    def __init__(self, prob: Problem) -> None:
        self.prob = prob
        self.info = {i.index: i for i in prob.ops}
        self.nbytes = edge_bytes(prob)
        self.users = _consumers(prob)
        self.end: dict[int, int] = {}
        self.free: dict[str, int] = {}  # resource -> when it is next free (appended in order)
        self.digital_free = [0] * prob.mesh.tiles

    def move(self, src: int, dst: int, nbytes: int) -> int:
        hops = self.prob.mesh.hops(src, dst)
        return self.prob.coster.cycles((Transfer(nbytes, hops),)) if hops else 0

    def ready(self, info: OpInfo, dst: tuple[int, ...]) -> int:
        t = 0
        for p in info.preds:
            src = spread(self.prob, self.info[p])[0]
            cost = 0 if dst[0] == PORT else max(
                self.move(src, d, self.nbytes[(p, info.index)]) for d in dst)
            t = max(t, self.end[p] + cost)
        return t

    def out_cost(self, info: OpInfo, tile: int) -> int:
        cost = 0
        for c in self.users.get(info.index, ()):
            user = self.info[c]
            if user.unit == "crossbar" and "pim.loc" in user.op.attrs:
                dst = spread(self.prob, user)
                cost = max(cost, max(self.move(tile, d, self.nbytes[(info.index, c)])
                                     for d in dst))
        return cost

    def candidates(self, info: OpInfo) -> list[int]:
        mesh = self.prob.mesh
        cands = [spread(self.prob, self.info[p])[0] for p in info.preds]
        for c in self.users.get(info.index, ()):
            if self.info[c].unit == "crossbar" and "pim.loc" in self.info[c].op.attrs:
                cands.append(spread(self.prob, self.info[c])[0])
        cands.append(mesh.port_tile())
        cands.append(min(range(mesh.tiles), key=lambda t: (self.digital_free[t], t)))
        return list(dict.fromkeys(mesh.port_tile() if c == PORT else c for c in cands))

    def place_digital(self, info: OpInfo, d: int) -> int:
        best = None
        for tile in self.candidates(info):
            start = max(self.ready(info, (tile,)), self.digital_free[tile])
            key = (start + d + self.out_cost(info, tile), start)
            if best is None or key < best[0]:
                best = (key, tile)
        return best[1]

    def step(self, info: OpInfo) -> None:
        d = duration(self.prob, info)
        if info.unit == "digital":
            info.op.attrs["pim.loc"] = (self.place_digital(info, d),)
        res = _resources(info)
        start = max([self.ready(info, spread(self.prob, info))]
                    + [self.free.get(r, 0) for r in res])
        for r in res:
            self.free[r] = start + d
        if info.unit == "digital":
            self.digital_free[info.op.attrs["pim.loc"][0]] = start + d
        self.end[info.index] = start + d


def _resources(info: OpInfo) -> list[str]:
    loc = info.op.attrs["pim.loc"]
    return [f"{info.unit}:{x}" for x in (loc if isinstance(loc, tuple) else (loc,))]


def earliest_finish(prob: Problem) -> dict[int, int]:
    """The chip tile of every digital op (op index -> tile); ops must be placed otherwise."""
    if not prob.mesh.tiles:
        return {}
    sim = _Sim(prob)
    for info in prob.ops:
        sim.step(info)
    return {i.index: i.op.attrs["pim.loc"][0] for i in prob.ops if i.unit == "digital"}


def balanced(prob: Problem) -> dict[int, int]:
    """Digital ops spread for throughput: longest first, each onto the least-loaded chip tile
    (transfers delay a batch but occupy no unit, so only the load sets the interval)."""
    if not prob.mesh.tiles:
        return {}
    load = [0] * prob.mesh.tiles
    ops = [i for i in prob.ops if i.unit == "digital"]
    out = {}
    for info in sorted(ops, key=lambda i: (-duration(prob, i), i.index)):
        tile = min(range(prob.mesh.tiles), key=lambda t: (load[t], t))
        load[tile] += duration(prob, info)
        info.op.attrs["pim.loc"] = (tile,)
        out[info.index] = tile
    return out
