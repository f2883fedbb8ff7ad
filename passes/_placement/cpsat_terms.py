"""What the CP-SAT placement model (``cpsat.py``) reads off the problem, with no solver in it:
the mesh-link traffic of every crossbar op at each replica count, and the graph of shared
starts.

Mesh links (objectives that pipeline batches): the schedule holds a link for the bytes of every
transfer routed over it, and replicas spread an op over more chip tiles, each receiving its own
share of the input (``moves.py``), so copies multiply the bytes that cross the mesh. For every
crossbar op and replica count, the model takes the bytes the move planner would send into its
range (laid from a chip tile's first crossbar, its input's producer elsewhere) and out of it
(to consumers on its first tile's chip tile), and bounds the interval by the serialisation of
the larger on one link: the snake lays ranges along router rows, so those bytes mostly share
the link next to the producer or the consumer. Without it the model's interval left the links
out and chose copies whose transfers the schedule then queued on one link: a chain of four
512-wide Gemm+Relu layers on isaac, 8 copies, interval 11060 in the model, 134677 scheduled
(greedy's one copy: 15360).
"""

from __future__ import annotations

import math

from passes._placement.moves import _value_bytes, read_bytes
from passes._placement.problem import Group, Problem

__all__ = ["link_cycles", "nodes", "topological", "traffic"]


def link_cycles(prob: Problem, moves: dict[tuple[int, int], int]) -> dict[str, tuple[int, ...]]:
    """Per crossbar op, per replica count: the cycles one mesh link is held by the larger of
    the bytes into and out of its range (module docstring); {} without a mesh."""
    net = prob.target.chip.network if prob.target.chip else None
    if net is None or not prob.mesh.chip_tiles:
        return {}
    readers: dict[int, list[tuple[int, int]]] = {}
    for (p, c), nbytes in moves.items():
        readers.setdefault(p, []).append((c, nbytes))
    clock = prob.target.clock
    return {name: tuple(net.serial_cycles(max(traffic(prob, g, r, readers)), clock)
                        for r in g.choices)
            for name, g in prob.groups.items()}


def traffic(prob: Problem, g: Group, r: int, readers: dict) -> tuple[int, int]:
    """(bytes in, bytes out) of the op's range at r copies as the move planner counts them:
    one move per input value and set of chip tiles, each tile receiving its copies' share, at
    most the whole value; each consumer on the chip tile of its first producer's first copy
    (elsewhere when that is another op) receiving every copy's share from the other tiles."""
    per_tile, t = prob.mesh.crossbars_per_chip_tile, g.weight_tiles
    at = g.offsets()
    sends: dict[tuple, int] = {}
    out = 0
    for i in g.ops:
        k, first_xbar = g.crossbars_of(i), at[i]
        copies: dict[int, int] = {}  # chip tile from the range's first -> copies of tile i
        written: dict[int, float] = {}  # chip tile -> copies' worth of tile i's columns there
        for j in range(r):
            spots = [(j * t + first_xbar + x) // per_tile for x in range(k)]
            for d in dict.fromkeys(spots):
                copies[d] = copies.get(d, 0) + 1
            for d in spots:
                written[d] = written.get(d, 0.0) + 1.0 / k
        info = prob.by_index[i]
        for v, prods in prob.inputs(info):
            full, read = _value_bytes(prob, info, v), read_bytes(prob, info, v)
            for d, n in copies.items() if prods else ():
                key = (id(v), tuple(copies), d)
                sends[key] = min(full, sends.get(key, 0) + max(1, math.ceil(read * n / r)))
        for c, nbytes in readers.get(i, ()):
            first = prob.by_index[c].preds[0]
            home = at[first] // per_tile if first in at else None
            out += sum(max(1, math.ceil(nbytes * n / r)) for d, n in written.items()
                       if d != home)
    return sum(sends.values()), out


def nodes(prob: Problem, shared: bool) -> tuple[dict[int, object], list]:
    """Whose start and end each op's are, and those in a topological order: its own, or with
    `shared` its crossbar op's; its own after all where a crossbar op would then wait for
    itself (a recurrence through its own tiles: no topological order)."""
    own = [info.index for info in prob.ops]  # graph order is topological
    if shared:
        node: dict[int, object] = {info.index: info.group or info.index for info in prob.ops}
        order = topological(prob, node)
        if order is not None:
            return node, order
    return dict(zip(own, own)), own


def topological(prob: Problem, node: dict[int, object]) -> list | None:
    """The nodes in a topological order (Kahn's algorithm); None when they form a cycle."""
    succ: dict[object, set] = {n: set() for n in node.values()}
    for info in prob.ops:
        for p in info.preds:
            if node[p] == node[info.index]:
                return None
            succ[node[p]].add(node[info.index])
    indegree = dict.fromkeys(succ, 0)
    for outs in succ.values():
        for n in outs:
            indegree[n] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for x in succ[n]:
            indegree[x] -= 1
            if indegree[x] == 0:
                ready.append(x)
    return order if len(order) == len(succ) else None
