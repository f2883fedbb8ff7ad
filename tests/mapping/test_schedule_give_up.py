"""Scoring gives up on a candidate once it cannot score below a value the caller keeps
(`timeline.schedule`'s `loses`, `placement.evaluate`'s `beat`; passes/_placement/solve.py
passes the best so far). Giving up must never drop a candidate that would have won, and a
candidate that is not given up must be scored exactly as without it. The shortcuts that came
with it (the interval bound alone, balanced digital placement by a heap) must answer what the
longer computations answer."""

import dataclasses
import math
from pathlib import Path

import pytest

from compiler.driver import compile
from passes._placement import moves, timeline
from passes._placement.digital import balanced
from passes._placement.heuristics import greedy, naive
from passes._placement.lower_bounds import interval_bound, lower_bounds
from passes._placement.moves import Move, least_cycles
from passes._placement.placement import DIGITAL_STRATEGIES, OBJECTIVES, evaluate, layout_of
from passes._placement.problem import Problem
from passes._placement.timeline import duration, schedule

ONNX = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx"
CASES = [("torchrec_dlrm_legacy", "isaac"), ("torchfm_xdfm_legacy", "hetero"),
         ("deepctr_wdl_legacy", "puma"), ("torchfm_afm_legacy", "isaac")]
WEIGHTS = (1.0, 1.0, 0.5)


@pytest.fixture(scope="module")
def problems():
    return [Problem.of(compile(ONNX / f"{name}.onnx", target, batch=8, emit="tiled").module)
            for name, target in CASES]


def _candidates(prob: Problem):
    """Naive and greedy (stopped early and grown), each with every digital strategy."""
    for place in (naive(prob), greedy(prob, 2000), greedy(prob)):
        for strategy in DIGITAL_STRATEGIES:
            yield dataclasses.replace(place, digital=strategy)


def _times(tl):
    return tl.start, tl.end, tl.latency, tl.interval, [(m.start, m.end) for m in tl.moves]


def test_a_schedule_is_given_up_from_the_first_period_that_loses(problems):
    retried = 0
    for prob in problems:
        for place in _candidates(prob):
            layout = layout_of(prob, place)
            full = schedule(prob, layout, True)
            first = max(full.busy.values(), default=1)  # the period of the first try
            retried += full.interval > first
            assert schedule(prob, layout, True, loses=lambda p, x=full.interval: p >= x) is None
            kept = schedule(prob, layout, True, loses=lambda p, x=full.interval: p > x)
            assert kept is not None and _times(kept) == _times(full)
    assert retried, "no schedule needed a longer period: giving up mid-way was never tried"


def test_an_unpipelined_schedule_is_given_up_once_its_latency_loses(problems):
    """Not pipelined, `loses` reads a latency: the schedule is given up when its latency
    would be at least the first count that loses, and kept, exactly, when it would be below."""
    for prob in problems:
        for place in _candidates(prob):
            layout = layout_of(prob, place)
            full = schedule(prob, layout, False)
            assert full.interval == full.latency
            at = full.latency
            assert schedule(prob, layout, False, loses=lambda n, x=at: n >= x) is None
            kept = schedule(prob, layout, False, loses=lambda n, x=at: n > x)
            assert kept is not None and _times(kept) == _times(full)
            assert kept.busy == full.busy


def test_an_unpipelined_schedule_looks_ahead_along_the_chain_after_each_op(problems,
                                                                          monkeypatch):
    """Given up at its own latency, a schedule stops at the first op whose end plus the
    longest chain of durations after it reaches that latency, not only once some op ends
    there (which is its last op to end): fewer ops are fitted than in the full schedule."""
    fitted = [0]
    real = timeline.fit

    def counting(*args):
        fitted[0] += 1
        return real(*args)

    monkeypatch.setattr(timeline, "fit", counting)
    full_fits = given_up_fits = 0
    for prob in problems:
        for place in _candidates(prob):
            layout = layout_of(prob, place)
            fitted[0] = 0
            full = schedule(prob, layout, False)
            full_fits += fitted[0]
            fitted[0] = 0
            assert schedule(prob, layout, False, loses=lambda n, x=full.latency: n >= x) is None
            given_up_fits += fitted[0]
    assert given_up_fits < full_fits


