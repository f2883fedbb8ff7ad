"""The functional check fails closed: a NaN or an infinity that ONNX Runtime does not have, or
a non-finite bound where the reference is finite, fails the check (and the compile, exit 2),
with a message naming the output and the first bad element."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.driver import compile
from compiler.functional import compare_output
from ir.errors import PimcError
from search.evaluate import EvalOptions, loop_cost


def _model(bad: float | None = None):
    """x [4, 6] @ w [6, 3] + b: a corrupt weight spoils one output column in ONNX Runtime,
    while per-tensor weight scaling spreads it over the whole quantised weight."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 3)).astype(np.float32)
    if bad is not None:
        w[2, 1] = bad
    b = rng.standard_normal(3).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
        "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_the_clean_model_passes():
    c = compile(_model(), "isaac", batch=4)
    f = c.functional
    assert f["passed"] and 0.0 < f["worst_error_over_bound"] <= 1.0
    assert all(math.isfinite(v) for v in f["max_abs_error"] + f["bound"])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_a_corrupt_weight_fails_the_compile(bad):
    with pytest.raises(PimcError, match=r"functional check failed: output y\[\d+, \d+\]: "):
        compile(_model(bad), "isaac", batch=4)


def test_the_unchecked_search_loop_scores_the_wrong_mapping():
    cost = loop_cost(_model(math.nan), "isaac", EvalOptions(batch=4))
    assert cost["latency_s"] > 0 and math.isfinite(cost["energy_j"])


@pytest.mark.parametrize("level", ["final", "full"])
def test_the_checked_search_loop_fails_its_candidate(level):
    """`EvalOptions.check`: a candidate the compiler maps to wrong numbers fails its trial
    (search.evaluate.evaluate_task records the line) instead of being scored."""
    with pytest.raises(PimcError, match=r"^functional check failed: output y\[\d+, \d+\]: "):
        loop_cost(_model(math.nan), "isaac", EvalOptions(batch=4, check=level))


def test_a_corrupt_weight_exits_2_from_the_cli(tmp_path):
    path = tmp_path / "nan.onnx"
    path.write_bytes(_model(math.nan).SerializeToString())
    proc = subprocess.run([sys.executable, "-m", "compiler", "compile", str(path), "--target",
                           "isaac", "--batch", "4", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("pimc: error:")]
    assert len(errors) == 1 and proc.stderr.strip().endswith(errors[0])  # one line, the last
    line = errors[0]
    assert "functional check failed: output y[0, 0]: the program gives nan" in line
    assert not (tmp_path / "out" / "schedule.json").exists()


# -- one output, element by element -----------------------------------------------------------
A = np.array([[1.0, 2.0], [3.0, 4.0]])
BOUND = np.full((2, 2), 0.1)


def _with(array, index, value):
    out = array.copy()
    out[index] = value
    return out


def test_within_the_bound_passes_and_reports_the_ratio():
    ratio, why = compare_output("y", A + 0.05, A, BOUND)
    assert why == "" and ratio == pytest.approx(0.5)


def test_beyond_the_bound_names_the_element():
    ratio, why = compare_output("y", _with(A, (1, 0), 3.5), A, BOUND)
    assert ratio == pytest.approx(5.0) and why.startswith("output y[1, 0]: error 0.5 exceeds")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_value_onnx_runtime_does_not_have_fails(value):
    ratio, why = compare_output("out", _with(A, (0, 1), value), A, BOUND)
    assert ratio == math.inf
    assert why == f"output out[0, 1]: the program gives {value}, ONNX Runtime gives 2.0"


def test_a_finite_value_where_onnx_runtime_has_nan_fails():
    ratio, why = compare_output("y", A, _with(A, (1, 1), math.nan), BOUND)
    assert ratio == math.inf and why == "output y[1, 1]: ONNX Runtime gives nan, the program " \
                                        "gives 4.0"


def test_infinities_of_opposite_sign_fail():
    ratio, why = compare_output("y", _with(A, (0, 0), -math.inf), _with(A, (0, 0), math.inf),
                                BOUND)
    assert ratio == math.inf and why.startswith("output y[0, 0]: the program gives -inf")


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_non_finite_bound_fails_even_when_the_values_agree(value):
    ratio, why = compare_output("y", A, A, _with(BOUND, (1, 0), value))
    assert ratio == math.inf and why == f"output y[1, 0]: the error bound is {value} " \
                                        "(reference 3.0)"


def test_the_same_nan_or_infinity_at_the_same_place_agrees():
    got = _with(_with(A, (0, 0), math.nan), (1, 1), -math.inf)
    ratio, why = compare_output("y", got, got.copy(), _with(BOUND, (0, 0), math.nan))
    assert why == "" and ratio == 0.0


def test_a_shape_mismatch_fails():
    ratio, why = compare_output("y", A[:1], A, BOUND)
    assert ratio == math.inf and "shape [1, 2]" in why
