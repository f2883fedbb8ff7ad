"""Greedy growth stops at two floors for pipelined objectives (passes/_placement/solve.py
`floors`): the busiest resource other than crossbars under the naive layout, and the interval's
lower bound. Each is needed: on one fixture only the bound's stop reaches the best interval, on
another only the busiest resource's; growth to capacity reaches neither."""

from pathlib import Path

import pytest

from compiler.driver import compile
from passes._placement import solve
from passes._placement.heuristics import greedy, naive
from passes._placement.lower_bounds import interval_bound
from passes._placement.placement import evaluate
from passes._placement.problem import Problem

ONNX = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx"
OPTS = solve.Options("greedy", "throughput")


def _problem(model: str, target: str) -> Problem:
    return Problem.of(compile(ONNX / f"{model}.onnx", target, batch=8, emit="tiled").module)


def _scored(prob: Problem, stop: int) -> float:
    """Greedy stopped at `stop` (0: grown to capacity), with its best digital strategy."""
    ref = evaluate(prob, naive(prob), OPTS.objective, OPTS.weights)[0]
    return solve._best_digital(prob, greedy(prob, stop), OPTS, ref, 0.0).score.value


def _floors(prob: Problem) -> tuple[int, int]:
    """(busiest other resource under the naive layout, the interval's lower bound)."""
    timeline = evaluate(prob, naive(prob), OPTS.objective, OPTS.weights)[1]
    stops = solve.floors(prob, timeline.busy, OPTS.objective)
    bound = interval_bound(prob)
    busiest = max((c for r, c in timeline.busy.items() if not r.startswith("crossbar:")))
    assert stops == tuple(sorted({busiest, bound}, reverse=True))
    return busiest, bound


@pytest.mark.parametrize("model,target,needed", [
    ("torchfm_xdfm_legacy", "isaac", "bound"),      # 29,204 cycles; 53,774 without it
    ("deepctr_fibinet_legacy", "puma", "busiest"),  # 10,314 cycles; 13,888 without it
])
def test_each_floor_is_where_greedy_finds_the_best_interval(model, target, needed):
    prob = _problem(model, target)
    busiest, bound = _floors(prob)
    assert busiest != bound
    kept = bound if needed == "bound" else busiest
    other = busiest if needed == "bound" else bound
    found = solve.run(prob, OPTS).score.value
    assert found == _scored(prob, kept)
    assert found < min(_scored(prob, other), _scored(prob, 0))  # the near misses


def test_latency_has_no_floor():
    """A copy still shortens its op: growth for latency goes on while crossbars last."""
    prob = _problem("torchfm_xdfm_legacy", "isaac")
    timeline = evaluate(prob, naive(prob), "latency", OPTS.weights)[1]
    assert solve.floors(prob, timeline.busy, "latency") == ()


def test_growth_stops_once_a_stop_meets_the_bound(monkeypatch):
    """DLRM on isaac: the busiest resource's stop scores 7,680 cycles, the bound's 6,740, which
    is the bound. The bound's stop (more copies) is scored first; the busiest's, which would
    win a tie, only up to the bound, so its schedules are given up; growth to capacity could
    only tie and lose, so it is not scored."""
    prob = _problem("torchrec_dlrm_legacy", "isaac")
    tried = []
    real = solve._best_digital

    def counting(prob, place, *args):
        out = real(prob, place, *args)
        tried.append((place.used(prob), out and out.score.value))
        return out

    monkeypatch.setattr(solve, "_best_digital", counting)
    out = solve.run(prob, OPTS)
    assert out.score.value == interval_bound(prob) == 6740
    (bound_stop, found), (busiest_stop, given_up) = tried
    assert busiest_stop < bound_stop < prob.mesh.crossbars
    assert (found, given_up) == (6740, None)
    assert _scored(prob, _floors(prob)[0]) == 7680  # what the given-up schedules would score


def test_an_earlier_stop_scored_later_still_wins_a_tie():
    """Layouts are scored out of order (the last stop's first), but a tie still goes to the
    earlier stop (fewer copies). DLRM on isaac: the bound's stop and growth to capacity both
    score 6,740 cycles. With a stop at 1 cycle (which grows to capacity) last and no bound to
    stop at, capacity is scored first; the bound's stop, scored after it, must be scored up to
    that value and win the tie (given up at it, capacity would be kept)."""
    prob = _problem("torchrec_dlrm_legacy", "isaac")
    bound = interval_bound(prob)
    fewer, more = greedy(prob, bound), greedy(prob, 1)
    assert more == greedy(prob, 0) and fewer.used(prob) < more.used(prob)
    ties = [solve._best_digital(prob, p, OPTS, None, 0.0).score.value for p in (fewer, more)]
    assert ties == [6740, 6740]
    fresh = _problem("torchrec_dlrm_legacy", "isaac")  # no schedule kept from the above
    found = solve._best_greedy(fresh, OPTS, None, (bound, 1), 0.0)
    assert found.placement.replicas == fewer.replicas