def _unpipelined(problems):
    """Every candidate layout with its full unpipelined schedule and its ops' durations."""
    for prob in problems:
        for place in _candidates(prob):
            layout = layout_of(prob, place)
            durations = {i.index: duration(prob, layout, i) for i in prob.ops}
            yield prob, layout, schedule(prob, layout, False), durations


def test_what_the_ops_alone_settle_is_given_up_before_transfers_are_planned(problems,
                                                                              monkeypatch):
    """Transfers only add to what the links hold and only delay ops, so a schedule is given
    up without planning them when the ops alone settle it: pipelined, once a resource the ops
    hold is held as long as a period that loses; not pipelined, once the longest chain of op
    durations (at most the latency) loses."""
    for prob, layout, full, durations in _unpipelined(problems):
        chain = timeline._longest_chain(durations, timeline._tails(prob, durations))
        assert 0 < chain <= full.latency
        ops_held = {}
        for i in prob.ops:
            for resource, _, n in timeline._uses(layout, i, durations[i.index]):
                ops_held[resource] = ops_held.get(resource, 0) + n
        most = max(ops_held.values())
        with monkeypatch.context() as m:
            m.setattr(timeline, "plan_moves", _no_transfers)
            assert schedule(prob, layout, False, loses=lambda n, x=chain: n >= x) is None
            assert schedule(prob, layout, True, loses=lambda p, x=most: p >= x) is None


def test_the_chain_counts_the_transfers_between_its_ops(problems, monkeypatch):
    """A transfer leaves once its producers have ended and its consumer starts once it has
    arrived, so the longest chain that counts the transfers on its edges is a latency no
    schedule of the layout beats (and at least the chain of op durations alone). Not
    pipelined, a schedule it settles is given up before its steps are worked out."""
    longer = 0
    for prob, layout, full, durations in _unpipelined(problems):
        alone = timeline._longest_chain(durations, timeline._tails(prob, durations))
        waits = timeline._transfer_waits(prob, full.moves)
        chain = timeline._longest_chain(durations, timeline._tails(prob, durations, waits))
        assert alone <= chain <= full.latency
        longer += chain > alone
        with monkeypatch.context() as m:
            m.setattr(timeline, "_steps", _no_steps)
            assert schedule(prob, layout, False, loses=lambda n, x=chain: n >= x) is None
    assert longer, "no transfer lengthened a chain: the transfers' waits were never counted"


def _unrouted(m):
    """A copy of a routed move with only what planning gives it (its value, consumers and
    sends)."""
    return Move(m.value, m.src, m.dst, 0, 0, list(m.consumers), sends=dict(m.sends))


def test_a_transfer_takes_at_least_its_least_cycles(problems):
    """`moves.least_cycles` of a planned move never exceeds its routed cycles: a link carries
    at least what the sends leaving over it carry. It is exact for a move of one send, and it
    counts the sends that leave over one link together (more than the largest send alone).
    Where a move of the same sends was routed, it is that move's cycles."""
    exact = grouped = 0
    for prob, _, full, _ in _unpipelined(problems):
        for m in full.moves:
            assert least_cycles(prob, _unrouted(m)) == m.cycles  # routed: its own
            least = moves._bound(prob, tuple(m.sends.items()))
            assert least <= m.cycles, (m.sends, least, m.cycles)
            exact += len(m.sends) == 1 and least == m.cycles
            crossing = [n for (a, b), n in m.sends.items() if prob.mesh.route(a, b)]
            if crossing:  # the largest send alone over the farthest hops
                net, clock = prob.target.chip.network, prob.target.clock
                alone = net.arrival_cycles(net.serial_cycles(max(crossing), clock), m.hops, clock)
                grouped += least > alone
    assert exact, "no move of one send: the bound's exact case was never tried"
    assert grouped, "no sends shared a first link: the grouping was never tried"


def test_the_least_cycles_settle_a_schedule_before_its_transfers_are_routed(problems,
                                                                            monkeypatch):
    """Not pipelined, the longest chain that counts each transfer's `least_cycles` is a
    latency no schedule of the layout beats; a schedule it settles is given up before any
    move is routed."""
    settled = 0
    for prob, layout, full, durations in _unpipelined(problems):
        planned = [_unrouted(m) for m in full.moves]
        waits = timeline._transfer_waits(prob, planned, least_cycles)
        chain = timeline._longest_chain(durations, timeline._tails(prob, durations, waits))
        assert chain <= full.latency
        with monkeypatch.context() as m:
            m.setattr(timeline, "route", _no_routes)
            assert schedule(prob, layout, False, loses=lambda n, x=chain: n >= x) is None
        settled += 1
    assert settled


