"""The transfers a layout needs: what crosses the mesh, from where to where, over which links.

A value whose producer sits on another chip tile than its consumer crosses the mesh. One move
per (value, set of destination chip tiles) is shared by every consumer with that set; each
destination tile receives what its consumers read there (a crossbar op's replicas split its
input vectors, so a chip tile holding some of the replicas receives that share; a tile's
crossbars of one replica read the same input, so a chip tile holding one or all of them
receives it once), capped at the whole value. A tile over several crossbars sends from each
chip tile the columns its crossbars there computed. A move is routed XY from the producer's
tile to every destination tile; each directed link carries the bytes of the destinations
routed through it, and is held for their serialisation at the link bandwidth. The move
arrives when its slowest destination has its bytes: that destination's bytes over the link
plus the hop latency of its route.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ir.core import Value
from ir.dialects import pim
from passes._costing.op_primitives import bits_of
from passes._placement.layout import Layout
from passes._placement.mesh import PORT
from passes._placement.problem import OpInfo, Problem
from targets.primitives import Transfer

__all__ = ["Move", "edge_bytes", "least_cycles", "least_waits", "plan_moves", "reach", "read_bytes",
           "route"]


@dataclass
class Move:
    """One transfer of `value` from the chip tiles of its producer; `sends`: (source tile,
    destination tile) -> bytes,
    `links`: directed link -> bytes over it, `occupancy`: link -> cycles it is held from the
    move's start; the move arrives `cycles` after it starts."""

    value: Value
    src: int  # the first source chip tile
    dst: int  # the first destination chip tile
    bytes: int  # over every (source, destination) pair
    hops: int  # of the farthest pair
    consumers: list[int] = field(default_factory=list)
    cycles: int = 0
    start: int = 0
    end: int = 0
    sends: dict[tuple[int, int], int] = field(default_factory=dict)  # (src, dst) -> bytes
    links: dict[str, int] = field(default_factory=dict)
    occupancy: dict[str, int] = field(default_factory=dict)


def reach(prob: Problem, layout: Layout, info: OpInfo) -> tuple[int, ...]:
    """The chip tiles an op's data must reach (PORT for bank ops)."""
    if info.unit == "bank":
        return (PORT,)
    if info.unit == "crossbar":  # its spot's chip tiles, in the order they first appear
        return _spot(prob, layout, info)[2]
    return (layout.locs(info)[0],)


def read_bytes(prob: Problem, info: OpInfo, v: Value) -> int:
    """Bytes `info` reads of `v` (a weight tile reads only its rows of the input)."""
    key = (info.index, id(v))
    got = prob.read_bytes.get(key)
    if got is None:
        got = prob.read_bytes[key] = _read_bytes(prob, info, v)
    return got


