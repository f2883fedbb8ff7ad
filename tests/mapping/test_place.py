"""place, schedule and bound on hand-written pim-level IR (docs/mapping.md)."""

import dataclasses
from collections import Counter

import pytest
from builders import crossbar_tiles, mlp, tiny_target
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import passes
from compiler.checker import check_schedule
from compiler.schedule_json import schedule_dict
from ir.dialects import pim
from ir.errors import PimcError
from ir.text import print_module
from passes.pipeline import parse_pipeline
from targets import load_target


def run(module, spec):
    for p in parse_pipeline(spec):
        p.apply(module)
    return module


def placements(module):
    return {(op.attrs["op"], tuple(op.attrs["tile"]), r): x
            for op in module.main.find(pim.MVM) for r, x in enumerate(op.attrs["pim.loc"])}


def test_registered_under_their_own_names():
    for name in ("place", "schedule", "lower-bound"):
        assert passes.get_pass(name).name == name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths=st.lists(st.integers(4, 150), min_size=2, max_size=4),
       batch=st.integers(1, 6), solver=st.sampled_from(["naive", "greedy", "cp-sat"]),
       objective=st.sampled_from(["latency", "throughput", "energy", "mix"]))
def test_never_over_capacity(tmp_path, widths, batch, solver, objective):
    target = tiny_target(tmp_path, tiles=2, arrays=6)
    module = mlp(target, widths, batch=batch, embeddings=1)
    if crossbar_tiles(module) > 12:
        with pytest.raises(PimcError, match="crossbars"):
            run(module, f"place{{solver={solver}}}")
        return
    run(module, f"place{{solver={solver},objective={objective},time-limit=0.05}},schedule")
    xbars = Counter(placements(module).values())
    assert all(0 <= x < 12 and n == 1 for x, n in xbars.items())
    banks = Counter()
    for op in module.main.find(pim.Gather):
        banks[op.attrs["pim.loc"][0]] += op.operands[0].type.size * 4
    assert max(banks.values()) <= load_target(target).dram.bank_size // 8
    assert check_schedule(schedule_dict(module, load_target(target), objective)) == []


@pytest.mark.parametrize("solver", ["naive", "greedy", "cp-sat"])
def test_every_tile_placed_once_per_replica(solver):
    module = run(mlp("isaac", [40, 300, 64], batch=8), f"place{{solver={solver},time-limit=0.2}}")
    for op in module.main.find(pim.MVM):
        assert len(op.attrs["pim.loc"]) == op.attrs["pim.replicas"] >= 1
    per_op = {}
    for op in module.main.find(pim.MVM):
        per_op.setdefault(op.attrs["op"], set()).add(op.attrs["pim.replicas"])
    assert all(len(r) == 1 for r in per_op.values())  # all tiles of an op share the count
    assert len(set(placements(module).values())) == len(placements(module))


def test_naive_does_not_replicate_greedy_does():
    naive = run(mlp("isaac", [40, 64, 32], batch=8), "place{solver=naive}")
    greedy = run(mlp("isaac", [40, 64, 32], batch=8), "place{solver=greedy}")
    assert {op.attrs["pim.replicas"] for op in naive.main.find(pim.MVM)} == {1}
    assert max(op.attrs["pim.replicas"] for op in greedy.main.find(pim.MVM)) == 8


@pytest.mark.parametrize("objective", ["latency", "throughput", "mix"])
def test_same_input_same_schedule(objective):
    spec = f"place{{objective={objective},time-limit=0.3}},schedule,lower-bound"
    a = print_module(run(mlp("isaac", [30, 200, 50, 8], batch=4), spec))
    b = print_module(run(mlp("isaac", [30, 200, 50, 8], batch=4), spec))
    assert a == b  # every line, the module's facts too: nothing in the program is a wall time


PROBLEMS = [([20, 40, 10], 4, 1), ([64, 200, 64, 1], 8, 0), ([13, 100, 60, 30], 3, 2)]


@pytest.mark.parametrize("widths,batch,emb", PROBLEMS)
@pytest.mark.parametrize("objective", ["latency", "throughput"])
def test_cpsat_not_worse_than_greedy_not_worse_than_naive(tmp_path, widths, batch, emb, objective):
    target = tiny_target(tmp_path, tiles=2, arrays=32)
    values, lows = {}, None
    for solver in ("naive", "greedy", "cp-sat"):
        m = run(mlp(target, widths, batch=batch, embeddings=emb),
                f"place{{solver={solver},objective={objective},time-limit=0.3}},schedule,lower-bound")
        values[solver] = m.attrs["pim.place.value"]
        lows = (m.attrs["pim.lower_bound.latency"], m.attrs["pim.lower_bound.interval"])
        assert lows[0] <= m.attrs["pim.latency"] and lows[1] <= m.attrs["pim.interval"]
        want = m.attrs["pim.latency"] if objective == "latency" else m.attrs["pim.interval"]
        assert values[solver] == want
    assert values["cp-sat"] <= values["greedy"] <= values["naive"]


def test_too_short_time_limit_falls_back_to_greedy():
    spec = "place{objective=latency,time-limit=0.000001}"
    m = run(mlp("isaac", [64, 512, 256, 128, 1], batch=64), spec)
    assert m.attrs["pim.place.solver"] == "greedy"
    assert "time limit" in m.attrs["pim.place.fallback"]


