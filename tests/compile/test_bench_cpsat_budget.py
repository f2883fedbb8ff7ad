"""bench/cpsat_budget.py: whether CP-SAT ran is read from the place pass's own fallback
messages, and figures are compared lower-is-better."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from cpsat_budget import _compile, compared  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "onnx"


def test_a_compile_where_greedy_meets_the_bound_counts_as_no_cpsat_run():
    _, ran, figures = _compile(FIXTURES / "deepctr_wdl_legacy.onnx", "isaac", "throughput", 0.05)
    assert not ran
    assert figures["interval"] > 0 and figures["latency"] >= figures["interval"]


def test_a_compile_where_cpsat_runs_counts_as_one():
    _, ran, _ = _compile(FIXTURES / "deepctr_afm_legacy.onnx", "isaac", "throughput", 0.05)
    assert ran


def test_figures_are_compared_lower_is_better():
    assert compared([90, 100, 130], [100, 100, 100]) == (1, 1, 1, 1.3, 0.9)
    assert compared([100, 100], [100, 100]) == (0, 2, 0, 1.0, 1.0)
    assert compared([], []) == (0, 0, 0, 1.0, 1.0)
