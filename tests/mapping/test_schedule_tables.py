"""The scheduler's fast paths give what the plain definitions give: modulo reservation tables
answer as the three copies of every reservation do, the mesh's hop and route tables as the XY
formula does, and cached prices as pricing afresh."""

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from passes._placement.mesh import PORT, Mesh
from passes._placement.modulo import Busy, fit, hold
from passes._placement.problem import Group
from targets import load_target
from targets.coster import OpCoster, shared_coster
from targets.primitives import CrossbarMVM


def copies_conflict(busy: Busy, t: int, d: int) -> int | None:
    """The definition: the first copy (one period earlier, in place, one period later; each in
    order) of a reservation that overlaps [t, t + d), as an absolute end; None when free."""
    period = busy.period
    t0 = t % period
    for k in (-period, 0, period):
        for s, e in zip(busy.starts, busy.ends):
            if e + k > t0 and s + k < t0 + d:
                return t - t0 + e + k
    return None


spans = st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 40), spans, spans)
def test_conflict_is_the_three_copies(period, holds, queries):
    busy = Busy(period)
    for t, d in holds:
        d = min(d, period)
        if copies_conflict(busy, t, d) is None:
            busy.hold(t, d)
    for t, d in queries:
        d = min(d, period)
        assert busy.conflict(t, d) == copies_conflict(busy, t, d)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 40), spans, st.integers(0, 100))
def test_fit_finds_a_free_start(period, holds, ready):
    tables = [Busy(period), Busy(period)]
    for k, (t, d) in enumerate(holds):
        table = tables[k % 2]
        d = min(d, period)
        if copies_conflict(table, t, d) is None:
            table.hold(t, d)
    probes = [(tables[0], 0, max(1, period // 3)), (tables[1], 1, max(1, period // 4))]
    t = fit(probes, ready, period)
    if t is None:
        return
    assert t >= ready
    assert all(copies_conflict(b, t + off, n) is None for b, off, n in probes)
    hold(probes, t)
    assert all(copies_conflict(b, t + off, n) is not None for b, off, n in probes)


def _xy_hops(mesh: Mesh, a: int, b: int) -> int:
    if a == b:
        return 0
    (ax, ay), (bx, by) = mesh._router(a), mesh._router(b)
    return abs(ax - bx) + abs(ay - by) + 1



def earliest_free(probes, ready: int, period: int) -> int | None:
    """The definition: the first start in [ready, ready + period) at which no probe's use
    overlaps any copy of its table's reservations (none later is free unless one of these is)."""
    for t in range(ready, ready + period):
        if all(copies_conflict(b, t + off, n) is None for b, off, n in probes):
            return t
    return None


@settings(max_examples=400, deadline=None)
@given(st.integers(2, 60), st.lists(st.tuples(st.integers(0, 5), st.integers(0, 200),
                                              st.integers(1, 12)), max_size=60),
       st.lists(st.tuples(st.integers(0, 5), st.integers(0, 120), st.integers(1, 30)),
                unique_by=lambda p: p[0], max_size=6),
       st.integers(0, 150))
def test_fit_is_the_earliest_free_start(period, holds, uses, ready):
    """Many short reservations on up to six tables leave many gaps too short for a use, and a
    use that fits one table's gap may not fit another's: the answer is still the earliest
    start free on every table, or None when no start of a period is."""
    tables = [Busy(period) for _ in range(6)]
    for k, t, d in holds:
        d = min(d, period)
        if copies_conflict(tables[k], t, d) is None:
            tables[k].hold(t, d)
    probes = [(tables[k], off, min(n, period)) for k, off, n in uses]
    assert fit(probes, ready, period) == earliest_free(probes, ready, period)


def test_fit_takes_a_gap_exactly_as_long_as_the_use():
    """Near miss of skipping gaps too short for a use: one exactly as long is not too short,
    on its own table and past a first gap that is too short on another."""
    a, b = Busy(40), Busy(40)
    a.hold(0, 5)
    a.hold(8, 12)  # a's gaps: [5, 8), [20, 40)
    assert fit([(a, 0, 3)], 0, 40) == 5
    assert fit([(a, 0, 4)], 0, 40) == 20
    b.hold(5, 1)  # b: [5, 6) moves the use off a's first gap, to its second
    assert fit([(a, 0, 3), (b, 0, 3)], 0, 40) == 20
    b.hold(21, 19)  # b: [5, 6) and [21, 40): from 20 nothing is free on both within a period
    assert fit([(a, 0, 3), (b, 0, 3)], 0, 40) is None

def test_hop_and_route_tables_match_the_formula():
    for name in ("isaac", "hetero"):
        mesh = Mesh.of(load_target(name))
        assert Mesh.of(load_target(name)) is mesh  # one per target
        tiles = [PORT, *range(mesh.chip_tiles)]
        for a in tiles[::7]:
            for b in tiles:
                assert mesh.hops(a, b) == _xy_hops(mesh, a, b)
                route = mesh.route(a, b)
                assert route == (mesh._route(a, b) if a != b else ())
                assert mesh.route(a, b) is route  # the second ask is the table's
                if a != b:
                    assert len(route) == mesh.hops(a, b) - 1


def test_replicated_cycles_are_priced_per_count():
    target = load_target("isaac")
    fresh = OpCoster(target)
    cached = shared_coster(target)
    assert shared_coster(target) is cached
    prims = (CrossbarMVM(128, 128, 8, 8, 64),)
    for counts in ((1, 2, 4), (1, 3), (8,)):
        want = tuple(fresh.cycles(tuple(dataclasses.replace(p, replicas=r) for p in prims))
                     for r in counts)
        assert cached.cycles_replicated(prims, counts) == want
    assert cached.cycles_replicated(prims, (1, 2)) != cached.cycles_replicated(prims, (2, 1))


def test_group_duration_follows_its_cycles_table():
    g = Group("fc", ops=[0, 1], choices=(1, 2), cycles={0: (10, 5), 1: (8, 6)})
    assert [g.duration(0), g.duration(1)] == [10, 6]
    g.cycles = {0: (3, 2), 1: (4, 1)}
    assert [g.duration(0), g.duration(1)] == [4, 2]