def test_the_least_waits_bound_the_transfers_before_any_is_planned(problems, monkeypatch):
    """`moves.least_waits` of a layout never exceeds the wait its planned and routed moves give
    an edge, and some edges get one; not pipelined, a schedule whose chain with them loses is
    given up before its transfers are planned."""
    bounded = 0
    for prob, layout, full, durations in _unpipelined(problems):
        least = moves.least_waits(prob, layout)
        waits = timeline._transfer_waits(prob, full.moves)
        assert all(n <= waits.get(edge, 0) for edge, n in least.items()), \
            [(e, n, waits.get(e, 0)) for e, n in least.items() if n > waits.get(e, 0)]
        bounded += bool(least)
        chain = timeline._longest_chain(durations, timeline._tails(prob, durations, least))
        with monkeypatch.context() as m:
            m.setattr(timeline, "plan_moves", _no_transfers)
            assert schedule(prob, layout, False, loses=lambda n, x=chain: n >= x) is None
    assert bounded, "no edge got a least wait: the bound was never tried"


def _no_routes(*args):
    raise AssertionError("moves routed for a schedule their least cycles settle")


def test_what_every_digital_strategy_shares_bounds_each_of_them(problems, monkeypatch):
    """`timeline.shared_held` of a placement's anchored layout holds for every digital
    strategy: the interval is at least the most a crossbar, bank or the I/O is held. A
    strategy it settles is given up before its own layout is worked out."""
    from passes._placement import placement

    for prob in problems:
        for place in _candidates(prob):
            anchored = layout_of(prob, dataclasses.replace(place, digital="anchored"))
            held = timeline.shared_held(prob, anchored)
            full = schedule(prob, layout_of(prob, place), True)
            assert held == max(c for r, c in full.busy.items()
                               if r.startswith(("crossbar:", "bank:", "io:")))
            assert held <= full.interval
            if place.digital == "anchored":
                continue
            with monkeypatch.context() as m:
                m.setattr(placement, "_digital", _no_layout)
                prob.layouts.clear()
                prob.timelines.clear()
                assert evaluate(prob, place, "throughput", WEIGHTS, None, held) is None


def _no_layout(prob, strategy, anchored):
    if strategy != "anchored":
        raise AssertionError(f"{strategy}'s layout worked out for a placement already settled")
    return anchored


def _no_steps(*args):
    raise AssertionError("steps worked out for a schedule its chain of ops and transfers settles")


def _no_transfers(*args):
    raise AssertionError("transfers planned for a schedule the ops alone settle")


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_candidate_is_given_up_only_when_it_cannot_score_below(problems, objective):
    refs = {}
    for prob in problems:
        refs[id(prob)] = evaluate(prob, naive(prob), objective, WEIGHTS)[0]
    for prob in problems:
        ref = refs[id(prob)]
        for place in _candidates(prob):
            prob.timelines.clear()  # each try schedules afresh
            score = evaluate(prob, place, objective, WEIGHTS, ref)[0]
            above = math.nextafter(score.value, math.inf)
            prob.timelines.clear()
            assert evaluate(prob, place, objective, WEIGHTS, ref, above)[0] == score
            prob.timelines.clear()
            at = evaluate(prob, place, objective, WEIGHTS, ref, score.value)
            if objective == "throughput":  # the value is the interval: settled by its period
                assert at is None
            elif objective == "latency":  # the value is the latency: a tie is given up
                assert at is None
            else:  # the bound leaves out the latency and the network: it may or may not tell
                assert at is None or at[0] == score


def test_balanced_puts_each_op_on_the_least_loaded_tile(problems):
    for prob in problems:
        layout = layout_of(prob, greedy(prob))
        tiles = prob.mesh.chip_tiles
        load, want = [0] * tiles, {}
        ops = [i for i in prob.ops if i.unit == "digital"]
        for info in sorted(ops, key=lambda i: (-duration(prob, layout, i), i.index)):
            tile = min(range(tiles), key=lambda t: (load[t], t))  # the first on ties
            load[tile] += duration(prob, layout, info)
            want[info.index] = (tile,)
        assert balanced(prob, layout) == want


def test_the_interval_bound_alone_is_the_interval_of_both_bounds(problems):
    for prob in problems:
        assert interval_bound(prob) == lower_bounds(prob)[1]
