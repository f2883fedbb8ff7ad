"""Pareto ranking for multi-objective search: dominance, the front, non-dominated sorting
and crowding distance (NSGA-II, Deb et al. 2002). Every objective is minimised; negate the
ones to maximise (e.g. AUC)."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["crowding_distance", "dominates", "first_fronts", "nondominated_sort", "pareto_front"]

Point = Sequence[float]


def dominates(a: Point, b: Point) -> bool:
    """a is no worse than b in every objective and better in at least one."""
    if len(a) != len(b):
        raise ValueError(f"points have {len(a)} and {len(b)} objectives")
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def pareto_front(points: Sequence[Point]) -> list[int]:
    """Indices of the points no other point dominates, in input order."""
    return [i for i, p in enumerate(points)
            if not any(dominates(q, p) for j, q in enumerate(points) if j != i)]


def nondominated_sort(points: Sequence[Point]) -> list[list[int]]:
    """Fronts of indices: the Pareto front, then the front of what remains, and so on."""
    dominated_by = [0] * len(points)
    beats: list[list[int]] = [[] for _ in points]
    for i, p in enumerate(points):
        for j, q in enumerate(points):
            if dominates(p, q):
                beats[i].append(j)
            elif dominates(q, p):
                dominated_by[i] += 1
    fronts, current = [], [i for i, n in enumerate(dominated_by) if n == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in beats[i]:
                dominated_by[j] -= 1
                if dominated_by[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def first_fronts(points: Sequence[Point], needed: int) -> list[list[int]]:
    """The first fronts of `nondominated_sort(points)`, as many as hold `needed` points (all of
    them when there are fewer): the same lists, peeled one front at a time in O(points x
    front) each, where the whole sort compares every pair. A search ranks all its finished
    trials for every draw but keeps only a population's worth."""
    remaining, fronts, covered = list(range(len(points))), [], 0
    while remaining and covered < needed:
        front: list[int] = []
        for i in remaining:  # a point dominated by a later one is dropped when that one comes
            p = points[i]
            if any(dominates(points[j], p) for j in front):
                continue
            front = [j for j in front if not dominates(p, points[j])] + [i]
        front.sort()
        fronts.append(front)
        covered += len(front)
        taken = set(front)
        remaining = [i for i in remaining if i not in taken]
    return fronts


def crowding_distance(points: Sequence[Point], front: Sequence[int]) -> dict[int, float]:
    """NSGA-II crowding distance of each index in `front` (boundary points: infinity)."""
    dist = {i: 0.0 for i in front}
    if len(front) <= 2:
        return {i: math.inf for i in front}
    for k in range(len(points[front[0]])):
        order = sorted(front, key=lambda i: (points[i][k], i))
        lo, hi = points[order[0]][k], points[order[-1]][k]
        dist[order[0]] = dist[order[-1]] = math.inf
        if hi == lo:
            continue
        for prev, cur, nxt in zip(order, order[1:], order[2:]):
            dist[cur] += (points[nxt][k] - points[prev][k]) / (hi - lo)
    return dist
