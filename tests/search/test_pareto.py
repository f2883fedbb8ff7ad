"""Pareto ranking: the front is exactly the undominated points, fronts partition the set and
each front is dominated only by earlier ones."""

import math

from hypothesis import given
from hypothesis import strategies as st

from search.pareto import crowding_distance, dominates, nondominated_sort, pareto_front

POINTS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
                  max_size=25)


def test_dominance_and_a_known_front():
    pts = [(1, 5), (2, 2), (5, 1), (3, 3), (2, 2)]
    assert dominates((2, 2), (3, 3)) and not dominates((2, 2), (2, 2))
    assert pareto_front(pts) == [0, 1, 2, 4]
    assert nondominated_sort(pts) == [[0, 1, 2, 4], [3]]
    d = crowding_distance(pts, [0, 1, 2])
    assert d[0] == d[2] == math.inf and d[1] == 2.0


@given(POINTS)
def test_front_is_exactly_the_undominated_points(pts):
    front = set(pareto_front(pts))
    for i, p in enumerate(pts):
        assert (i in front) == (not any(dominates(q, p) for q in pts))


@given(POINTS)
def test_fronts_partition_and_are_ordered(pts):
    fronts = nondominated_sort(pts)
    flat = [i for f in fronts for i in f]
    assert sorted(flat) == list(range(len(pts)))
    if fronts:
        assert fronts[0] == pareto_front(pts)
    for k, f in enumerate(fronts):
        for i in f:
            later = [j for g in fronts[k:] for j in g]
            assert not any(dominates(pts[j], pts[i]) for j in later)


def test_first_fronts_are_the_leading_fronts_of_the_full_sort():
    """Peeled fronts equal nondominated_sort's first fronts, up to the first that reaches the
    number asked for (ties, duplicates and three objectives included)."""
    import random

    from search.pareto import first_fronts

    rng = random.Random(5)
    for trial in range(200):
        dims = rng.choice((2, 3))
        points = [[rng.randint(0, 6) for _ in range(dims)] for _ in range(rng.randint(0, 40))]
        full = nondominated_sort(points)
        for needed in (0, 1, 5, 16, 100):
            got = first_fronts(points, needed)
            k, held = 0, 0
            while k < len(full) and held < needed:
                held += len(full[k])
                k += 1
            assert got == full[:k], (trial, needed)
