"""Greedy growth takes the slowest crossbar op off a heap (passes/_placement/heuristics.py);
it must pick exactly what a scan of every op picks, ties to the first in graph order."""

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from passes._placement.heuristics import grow
from passes._placement.problem import Group


def _scan(prob, floor=0):
    """Growth as a scan over every op per step (the reference)."""
    choice = {name: 0 for name in prob.groups}
    free = prob.mesh.crossbars - sum(g.weight_tiles for g in prob.groups.values())
    frozen: set[str] = set()
    while len(frozen) < len(choice):
        name = max((n for n in choice if n not in frozen),
                   key=lambda n: prob.groups[n].duration(choice[n]))
        g, k = prob.groups[name], choice[name]
        if g.duration(k) <= floor:
            break
        grows = k + 1 < len(g.choices)
        extra = g.weight_tiles * (g.choices[k + 1] - g.choices[k]) if grows else None
        if extra is None or extra > free:
            frozen.add(name)
            continue
        choice[name], free = k + 1, free - extra
    return {n: prob.groups[n].choices[k] for n, k in choice.items()}


def _problem(specs, spare):
    groups = {}
    for i, (tiles, times) in enumerate(specs):
        g = Group(f"g{i}", ops=list(range(tiles)), choices=tuple(range(1, len(times) + 1)))
        g.cycles = {op: tuple(times) for op in g.ops}
        groups[g.name] = g
    used = sum(len(g.ops) for g in groups.values())
    return SimpleNamespace(groups=groups, mesh=SimpleNamespace(crossbars=used + spare))


# per op: tiles and its durations at each replica count (non-increasing; small values so
# that ties between ops are common)
_OPS = st.lists(st.tuples(st.integers(1, 4),
                          st.lists(st.integers(1, 6), min_size=1, max_size=5).map(
                              lambda xs: sorted(xs, reverse=True))),
                min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(specs=_OPS, spare=st.integers(0, 30), floor=st.integers(0, 6))
def test_heap_growth_picks_what_a_scan_picks(specs, spare, floor):
    prob = _problem(specs, spare)
    assert grow(prob, floor) == _scan(prob, floor)


def test_ties_go_to_the_first_op_in_graph_order():
    # two equal ops and room for one more copy of either: the first one grows
    prob = _problem([(2, [6, 3]), (2, [6, 3])], spare=2)
    assert grow(prob) == {"g0": 2, "g1": 1}
