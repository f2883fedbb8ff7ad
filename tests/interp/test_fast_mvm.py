"""The fast crossbar MVM against the digit-by-digit reference, bit for bit.

The reference (`crossbar_mvm`, one ADC conversion per input digit, weight digit and sign) is
the oracle; the fast path stacks the digit planes into one matrix product per tile. On random
tiles (shapes, precisions, cell, DAC and ADC widths, lossy converters, both signed schemes,
negative inputs) the two must give the same float64 numbers, signs of zeros included.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ir.core import Value
from ir.dialects import pim
from ir.interp import _fast_mvm
from ir.interp._fast_mvm import exact_enough, fast_crossbar_mvm, lossless, weight_plan
from ir.interp.pim import crossbar_mvm, mvm, quantize
from ir.types import TensorType


def _same(got: np.ndarray, want: np.ndarray) -> bool:
    return (got.shape == want.shape and np.array_equal(got, want)
            and np.array_equal(np.signbit(got), np.signbit(want)))


@st.composite
def tiles(draw, max_adc: int = 12):
    a = {"w_bits": draw(st.integers(1, 12)), "a_bits": draw(st.integers(1, 12)),
         "cell_bits": draw(st.integers(1, 4)), "dac_bits": draw(st.integers(1, 3)),
         "adc_bits": draw(st.integers(1, max_adc)),
         "signed": draw(st.sampled_from(("differential", "offset")))}
    rows, cols, batch = (draw(st.integers(1, n)) for n in (40, 12, 6))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    qx, qw = 2 ** (a["a_bits"] - 1) - 1, 2 ** (a["w_bits"] - 1) - 1
    # extremes are likely: the ADC's clipping and the top codes are where a fold could slip
    xq = rng.choice([-qx, 0, qx, *rng.integers(-qx, qx + 1, 4)], size=(batch, rows))
    wq = rng.choice([-qw, 0, qw, *rng.integers(-qw, qw + 1, 4)], size=(rows, cols))
    return xq.astype(np.float64), wq.astype(np.float64), a


@settings(max_examples=300, deadline=None)
@given(tiles())
def test_fast_path_equals_the_reference_bit_for_bit(tile):
    xq, wq, a = tile
    assert exact_enough(xq.shape[1], a)  # these sizes are far from 2^53
    got = fast_crossbar_mvm(xq, weight_plan(wq, a), a)
    assert _same(got, crossbar_mvm(xq, wq, dict(a)))


@settings(max_examples=150, deadline=None)
@given(tiles(max_adc=4))
def test_lossy_converters_clip_and_round_the_same_way(tile):
    xq, wq, a = tile
    got = fast_crossbar_mvm(xq, weight_plan(wq, a), a)
    assert _same(got, crossbar_mvm(xq, wq, dict(a)))


def _tile(rows=32, cols=8, adc=4, signed="differential", w_bits=8, a_bits=8):
    rng = np.random.default_rng(1)
    a = {"w_bits": w_bits, "a_bits": a_bits, "cell_bits": 2, "dac_bits": 1, "adc_bits": adc,
         "signed": signed}
    qx, qw = 2 ** (a_bits - 1) - 1, 2 ** (w_bits - 1) - 1
    return (rng.integers(-qx, qx + 1, (5, rows)).astype(np.float64),
            rng.integers(-qw, qw + 1, (rows, cols)).astype(np.float64), a)


def test_a_lossy_adc_really_differs_from_the_exact_product():
    """Near miss for the shortcut: with a 4-bit ADC on 32 rows the result is not x @ w, so a
    path that took the lossless shortcut here would fail the equality above."""
    xq, wq, a = _tile()
    assert not lossless(32, a)
    got = fast_crossbar_mvm(xq, weight_plan(wq, a), a)
    assert not np.array_equal(got, xq @ wq)
    assert _same(got, crossbar_mvm(xq, wq, dict(a)))


def test_the_lossless_shortcut_is_the_integer_product():
    xq, wq, a = _tile(adc=12)
    assert lossless(32, a)
    assert _same(fast_crossbar_mvm(xq, weight_plan(wq, a), a), xq @ wq + 0.0)


def test_wide_operands_beyond_float64_integers_are_refused():
    """32-bit weights and inputs on 512 rows overflow 2^53: the fast path must not claim them."""
    a = {"w_bits": 32, "a_bits": 32, "cell_bits": 2, "dac_bits": 1, "adc_bits": 8}
    assert not exact_enough(512, a)
    assert exact_enough(512, {**a, "w_bits": 16, "a_bits": 16})


def test_batches_larger_than_a_chunk_are_split_without_changing_a_bit(monkeypatch):
    xq, wq, a = _tile(signed="offset")
    whole = fast_crossbar_mvm(xq, weight_plan(wq, a), a)
    monkeypatch.setattr(_fast_mvm, "_CHUNK", 1)  # one batch row per chunk
    assert _same(fast_crossbar_mvm(xq, weight_plan(wq, a), a), whole)


def _op(rows, cols, batch, **attrs):
    x = Value(TensorType((batch, rows + 3), "f32"), name="x")
    w = Value(TensorType((rows, cols), "f32"), name="w")
    base = {"op": "fc", "tile": [0, 0], "rows": [2, 2 + rows], "cols": [0, cols], "w_bits": 8,
            "a_bits": 8, "cell_bits": 2, "dac_bits": 1, "adc_bits": 5, "signed": "differential",
            "x_scale": 0.05, "w_scale": 0.01}
    return pim.MVM([x, w], {**base, **attrs})


@pytest.mark.parametrize("signed", ["differential", "offset"])
@pytest.mark.parametrize("adc", [3, 12])
def test_the_op_semantics_match_the_reference_path(signed, adc):
    rng = np.random.default_rng(7)
    op = _op(20, 6, 4, signed=signed, adc_bits=adc)
    x = rng.normal(0, 2, (4, 23)).astype(np.float32)
    w = rng.normal(0, 0.5, (20, 6)).astype(np.float32)
    got = mvm(op, x, w)
    assert got.dtype == np.float32
    assert _same(got, mvm(op, x, w, reference=True))
    assert _same(mvm(op, x, w), got)  # the cached weight plan gives the same again


def test_the_cached_plan_follows_new_weights_and_attributes():
    """Near miss for the cache: other weights (or another w_scale) on the same op must not
    reuse the first plan."""
    rng = np.random.default_rng(3)
    op = _op(10, 4, 2)
    x = rng.normal(0, 2, (2, 13)).astype(np.float32)
    w1 = rng.normal(0, 0.5, (10, 4)).astype(np.float32)
    w2 = -w1
    first = mvm(op, x, w1)
    assert _same(mvm(op, x, w2), mvm(op, x, w2, reference=True))
    assert not np.array_equal(mvm(op, x, w2), first)
    op.attrs["w_scale"] = 0.02
    assert _same(mvm(op, x, w1), mvm(op, x, w1, reference=True))
    for adc in (12, 3):  # lossless (a plan without digit planes), then lossy on the same op
        op.attrs["adc_bits"] = adc
        assert _same(mvm(op, x, w1), mvm(op, x, w1, reference=True))


def test_quantize_clips_to_the_symmetric_range():
    assert quantize(np.array([-9.0, 9.0, 0.4]), 1.0, 3).tolist() == [-3.0, 3.0, 0.0]
