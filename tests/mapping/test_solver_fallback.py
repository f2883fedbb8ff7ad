"""CP-SAT's answer is kept only when it scores at least as well as greedy's on the objective;
otherwise, or when CP-SAT finds nothing, greedy's placement is kept and `pim.place.fallback`
says why (passes/_placement/solve.py). CP-SAT's own answer is replaced here by a fake."""

import dataclasses
from pathlib import Path

import pytest

from compiler.driver import compile
from ir.dialects.pim_attrs import PLACE_FACTS
from passes._placement import cpsat, solve
from passes._placement.placement import evaluate
from passes._placement.problem import Problem
from passes.place import Place

ROOT = Path(__file__).resolve().parents[2]
AFM = ROOT / "tests" / "fixtures" / "onnx" / "torchfm_afm_legacy.onnx"
OPTS = solve.Options("cp-sat", "throughput", time_limit=0.5)  # greedy misses the bound here


@pytest.fixture(scope="module")
def tiled():
    return compile(AFM, "isaac", batch=8, emit="tiled").module


@pytest.fixture(scope="module")
def greedy(tiled):
    return solve.run(Problem.of(tiled), dataclasses.replace(OPTS, solver="greedy"))


def _fake(monkeypatch, placement, status="feasible"):
    calls = []

    def fake_solve(model, time_limit, seed, workers):
        calls.append(time_limit)
        return cpsat.Result(placement, status, 0.0, 0.0, 0.5, 0.01)

    monkeypatch.setattr(cpsat, "solve", fake_solve)
    return calls


def test_a_worse_cpsat_answer_is_dropped_for_greedys_and_the_reason_recorded(
        tiled, greedy, monkeypatch):
    prob = Problem.of(tiled)
    bad = dataclasses.replace(greedy.placement,
                              replicas={n: 1 for n in greedy.placement.replicas})
    bad_score = evaluate(prob, bad, "throughput", OPTS.weights)[0]
    assert bad_score.value > greedy.score.value  # the fake really is worse
    calls = _fake(monkeypatch, bad)
    out = solve.run(prob, OPTS)
    assert calls, "CP-SAT was not asked (greedy met the bound?)"
    assert out.attrs["solver"] == "greedy" and out.placement.replicas == greedy.placement.replicas
    assert out.score.value == greedy.score.value
    assert out.attrs["fallback"] == (f"CP-SAT's placement (feasible on its own model, gap 0.5) "
                                     f"scores {bad_score.value:.6g}, greedy's "
                                     f"{greedy.score.value:.6g} on the schedule; greedy's kept")
    # greedy's answer, greedy's status: not CP-SAT's, which is of the placement it dropped
    assert (out.attrs["status"], out.attrs["gap"], out.attrs["bound"]) == ("heuristic", 1.0, 0.0)


def test_cpsats_optimum_that_schedules_worse_is_not_called_optimal(tiled, greedy, monkeypatch):
    """CP-SAT proves its own model's optimum, which then scores worse than greedy on the
    schedule: the placement kept is greedy's, and nothing says it is optimal (the compile
    warns rather than notes it)."""
    prob = Problem.of(tiled)
    bad = dataclasses.replace(greedy.placement,
                              replicas={n: 1 for n in greedy.placement.replicas})
    _fake(monkeypatch, bad, status="optimal")
    out = solve.run(prob, OPTS)
    assert out.attrs["solver"] == "greedy" and out.attrs["status"] == "heuristic"
    assert out.attrs["fallback"].startswith("CP-SAT's placement (optimal on its own model, gap 0.5)")
    module = compile(AFM, "isaac", batch=8, emit="tiled").module
    Place(objective="throughput", time_limit=0.5).apply(module)
    assert PLACE_FACTS["status"].of(module) == "heuristic"


def test_the_place_pass_writes_the_fallback_reason_on_the_module(tiled, greedy, monkeypatch):
    module = compile(AFM, "isaac", batch=8, emit="tiled").module
    bad = dataclasses.replace(greedy.placement,
                              replicas={n: 1 for n in greedy.placement.replicas})
    _fake(monkeypatch, bad)
    Place(objective="throughput", time_limit=0.5).apply(module)
    assert PLACE_FACTS["solver"].of(module) == "greedy"
    assert "greedy's kept" in PLACE_FACTS["fallback"].of(module)


def test_no_cpsat_solution_keeps_greedy_and_says_so(tiled, greedy, monkeypatch):
    calls = _fake(monkeypatch, None, status="unknown")
    out = solve.run(Problem.of(tiled), OPTS)
    assert calls and out.attrs["solver"] == "greedy" and out.attrs["status"] == "unknown"
    assert out.placement.replicas == greedy.placement.replicas
    assert out.attrs["fallback"] == ("CP-SAT found no solution within the time limit of 0.5 s "
                                     "(status unknown); greedy's placement")


def test_near_miss_a_better_or_equal_cpsat_answer_is_kept(tiled, greedy, monkeypatch):
    prob = Problem.of(tiled)
    real = solve.run(prob, OPTS)  # the real CP-SAT beats greedy on this model
    assert real.attrs["solver"] == "cp-sat" and "fallback" not in real.attrs
    assert real.score.value < greedy.score.value
    _fake(monkeypatch, greedy.placement)  # a tie: CP-SAT's answer is used
    tie = solve.run(prob, OPTS)
    assert tie.attrs["solver"] == "cp-sat" and "fallback" not in tie.attrs
    assert tie.score.value == greedy.score.value


def _model_size(prob, greedy) -> int:
    from passes._placement.moves import edge_bytes

    ref = evaluate(prob, greedy.placement, "throughput", OPTS.weights)[0]
    return cpsat.size(cpsat.build(prob, "throughput", OPTS.weights, ref, edge_bytes(prob)))


def test_a_model_too_large_for_the_time_limit_is_not_given_to_cpsat(tiled, greedy, monkeypatch):
    prob = Problem.of(tiled)
    n = _model_size(prob, greedy)
    monkeypatch.setattr(cpsat, "MAX_VARIABLES", n - 1)
    calls = _fake(monkeypatch, greedy.placement)
    out = solve.run(Problem.of(tiled), OPTS)
    assert not calls
    assert out.attrs["solver"] == "greedy" and out.placement == greedy.placement
    assert out.attrs["fallback"] == (f"CP-SAT not run: its model has at least {n} variables, "
                                     f"more than the {n - 1} past which it no longer beat greedy "
                                     "within its time limit and took several times it; greedy's "
                                     "placement")


def test_a_model_surely_too_large_is_not_even_built(tiled, greedy, monkeypatch):
    prob = Problem.of(tiled)
    least = cpsat.least_size(prob)
    assert 0 < least <= _model_size(prob, greedy)  # a true lower bound on the model's size
    monkeypatch.setattr(cpsat, "MAX_VARIABLES", least - 1)
    monkeypatch.setattr(cpsat, "build", lambda *a: pytest.fail("the model was built"))
    out = solve.run(Problem.of(tiled), OPTS)
    assert out.attrs["fallback"].startswith(f"CP-SAT not run: its model has at least {least} "
                                            f"variables, more than the {least - 1} ")


def test_near_miss_a_model_at_the_limit_is_given_to_cpsat(tiled, greedy, monkeypatch):
    prob = Problem.of(tiled)
    monkeypatch.setattr(cpsat, "MAX_VARIABLES", _model_size(prob, greedy))
    calls = _fake(monkeypatch, greedy.placement)
    solve.run(Problem.of(tiled), OPTS)
    assert calls == [0.5]
