"""`compile(report="costs")`, the search loop's compile: the cost figures of the full report
and the simulator's, the same as a full compile gives, without the schedule's per-crossbar
`tiles` and the report's per-op energies; nothing to write, and only with check "none"."""

from pathlib import Path

import pytest

from compiler.driver import compile
from compiler.mapped_report import cost_figures, report_of
from ir.errors import PimcError
from search.evaluate import EvalOptions, compile_cost, loop_pipeline
from targets import load_target

ONNX = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx"
CASES = [("torchrec_dlrm_legacy", "isaac"), ("torchfm_xdfm_legacy", "hetero"),
         ("deepctr_wdl_legacy", "puma"), ("deepctr_dcn_legacy", "hbm-pim")]


@pytest.mark.parametrize("model, target", CASES)
def test_the_costs_are_the_full_reports(model, target):
    path = ONNX / f"{model}.onnx"
    full = compile(path, target, batch=8, check="none")
    costs = compile(path, target, batch=8, check="none", report="costs")
    assert costs.scope == "costs" and full.scope == "full"
    assert set(costs.report) == {*cost_figures(full.module), "simulated"}
    assert {k: full.report[k] for k in costs.report} == costs.report
    assert {k: v for k, v in full.schedule.items() if k != "tiles"} == costs.schedule
    assert "tiles" not in costs.schedule and "tiles" in full.schedule
    assert bool(full.schedule["tiles"]) == (target != "hbm-pim")  # hbm-pim has no crossbars
    assert costs.warnings == full.warnings


def test_the_cost_figures_are_the_reports_own():
    """Every figure `cost_figures` gives is the report's, as its dict has it."""
    module = compile(ONNX / "torchrec_dlrm_legacy.onnx", "isaac", batch=8, check="none",
                     emit="scheduled").module
    report = report_of(module).to_dict()
    figures = cost_figures(module)
    assert figures == {k: report[k] for k in figures}
    assert figures["crossbars_used"] > 0 and figures["area"]["used_mm2"] > 0


def test_the_loops_figures_are_those_of_a_full_report():
    """`compile_cost` (the loop's pipeline) reads the same figures from a costs report as it
    would from the full one."""
    opts = EvalOptions(batch=8)
    path = ONNX / "torchrec_dlrm_legacy.onnx"
    compiled, got = compile_cost(path, "isaac", opts)
    assert compiled.scope == "costs"
    full = compile(path, "isaac", batch=8, objective=opts.objective,
                   pipeline=loop_pipeline("isaac", opts, load_target("isaac").precision.weights),
                   time_limit=opts.time_limit,
                   seed=opts.seed, check="none")
    sim = full.report["simulated"]
    assert got["energy_j"] == sim["energy_j"]
    assert got["samples_per_s"] == sim["samples_per_second"]
    assert got["used_area_mm2"] == full.report["area"]["used_mm2"]
    assert got["crossbars_used"] == full.report["crossbars_used"]


def test_a_costs_compile_writes_nothing(tmp_path):
    costs = compile(ONNX / "torchrec_dlrm_legacy.onnx", "isaac", batch=8, check="none",
                    report="costs")
    with pytest.raises(PimcError, match="report 'costs' has no artifacts to write"):
        costs.write(tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("check", ["final", "full", True])
def test_costs_take_no_check(check):
    with pytest.raises(PimcError, match=r"report 'costs' with check '\w+'.*accepted"):
        compile(ONNX / "torchrec_dlrm_legacy.onnx", "isaac", batch=8, check=check,
                report="costs")


def test_an_unknown_report_is_refused_before_any_work(monkeypatch):
    import frontend.onnx

    monkeypatch.setattr(frontend.onnx, "import_onnx", _no_import)
    with pytest.raises(PimcError, match="report 'lean'; accepted: full, costs"):
        compile(ONNX / "torchrec_dlrm_legacy.onnx", "isaac", batch=8, check="none",
                report="lean")


def _no_import(*args, **kwargs):
    raise AssertionError("imported a model for a compile its options refuse")


def test_a_figures_only_compile_makes_no_inputs_of_its_own(monkeypatch):
    """The loop's compile (its own pipeline, no check, the figures only) calibrates in its
    assign-precision pass; the driver's seeded inputs and their scratch folder are not made.
    Near miss: the same compile with the full report has them (they are written with it)."""
    import compiler.driver as driver

    fed = []
    real = driver._feed
    monkeypatch.setattr(driver, "_feed", lambda *a, **k: fed.append(1) or real(*a, **k))
    path = ONNX / "torchrec_dlrm_legacy.onnx"
    opts = EvalOptions(batch=8)
    compiled, _ = compile_cost(path, "isaac", opts)
    assert compiled.inputs is None and not fed
    full = compile(path, "isaac", batch=8, objective=opts.objective, check="none",
                   pipeline=loop_pipeline("isaac", opts, load_target("isaac").precision.weights))
    assert fed == [1] and set(full.inputs) == {"dense", "sparse"}