def _value_bytes(prob: Problem, info: OpInfo, v: Value) -> int:
    """Bytes of the whole of `v` as `info` reads it."""
    key = (-1 - info.index, id(v))
    got = prob.read_bytes.get(key)
    if got is None:
        got = prob.read_bytes[key] = max(1, -(-v.type.size * (v.type.bits or
                                                             bits_of(info.op, prob.target)) // 8))
    return got


def _read_bytes(prob: Problem, info: OpInfo, v: Value) -> int:
    op = info.op
    bits = v.type.bits or bits_of(op, prob.target)
    if isinstance(op, pim.MVM) and v is op.operands[0]:
        (r0, r1) = op.attrs["rows"]
        return max(1, -(-(v.type.size // max(1, v.type.shape[-1])) * (r1 - r0) * bits // 8))
    return max(1, -(-v.type.size * bits // 8))


def edge_bytes(prob: Problem) -> dict[tuple[int, int], int]:
    """Bytes each op reads from each producer (op indices), wherever they sit (worked out once
    per problem: every layout reads the same)."""
    if prob.edges is not None:
        return prob.edges
    out: dict[tuple[int, int], int] = {}
    for info in prob.ops:
        for v, prods in prob.inputs(info):
            for p in prods:
                key = (p.index, info.index)
                out[key] = max(out.get(key, 0), read_bytes(prob, info, v))
    prob.edges = out
    return out


def _shares(prob: Problem, layout: Layout, info: OpInfo, reading: bool = False
            ) -> dict[int, float]:
    """Chip tile -> the share of the op's data written there, or with `reading` read there (a
    crossbar op's replicas split its vectors; each crossbar of a tile writes its columns, and
    every chip tile holding a replica's crossbars reads that replica's input once; other ops
    sit on one tile, or at the DRAM port)."""
    if info.unit != "crossbar":
        return {t: 1.0 for t in reach(prob, layout, info)}
    locs = layout.locs(info)
    k = info.crossbars if reading else 1
    counts = _counts(locs, k, prob.mesh.crossbars_per_chip_tile)
    return {t: _repeated(n, k / len(locs)) for t, n in counts.items()}


def _counts(locs: tuple[int, ...], k: int, per_tile: int) -> dict[int, int]:
    """Chip tile -> how many runs of `k` crossbars of `locs` have one there, in the order
    the chip tiles first appear (a tile over many crossbars at many copies holds thousands:
    counted in numpy). Runs of one crossbar, up to a thousand, are counted by a Counter
    (20 -> 11 us a call on those of 4 nasrec-float candidates: half of their 860 calls)."""
    if k == 1 and len(locs) < 1024:
        tiles = [x // per_tile for x in locs]
        counted = Counter(tiles)
        return {t: counted[t] for t in dict.fromkeys(tiles)}
    if len(locs) < 64:
        out: dict[int, int] = {}
        for j in range(0, len(locs), k):
            for t in dict.fromkeys(x // per_tile for x in locs[j:j + k]):
                out[t] = out.get(t, 0) + 1
        return out
    tiles = np.fromiter(locs, np.int64, len(locs)) // per_tile
    n, span = len(tiles), int(tiles.max()) + 1
    first = np.full(span, n, np.int64)  # where each chip tile first appears: no sort (16k
    np.minimum.at(first, tiles, np.arange(n))  # crossbars: 1.3 ms -> 0.07 ms)
    if k > 1:  # a run's tiles once each: the distinct (run, tile) pairs
        tiles = np.unique(np.arange(n) // k * span + tiles) % span
    counts = np.bincount(tiles, minlength=span)
    present = np.flatnonzero(counts)
    return {int(t): int(counts[t]) for t in present[np.argsort(first[present])]}


@functools.lru_cache(maxsize=1 << 12)
def _repeated(n: int, share: float) -> float:
    """`share` added up `n` times, one after another (as each run's share is added)."""
    total = 0.0
    for _ in range(n):
        total += share
    return total


# Where an op's data is, as `plan_moves` reads it: a number for these shares (pairs of spots
# are cached by their numbers), the shares (chip tile -> share) and their tiles in order.
_Spot = tuple[int, tuple[tuple[int, float], ...], tuple[int, ...]]
# What an op reads that some op with a unit produces: the value's id, the value, its first
# producer's position in `prob.ops`, the bytes of the whole value and the bytes the op reads
# of it.
_Read = tuple[int, Value, int, int, int]


def _reads(prob: Problem) -> list[tuple[OpInfo, tuple[_Read, ...]]]:
    """Every op with what it reads from ops with a unit (the same for every layout)."""
    got = prob.move_reads
    if got is None:
        at = {info.index: k for k, info in enumerate(prob.ops)}
        got = prob.move_reads = [
            (info, tuple((id(v), v, at[prods[0].index], _value_bytes(prob, info, v),
                          read_bytes(prob, info, v))
                         for v, prods in prob.inputs(info) if prods))
            for info in prob.ops]
    return got


def _spots(prob: Problem, layout: Layout) -> tuple[list[_Spot], list[_Spot]]:
    """Of every op under `layout`, in `prob.ops` order: its spot, and the spot it reads at
    (another for a tile over several crossbars: ``_spot`` with `reading`); once per layout,
    since `least_waits` and `plan_moves` read the same (a nasrec-float candidate on isaac
    looked up 1,770 spots, some keyed by thousands of crossbars)."""
    got = layout.memo.get("spots")
    if got is None:
        spots = [_spot(prob, layout, info) for info in prob.ops]
        reading = [s if info.crossbars == 1 else _spot(prob, layout, info, True)
                   for s, info in zip(spots, prob.ops)]
        got = layout.memo["spots"] = (spots, reading)
    return got


def _spot(prob: Problem, layout: Layout, info: OpInfo, reading: bool = False) -> _Spot:
    """`_shares` of `info` under `layout`, as a spot (layouts share most of them)."""
    if info.unit == "bank":  # at the DRAM port, wherever its banks are
        key: tuple = ("bank",)
    else:
        locs = layout.locs(info)
        key = (info.unit, locs, info.crossbars) if reading else (
            info.unit, locs if info.unit == "crossbar" else locs[:1])
    got = prob.spots.get(key)
    if got is None:
        shares = _shares(prob, layout, info, reading)
        items = tuple(shares.items())
        number = prob.spot_numbers.setdefault(items, len(prob.spot_numbers))  # by content
        got = prob.spots[key] = (number, items, tuple(shares))
    return got


def plan_moves(prob: Problem, layout: Layout, routed: bool = True) -> list[Move]:
    """The transfers the layout needs, in the order their first consumer appears; without
    `routed`, only their sends (``route`` works out the rest)."""
    if prob.mesh.chip_tiles == 0:
        return []
    moves: dict[tuple[int, tuple[int, ...]], Move] = {}
    spots, reading = _spots(prob, layout)
    for k, (info, reads) in enumerate(_reads(prob)):
        shares = reading[k]
        if shares[2][:1] == (PORT,):  # bank ops read in the DRAM: nothing crosses
            continue
        for vid, v, producer, full, read in reads:
            _send(prob, moves, info.index, vid, v, full, read, spots[producer], shares)
    out = list(moves.values())
    if routed:
        route(prob, out)
    return out


def route(prob: Problem, moves: list[Move]) -> None:
    """The links, occupancy, arrival time, bytes and hops of every move of `plan_moves`."""
    for m in moves:
        _route(prob, m)


def least_waits(prob: Problem, layout: Layout) -> dict[tuple[int, int], int]:
    """(producer, consumer) -> cycles the consumer starts at least after the producer ends,
    before any move is planned: where the value's first producer and the consumer each sit on
    one chip tile, over at least one link, the move that brings the value there sends at least
    the bytes `plan_moves` adds for this consumer over that pair (capped at the whole value),
    so it takes at least the ``least_cycles`` of that send alone; other pairs: no wait known."""
    waits: dict[tuple[int, int], int] = {}
    if prob.mesh.chip_tiles == 0:
        return waits
    route_of, slots = prob.mesh.route, prob.slots
    spots, reading = _spots(prob, layout)
    for k, (info, reads) in enumerate(_reads(prob)):
        shares = reading[k]
        if len(shares[1]) != 1 or shares[2][0] == PORT:
            continue
        b, sb = shares[1][0]
        for vid, _, producer, full, read in reads:
            sources = spots[producer][1]
            if len(sources) != 1 or not route_of(sources[0][0], b):
                continue
            a, sa = sources[0]
            least = _least(prob, (((a, b), min(full, max(1, math.ceil(read * (sa * sb))))),))
            for p in slots(info.index)[vid][1]:
                if least > waits.get((p, info.index), 0):
                    waits[(p, info.index)] = least
    return waits


def least_cycles(prob: Problem, m: Move) -> int:
    """The fewest cycles an unrouted move can take: its own where a move of the same sends
    was routed (layouts of one placement share most moves); else a link carries at least
    the bytes of the sends that leave over it, and the move arrives no sooner than its busiest
    link allows over the hops of its farthest send (as ``_routed`` times it). A move whose
    sends cross no link (tiles of one router) is timed as ``_routed`` does."""
    key = tuple(m.sends.items())
    got = prob.routes.get(key)
    return _least(prob, key) if got is None else got[4]


def _least(prob: Problem, sends: tuple[tuple[tuple[int, int], int], ...]) -> int:
    """The bound of ``least_cycles`` for `sends` ((source, destination) -> bytes, as items),
    kept in `prob.least`."""
    got = prob.least.get(sends)
    if got is None:
        got = prob.least[sends] = _bound(prob, sends)
    return got


def _bound(prob: Problem, sends: tuple[tuple[tuple[int, int], int], ...]) -> int:
    mesh = prob.mesh
    hops = 0
    first: dict[str, int] = {}  # a send's first link -> the bytes of the sends over it
    for (a, b), n in sends:
        h = mesh.hops(a, b)
        if h > hops:
            hops = h
        links = mesh.route(a, b)
        if links:
            first[links[0]] = first.get(links[0], 0) + n
    if not first:
        return prob.coster.cycles((Transfer(max(1, sum(n for _, n in sends)), hops),))
    net, clock = prob.target.chip.network, prob.target.clock
    return net.arrival_cycles(net.serial_cycles(max(first.values()), clock), hops, clock)


def _send(prob: Problem, moves: dict[tuple[int, tuple[int, ...]], Move], index: int, vid: int,
          v: Value, full: int, read: int, sources: _Spot, shares: _Spot) -> None:
    """Add what op `index` reads of `v` (`read` of its `full` bytes) to the move that brings
    `v` to its chip tiles (if any)."""
    key = (sources[0], shares[0])
    pairs = prob.pairs.get(key)
    if pairs is None:
        hops = prob.mesh.hops
        pairs = prob.pairs[key] = tuple(((a, b), sa * sb) for a, sa in sources[1]
                                        for b, sb in shares[1] if hops(a, b))
    if not pairs:
        return
    key = (vid, shares[2])
    m = moves.get(key)
    if m is None:
        m = moves[key] = Move(v, *pairs[0][0], 0, 0)
    sends = m.sends
    for pair, share in pairs:
        sends[pair] = min(full, sends.get(pair, 0) + max(1, math.ceil(read * share)))
    m.consumers.append(index)


def _route(prob: Problem, m: Move) -> None:
    """Links, their occupancy, the arrival time, the total bytes and hops of a planned move
    (the same sends give the same answer: layouts that share a placement share most moves)."""
    key = tuple(m.sends.items())
    got = prob.routes.get(key)
    if got is None:
        got = prob.routes[key] = _routed(prob, m.sends)
    m.links, m.occupancy, m.bytes, m.hops, m.cycles = got
    m.links, m.occupancy = dict(m.links), dict(m.occupancy)  # each move owns its own


def _routed(prob: Problem, sends: dict[tuple[int, int], int]) -> tuple:
    mesh, net = prob.mesh, prob.target.chip.network
    links: dict[str, int] = {}
    for (a, b), nbytes in sends.items():
        for link in mesh.route(a, b):
            links[link] = links.get(link, 0) + nbytes
    clock = prob.target.clock
    occupancy = {link: net.serial_cycles(b, clock) for link, b in links.items()}
    total = sum(sends.values())
    hops = max(mesh.hops(a, b) for a, b in sends)
    # the busiest link (its bytes from every send over it), then the farthest tile's hops
    cycles = (net.arrival_cycles(max(occupancy.values()), hops, clock) if occupancy
              else prob.coster.cycles((Transfer(max(1, total), hops),)))
    return links, occupancy, total, hops, cycles
