"""A retry of the pipelined list schedule at a longer period resumes after the steps that no
longer period changes (passes/_placement/resume.py); its timeline must be exactly the one
that trying every period from scratch gives."""

from pathlib import Path

import pytest

from compiler.driver import compile as compile_model
from passes._placement import timeline
from passes._placement.layout import read_layout
from passes._placement.problem import Problem
from passes._placement.resume import Prefix, _repeats
from passes.place import Place

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


def _tables(prob, layout):
    """What every try reads: durations, moves, steps, tables and the first period tried."""
    durations = {i.index: timeline.duration(prob, layout, i) for i in prob.ops}
    wanted = {i.index: timeline._uses(layout, i, durations[i.index]) for i in prob.ops}
    moves = timeline.plan_moves(prob, layout)
    link_uses = [timeline._move_uses(m) for m in moves]
    busy: dict[str, int] = {}
    for w in [*wanted.values(), *link_uses]:
        for r, _, length in w:
            busy[r] = busy.get(r, 0) + length
    steps, tables = timeline._steps(prob, durations, wanted, moves, link_uses)
    return durations, moves, steps, tables, max(busy.values())


def _longer(period):
    return period + max(1, period // 64)


@pytest.fixture(scope="module")
def placed():
    """SASRec on isaac, placed by greedy: its schedule needs several periods."""
    res = compile_model(str(FIXTURES / "recbole_sasrec_legacy.onnx"), "isaac", batch=8,
                        check="none", emit="tiled")
    Place(solver="greedy", objective="throughput").apply(res.module)
    prob = Problem.of(res.module)
    return prob, read_layout(prob)


def test_a_resumed_retry_gives_the_timeline_of_fresh_tries(placed):
    prob, layout = placed
    durations, moves, steps, tables, period = _tables(prob, layout)
    tries = 1
    while (ref := timeline._run(steps, tables, durations, moves, period, None)) is None:
        tries, period = tries + 1, _longer(period)
    ref_moves = [(m.start, m.end) for m in moves]
    got = timeline.schedule(prob, layout, pipelined=True)
    assert (got.start, got.end, got.latency, got.interval) == \
        (ref.start, ref.end, ref.latency, ref.interval)
    assert list(got.start) == list(ref.start)  # in the same order too
    assert [(m.start, m.end) for m in got.moves] == ref_moves
    assert tries > 1  # the model needs retries, or there is nothing to resume


def test_each_resumed_try_matches_a_fresh_one_and_the_prefix_grows(placed):
    prob, layout = placed
    durations, moves, steps, tables, period = _tables(prob, layout)
    prefix, covered = Prefix(tables), []
    while True:
        fresh = timeline._run(steps, tables, durations, moves, period, None)
        resumed = timeline._run(steps, tables, durations, moves, period, prefix)
        covered.append(prefix.steps)
        assert (fresh is None) == (resumed is None)
        if fresh is not None:
            assert (resumed.start, resumed.end) == (fresh.start, fresh.end)
            break
        period = _longer(period)
    assert covered == sorted(covered) and covered[-1] > 0


def test_a_use_that_reaches_the_period_does_not_repeat():
    bounds = (0, 2, 7)  # least offset, greatest offset, greatest end
    assert _repeats(bounds, 0, 93, 100)
    assert not _repeats(bounds, 0, 94, 100)  # ends past the period: it would wrap
    assert not _repeats((-3, 0, 5), 2, 10, 100)  # starts before cycle 0: it wraps back
    assert _repeats((-3, 0, 5), 3, 10, 100)
    assert not _repeats((0, 0, 0), 0, 100, 100)  # an empty use at the period wraps to 0
    assert _repeats(None, 0, 10 ** 9, 100)  # no probe: nothing depends on the period
