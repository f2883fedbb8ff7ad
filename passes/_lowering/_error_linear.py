"""The error bound of a matmul whose input is quantised for a crossbar (`quantised_linear`),
shared by the error-bound rules of every crossbar op (`error_bound_rules`, `_gru_error`)."""

from __future__ import annotations

import numpy as np

from ir.interp.pim import quantize
from ir.interp.quant import weight_scale

__all__ = ["quantised_linear"]


def quantised_linear(x: np.ndarray, e: np.ndarray, w: np.ndarray, x_scale: float,
                     a_bits: int, w_bits: int, w_scale: float | None = None) -> np.ndarray:
    """Bound on |Q(x~) Wq - x W| over the last axis of x, where |x~ - x| <= e: the input
    rounded and clipped at `x_scale` / `a_bits` (worst case at x +- e, Q being monotone), the
    weight rounded at its per-tensor scale. What is known exactly (the weights' rounding, and
    the rounding of inputs that carry no error) is summed with its signs."""
    ws = w_scale or weight_scale(w, w_bits)
    wq = quantize(w, ws, w_bits) * ws
    x = np.asarray(x, np.float64)
    exact_in = e == 0  # inputs known exactly: their rounding is known too, signs and all
    # Each term is worked out only where some input adds to it (a term of zeros changes no
    # bit of the sum but the sign of a zero, which the absolute value drops): most tiles take
    # inputs that all carry error, or none.
    known = x @ (wq - w)
    if exact_in.any():
        known = np.where(exact_in, quantize(x, x_scale, a_bits) * x_scale - x, 0.0) @ wq + known
    if exact_in.all():
        return np.abs(known)
    e_in = np.maximum(np.abs(quantize(x + e, x_scale, a_bits) * x_scale - x),
                      np.abs(quantize(x - e, x_scale, a_bits) * x_scale - x))
    return np.abs(known) + np.where(exact_in, 0.0, e_in) @ np.abs(wq)