def test_greedy_at_the_bound_skips_cpsat():
    m = run(mlp("isaac", [40, 64], batch=2), "place{objective=throughput},schedule,lower-bound")
    assert m.attrs["pim.place.status"] == "optimal"
    assert m.attrs["pim.place.value"] == m.attrs["pim.lower_bound.interval"]


def test_schedule_respects_dependencies_transfers_and_resources(tmp_path):
    target = tiny_target(tmp_path, tiles=2, arrays=16)
    m = run(mlp(target, [20, 100, 30], batch=4, embeddings=1), "place{solver=greedy},schedule")
    g = m.main
    transfers = g.find(pim.Transfer)
    assert transfers and all(t.attrs["hops"] >= 1 and t.attrs["bytes"] > 0 for t in transfers)
    for op in g.ops:
        for v in op.operands:
            p = v.owner
            if p is not None and "pim.end" in p.attrs and "pim.start" in op.attrs:
                assert op.attrs["pim.start"] >= p.attrs["pim.end"], (p, op)
    busy = {}
    for op in g.ops:
        if op.attrs.get("pim.unit") in ("crossbar", "digital", "bank"):
            for x in op.attrs["pim.loc"]:
                busy.setdefault((op.attrs["pim.unit"], x), []).append(
                    (op.attrs["pim.start"], op.attrs["pim.end"]))
    for spans in busy.values():
        spans.sort()
        assert all(b[0] >= a[1] for a, b in zip(spans, spans[1:]))
    assert m.attrs["pim.interval"] <= m.attrs["pim.latency"]


def test_place_needs_units_and_a_target():
    m = mlp("isaac", [8, 8])
    del m.attrs["pim.target"]
    with pytest.raises(PimcError, match="pim.target"):
        run(m, "place")
    with pytest.raises(PimcError, match="solver"):
        run(mlp("isaac", [8, 8]), "place{solver=magic}")
    with pytest.raises(PimcError, match="run place first"):
        run(mlp("isaac", [8, 8]), "schedule")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths=st.lists(st.integers(4, 300), min_size=2, max_size=4), batch=st.integers(1, 24),
       tiles=st.integers(2, 4), arrays=st.integers(4, 16), emb=st.integers(0, 2),
       solver=st.sampled_from(["naive", "greedy", "cp-sat"]),
       objective=st.sampled_from(["latency", "throughput"]),
       digital=st.sampled_from(["anchored", "earliest-finish", "balanced"]))
def test_no_schedule_beats_the_bound(tmp_path, widths, batch, tiles, arrays, emb, solver,
                                     objective, digital):
    """The bound holds for every solver's schedule and for every digital placement."""
    from passes._placement import heuristics
    from passes._placement.lower_bounds import lower_bounds
    from passes._placement.placement import evaluate
    from passes._placement.problem import Problem

    target = tiny_target(tmp_path, tiles=tiles, arrays=arrays)
    module = mlp(target, widths, batch=batch, embeddings=emb)
    if crossbar_tiles(module) > tiles * arrays:
        return
    run(module, f"place{{solver={solver},objective={objective},time-limit=0.05}},schedule,lower-bound")
    assert module.attrs["pim.lower_bound.latency"] <= module.attrs["pim.latency"]
    assert module.attrs["pim.lower_bound.interval"] <= module.attrs["pim.interval"]
    prob = Problem.of(module)
    latency, interval = lower_bounds(prob)
    place = heuristics.greedy(prob) if solver == "greedy" else heuristics.naive(prob)
    score, _, _ = evaluate(prob, dataclasses.replace(place, digital=digital), objective,
                           (1, 1, 0))
    assert latency <= score.latency and interval <= score.interval


@pytest.mark.parametrize("digital", ["anchored", "earliest-finish", "balanced"])
def test_evaluating_a_candidate_leaves_the_module_untouched(digital):
    """Candidates are values: scoring one writes nothing; only `place` writes the chosen one."""
    from passes._placement import heuristics
    from passes._placement.placement import evaluate
    from passes._placement.problem import Problem

    module = mlp("hetero", [40, 64, 8], batch=4, embeddings=1)
    before = print_module(module)
    prob = Problem.of(module)
    for place in (heuristics.naive(prob), heuristics.greedy(prob)):
        score, _, layout = evaluate(prob, dataclasses.replace(place, digital=digital),
                                    "throughput", (1, 1, 0))
        assert score.interval > 0 and layout.loc
    assert print_module(module) == before
    run(module, "place{solver=greedy}")
    assert print_module(module) != before and placements(module)


def test_the_interval_bound_counts_the_one_offchip_io():
    """On isaac tables live in off-chip DRAM: every lookup's read holds the chip's one I/O, so
    the interval is at least their sum, although each op alone and each tile's work is less."""
    from pathlib import Path

    from compiler.driver import compile
    from passes._placement.lower_bounds import lower_bounds
    from passes._placement.problem import Problem

    fm = Path(__file__).resolve().parents[1] / "fixtures/onnx/torchfm_fm_legacy.onnx"
    module = compile(fm, "isaac", batch=64, emit="scheduled").module
    prob = Problem.of(module)
    io = [i.io_part(i.cycles) for i in prob.ops if i.io_cycles > 0]
    assert len(io) > 1 and sum(io) > max(i.cycles for i in prob.ops)  # the I/O binds
    latency, interval = lower_bounds(prob)
    assert sum(io) <= interval <= module.attrs["pim.interval"] and latency >= sum(io)
