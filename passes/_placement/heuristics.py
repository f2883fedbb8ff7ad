"""The two baselines: naive (op order, no replication) and greedy (replicate the bottleneck).

Both lay the crossbar ops along the snake in graph order, each on a contiguous range. Greedy
then repeatedly gives the slowest crossbar op its next useful replica count while the crossbars
last (an op that cannot grow is frozen and the next slowest goes on), and keeps whichever of
that and the naive layout scores better on the objective.
"""

from __future__ import annotations

import heapq

from passes._placement.placement import Placement, assign_banks
from passes._placement.problem import Problem

__all__ = ["greedy", "naive", "sequential"]


def sequential(prob: Problem, replicas: dict[str, int]) -> dict[str, int]:
    """Contiguous ranges along the snake, in graph order."""
    start, pos = {}, 0
    for name, g in prob.groups.items():
        start[name] = pos
        pos += g.weight_tiles * replicas[name]
    return start


def naive(prob: Problem) -> Placement:
    replicas = {name: 1 for name in prob.groups}
    return Placement(replicas, sequential(prob, replicas), assign_banks(prob))


def grow(prob: Problem, floor: int = 0) -> dict[str, int]:
    """Replica counts from bottleneck-first growth within the crossbar capacity, stopping once
    the slowest crossbar op is no slower than `floor` (the busiest other resource: beyond it
    more copies cannot shorten the interval, and each costs area and broadcast traffic). The
    slowest op comes off a heap (ties: the first in graph order), so growth costs a log per
    step rather than a pass over every op."""
    groups, names = prob.groups, list(prob.groups)
    choice = {name: 0 for name in names}
    free = prob.mesh.crossbars - sum(g.weight_tiles for g in groups.values())
    # (-duration, position, choice index): one entry per op that may still grow, put back
    # after it grows; an op that cannot grow (frozen) is not put back
    heap = [(-groups[n].duration(0), i, 0) for i, n in enumerate(names)]
    heapq.heapify(heap)
    while heap:
        _, i, k = heapq.heappop(heap)
        name = names[i]
        g = groups[name]
        if g.duration(k) <= floor:
            break
        grows = k + 1 < len(g.choices)
        extra = g.weight_tiles * (g.choices[k + 1] - g.choices[k]) if grows else None
        if extra is None or extra > free:
            continue  # frozen
        choice[name], free = k + 1, free - extra
        heapq.heappush(heap, (-g.duration(k + 1), i, k + 1))
    return {n: groups[n].choices[k] for n, k in choice.items()}


def greedy(prob: Problem, floor: int = 0) -> Placement:
    if prob.streamed:
        return naive(prob)
    replicas = grow(prob, floor)
    return Placement(replicas, sequential(prob, replicas), assign_banks(prob))
