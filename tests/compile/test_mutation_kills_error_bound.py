"""Error-bound rules that mutation testing found unguarded by the fast tests (docs/mutation.md):
the ADC term of a crossbar tile (its worked value, zero when the ADC resolves every column
sum, and that a tile's bound carries it), a crossbar-marked nn.matmul, layer norm with exact
inputs, and argmax over a rank-3 tensor."""

import numpy as np
import pytest

from ir.core import Graph, Module, Value
from ir.dialects import lookup, pim
from ir.dialects.pim_attrs import A_BITS, W_BITS, X_SCALE
from ir.interp import evaluate, run
from ir.types import TensorType
from passes._lowering.error_bound_rules import RULES, adc_error, quantised_linear
from passes._lowering.geometry import Geometry
from passes._lowering.mvm import Crossbar, tile_matrix
from passes.error_bound import _rule, error_bound


def _op(name, shapes, attrs=None):
    return lookup(name)([Value(TensorType(s, "f32")) for s in shapes], attrs or {})


def _adc(rows_bits: int, signed: str) -> dict:
    return {"dac_bits": 1, "cell_bits": 1, "adc_bits": rows_bits, "a_bits": 8, "w_bits": 8,
            "signed": signed, "x_scale": 1.0, "w_scale": 1.0}


def test_the_adc_term_is_zero_while_the_adc_resolves_every_column_sum():
    # 1-bit DAC and cells: a column sums to at most `rows`; a 4-bit ADC resolves up to 15
    assert adc_error(_adc(4, "offset"), 15) == 0.0
    assert adc_error(_adc(4, "offset"), 16) > 0.0


@pytest.mark.parametrize("signed, want", [
    # 32 rows of 1-bit cells: full scale 32, so a step of 2^(6 - 4) = 4 and eps = max(2, 3);
    # an 8-bit input is 7 one-bit digits (127); offset weights 8 magnitude digits (255),
    # two passes plus the offset column's 2^7 eps x_digits; differential pairs 7 digits
    # (127), four passes
    ("offset", 2 * (3 * 127 * 255 + 2 ** 7 * 3 * 127)),
    ("differential", 4 * 3 * 127 * 127),
])
def test_the_adc_term_of_a_worked_example(signed, want):
    assert adc_error(_adc(4, signed), 32) == want


@pytest.mark.parametrize("signed", ["offset", "differential"])
def test_a_tile_behind_a_coarse_adc_stays_within_its_bound_which_carries_the_adc_term(signed):
    geo = Geometry(8, 6, 2, 1, 4, signed)  # 8 rows of 2-bit cells: 4 ADC bits clip and round
    x = Value(TensorType((2, 8), "f32"), name="x")
    rng = np.random.default_rng(3)
    w = rng.normal(size=(8, 6)).astype(np.float32)
    ops, out = tile_matrix(x, w, "dense0", Crossbar(geo, 8, 8, 0.01, False))
    feed = {"x": rng.normal(size=(2, 8)).astype(np.float32)}
    mvms = [op for op in ops if isinstance(op, pim.MVM)]
    for op in mvms:
        op.attrs["x_scale"] = float(np.abs(feed["x"]).max()) / 127
    graph = Graph("main", [x], ops, [out])
    got = run(graph, feed)[0]
    bound = error_bound(Module("m", [graph]), feed)[0]
    assert (np.abs(got - feed["x"] @ w) <= bound).all()
    assert (bound >= adc_error(mvms[0].attrs, 8)).all() and adc_error(mvms[0].attrs, 8) > 0


def test_a_crossbar_marked_matmul_is_bounded_by_its_quantisation():
    op = _op("nn.matmul", [(2, 4), (4, 3)])
    X_SCALE.set(op, 0.05)
    A_BITS.set(op, 4)
    W_BITS.set(op, 4)
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 4)), rng.normal(size=(4, 3))
    e = np.full((2, 4), 0.01)
    got = RULES[type(op)](op, [x, w], [e, np.zeros((4, 3))], [x @ w])[0]
    np.testing.assert_array_equal(got, quantised_linear(x, e, w, 0.05, 4, 4))


def test_layer_norm_of_exact_inputs_has_no_error():
    op = _op("nn.layer_norm", [(2, 3, 4), (4,), (4,)])
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=s) for s in ((2, 3, 4), (4,), (4,))]
    outs = evaluate(op, [v.astype(np.float32) for v in vals])
    got = _rule(op)(op, vals, [np.zeros_like(v) for v in vals], outs)[0]
    assert not np.any(got)


def test_argmax_over_a_rank_3_tensor_bounds_the_index_moves():
    op = _op("nn.argmax", [(2, 3, 4)], {"axis": 1})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4))
    e = np.full(x.shape, 0.3)
    base = evaluate(op, [x.astype(np.float32)])[0]
    bound = _rule(op)(op, [x], [e], [base])[0]
    assert bound.shape == base.shape and np.any(bound > 0)
    for _ in range(50):
        moved = evaluate(op, [(x + e * rng.uniform(-1, 1, x.shape)).astype(np.float32)])[0]
        assert np.all(np.abs(moved - base) <= bound)


def test_topk_indices_move_no_further_than_the_bound_when_neighbours_may_swap():
    op = _op("nn.topk", [(3, 5)], {"k": 4})
    rng = np.random.default_rng(0)
    # the last row's 4th largest (1, at 0) may swap with the smallest (0, at 4): index move 4
    x = np.array([[4.0, 3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0, 0.0]])
    e = np.full(x.shape, 0.6)  # each element may pass its neighbours in value, no further
    base = evaluate(op, [x.astype(np.float32)])
    bound = _rule(op)(op, [x], [e], base)[1]
    for _ in range(200):
        moved = evaluate(op, [(x + e * rng.uniform(-1, 1, x.shape)).astype(np.float32)])[1]
        assert np.all(np.abs(moved - base[1]) <= bound)


def test_dividing_by_a_small_divisor_that_keeps_its_sign_has_a_finite_sound_bound():
    op = _op("nn.div", [(4,), (4,)])
    rng = np.random.default_rng(0)
    a, b = np.array([1.0, -2.0, 0.5, 3.0]), np.array([0.5, 0.3, -0.8, 0.9])
    ea, eb = np.full(4, 0.05), np.full(4, 0.1)  # |b| - e(b) is in (0, 1): b keeps its sign
    base = evaluate(op, [a.astype(np.float32), b.astype(np.float32)])[0]
    bound = _rule(op)(op, [a, b], [ea, eb], [base])[0]
    assert np.all(np.isfinite(bound))
    for _ in range(100):
        moved = (a + ea * rng.uniform(-1, 1, 4)) / (b + eb * rng.uniform(-1, 1, 4))
        assert np.all(np.abs(moved - base) <= bound + 1e-6)


def test_every_output_bound_carries_the_float_slack_of_the_docstring():
    x = Value(TensorType((2, 3), "f32"), name="x")
    relu = lookup("nn.relu")([x], {})
    feed = {"x": np.array([[0.0, -1.0, 2.0], [3.0, 0.5, -4.0]], np.float32)}
    bound = error_bound(Module("m", [Graph("main", [x], [relu], [relu.results[0]])]), feed)[0]
    # an exact program: only rtol |y| + atol (1e-5, 1e-6) for float32 evaluation differences
    want = 1e-5 * np.maximum(feed["x"].astype(np.float64), 0) + 1e-6
    np.testing.assert_allclose(bound, want, rtol=1e-6)
