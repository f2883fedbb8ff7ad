"""The error bound of a matmul whose input is quantised for a crossbar (`quantised_linear`),
shared by the error-bound rules of every crossbar op (`error_bound_rules`, `_gru_error`).

It is worked out in two parts: what depends on the input alone (`input_side`: which inputs
are exact, their rounding, the spread of the others), and the weights' part (`weight_bound`).
The crossbar tiles of one matrix that read the same rows of the same input share the first
(``passes.error_bound`` works it out once per such row block)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ir.interp.pim import quantize
from ir.interp.quant import weight_scale

__all__ = ["InputSide", "input_side", "quantised_linear", "weight_bound", "weight_bound_columns"]


@dataclass(frozen=True)
class InputSide:
    """The input's part of the bound: `x` as float64; `rounding`, the rounding of the inputs
    known exactly (0 elsewhere; None when there are none); `spread`, the worst change of the
    quantised inputs that carry error (0 elsewhere; None when there are none)."""

    x: np.ndarray
    rounding: np.ndarray | None
    spread: np.ndarray | None


def input_side(x: np.ndarray, e: np.ndarray, x_scale: float, a_bits: int) -> InputSide:
    """The input's part of `quantised_linear`'s bound (`InputSide`), where |x~ - x| <= e: the
    input is rounded and clipped at `x_scale` / `a_bits` (worst case at x +- e, Q being
    monotone). Each term is worked out only where some input adds to it (a term of zeros
    changes no bit of the sum but the sign of a zero, which the absolute value drops): most
    tiles take inputs that all carry error, or none."""
    x = np.asarray(x, np.float64)
    exact_in = e == 0  # inputs known exactly: their rounding is known too, signs and all
    rounding = spread = None
    if exact_in.any():
        rounding = np.where(exact_in, quantize(x, x_scale, a_bits) * x_scale - x, 0.0)
    if not exact_in.all():
        e_in = np.maximum(np.abs(quantize(x + e, x_scale, a_bits) * x_scale - x),
                          np.abs(quantize(x - e, x_scale, a_bits) * x_scale - x))
        spread = np.where(exact_in, 0.0, e_in)
    return InputSide(x, rounding, spread)


def weight_bound(side: InputSide, w: np.ndarray, w_bits: int,
                 w_scale: float | None = None) -> np.ndarray:
    """Bound on |Q(x~) Wq - x W| over the last axis of the input `side` stands for, the
    weight rounded at its per-tensor scale. What is known exactly (the weights' rounding, and
    the rounding of inputs that carry no error) is summed with its signs."""
    ws = w_scale or weight_scale(w, w_bits)
    return _rounded_bound(side, w, quantize(w, ws, w_bits) * ws)


def weight_bound_columns(side: InputSide, w: np.ndarray, steps: np.ndarray,
                         w_bits: int) -> np.ndarray:
    """`weight_bound` of several tiles' weights side by side (the tiles of one row block),
    each column rounded at its own tile's step (`steps`: one per column)."""
    return _rounded_bound(side, w, quantize(w, steps, w_bits) * steps)


def _rounded_bound(side: InputSide, w: np.ndarray, wq: np.ndarray) -> np.ndarray:
    """`weight_bound` once the weights `w` are rounded to `wq`."""
    known = side.x @ (wq - w)
    if side.rounding is not None:
        known = side.rounding @ wq + known
    if side.spread is None:
        return np.abs(known)
    return np.abs(known) + side.spread @ np.abs(wq)


def quantised_linear(x: np.ndarray, e: np.ndarray, w: np.ndarray, x_scale: float,
                     a_bits: int, w_bits: int, w_scale: float | None = None) -> np.ndarray:
    """Bound on |Q(x~) Wq - x W| over the last axis of x, where |x~ - x| <= e: the input
    rounded and clipped at `x_scale` / `a_bits` (worst case at x +- e, Q being monotone), the
    weight rounded at its per-tensor scale. What is known exactly (the weights' rounding, and
    the rounding of inputs that carry no error) is summed with its signs."""
    return weight_bound(input_side(x, e, x_scale, a_bits), w, w_bits, w_scale)
