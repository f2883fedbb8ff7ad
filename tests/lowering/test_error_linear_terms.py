"""The crossbar error bound (passes/_lowering/_error_linear.py `quantised_linear`) works out
each of its terms only where some input adds to it: the rounding of exactly known inputs
when there are some, the spread of inputs that carry error when there are some. A skipped
term is a matrix of zeros, so the bound must be the full formula's bit for bit (zeros' signs
included) whichever inputs carry error: none, all, or some."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ir.interp.pim import quantize
from passes._lowering._error_linear import quantised_linear


def _every_term(x, e, w, x_scale, a_bits, w_bits, w_scale):
    """The bound with every term worked out (the formula in passes/error_bound.py)."""
    wq = quantize(w, w_scale, w_bits) * w_scale
    x = np.asarray(x, np.float64)
    exact_in = e == 0
    known = np.where(exact_in, quantize(x, x_scale, a_bits) * x_scale - x, 0.0) @ wq + \
        x @ (wq - w)
    e_in = np.maximum(np.abs(quantize(x + e, x_scale, a_bits) * x_scale - x),
                      np.abs(quantize(x - e, x_scale, a_bits) * x_scale - x))
    return np.abs(known) + np.where(exact_in, 0.0, e_in) @ np.abs(wq)


@st.composite
def tiles(draw):
    rows, cols, batch = (draw(st.integers(1, n)) for n in (40, 12, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    w = rng.standard_normal((rows, cols)) * draw(st.sampled_from((1e-3, 1.0, 30.0)))
    w = w.astype(draw(st.sampled_from((np.float32, np.float64))))
    if draw(st.booleans()):
        w[:, ::2] = 0  # zero weights: products of zeros are where a zero's sign could flip
    x = rng.standard_normal((batch, rows)) * draw(st.sampled_from((0.01, 1.0, 100.0)))
    x[:, ::3] = 0
    e = np.abs(rng.standard_normal((batch, rows))) * draw(st.sampled_from((1e-6, 0.01, 3.0)))
    carry = draw(st.sampled_from(("none", "all", "some")))
    if carry == "none":
        e[:] = 0
    elif carry == "some":
        e[rng.random((batch, rows)) < 0.5] = 0
    x_scale = draw(st.sampled_from((0.01, 0.1, 1.0)))
    return x, e, w, x_scale, draw(st.integers(2, 9)), draw(st.integers(2, 9)), 0.05


@settings(max_examples=400, deadline=None)
@given(tiles())
def test_the_bound_is_the_full_formula_bit_for_bit(tile):
    got, want = quantised_linear(*tile), _every_term(*tile)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))

