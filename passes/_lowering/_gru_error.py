"""Error-bound rule of `rec.gru` (see `passes.error_bound`), step by step as the op runs.

The state's error is carried from step to step: each step's products are multilinear (in
(input, weight), or, on crossbars, the input quantised as `quantised_linear` bounds it), the
gates monotone (sigmoid, tanh), and the update h' = c + z (h - c) a sum of products; a step
mask m mixes h' and h, exactly when m is (0 or 1 from integer lengths). Once
`tile` has lowered the op, the same bound comes from the rules of its `pim.mvm` tiles and
digital ops, step by step.
"""

from __future__ import annotations

import numpy as np

from ir.dialects.pim_attrs import A_BITS, W_BITS, X_SCALE
from ir.interp.rec import _sigmoid, gru_order
from passes._lowering._error_elementwise import monotone_of
from passes._lowering._error_linear import quantised_linear
from passes._lowering._error_tensor import (
    elementwise_product,
    exact,
    product_bound,
    scaled_error,
)
from passes._lowering.quantise import scale_for

__all__ = ["gru_bound", "state_top"]


def state_top(h0: np.ndarray) -> float:
    """The largest |h| a GRU's state can reach: h' mixes tanh (within 1) and h convexly."""
    return max(1.0, float(np.abs(h0).max(initial=0.0)))


class _Linear:
    """x @ w and its bound: quantised at `scale` when the op goes to crossbars, else exact
    arithmetic on perturbed operands."""

    def __init__(self, op, scale: float | None) -> None:
        self.scale = scale
        self.bits = (A_BITS.of(op), W_BITS.of(op)) if scale is not None else None

    def __call__(self, x, ex, w, ew):
        y = np.asarray(x, np.float64) @ w
        if self.scale is None:  # (exact operands give a scalar 0: as wide as y)
            return y, np.broadcast_to(product_bound(np.matmul, [x, w], [ex, ew]), y.shape)
        return y, quantised_linear(x, ex, w, self.scale, *self.bits)


def _candidate(op, g, eg, hr, ehr, reset, er, h, eh, r, er_w, rb, erb, linear):
    hid = h.shape[-1]
    if op.attrs["linear_before_reset"]:
        inner, e_inner = reset * hr[:, 2 * hid:], elementwise_product(reset, hr[:, 2 * hid:], er,
                                                          ehr[:, 2 * hid:])
    else:
        mixed, e_mixed = reset * h, elementwise_product(reset, h, er, eh)
        inner, e_inner = linear(mixed, e_mixed, r[:, 2 * hid:], er_w[:, 2 * hid:])
        inner, e_inner = inner + rb[2 * hid:], e_inner + erb[2 * hid:]
    pre = g[:, 2 * hid:] + inner
    return np.tanh(pre), monotone_of(np.tanh, pre, eg[:, 2 * hid:] + e_inner)


def _masked(m, em, new, e_new, h, eh):
    """h' = m new + (1 - m) h = h + m (new - h): within |m| e_new + |1 - m| eh, plus
    em (|new - h| + e_new + eh) for a mask that moves (none from integer lengths). A zero
    weight takes nothing of its side's error, even an infinite one."""
    with np.errstate(invalid="ignore"):
        moved = (np.where(m != 0, np.abs(m) * e_new, 0.0)
                 + np.where(m != 1, np.abs(1 - m) * eh, 0.0))
    if np.any(em):
        moved = moved + scaled_error(np.abs(new - h) + e_new + eh, em)
    return h + m * (new - h), moved


def gru_bound(op, vals, errs, outs):
    """The bound of y, step by step (see the module docstring)."""
    x, w, r, wb, rb, h = (np.asarray(v, np.float64) for v in vals[:6])
    ex, ew, er_w, ewb, erb, eh = (np.asarray(e, np.float64) for e in errs[:6])
    mask = None if len(vals) < 7 else (np.asarray(vals[6], np.float64),
                                       np.asarray(errs[6], np.float64))
    scale = X_SCALE.of(op, None)
    if scale is not None:
        exact(op, errs, 1, "crossbar weight")
        exact(op, errs, 2, "crossbar weight")
        exact(op, errs, 5, "initial state (it fixes the state's input scale)")
    state = _Linear(op, None if scale is None else scale_for(state_top(h), A_BITS.of(op)))
    gates, e_gates = _Linear(op, scale)(x, ex, w, ew)
    gates, e_gates = gates + wb, e_gates + ewb
    hid = h.shape[-1]
    cols = 3 * hid if op.attrs["linear_before_reset"] else 2 * hid  # what h @ r feeds
    y = np.zeros(outs[0].shape)
    for pos in gru_order(op):
        g, eg = gates[pos], e_gates[pos]
        hr, ehr = state(h, eh, r[:, :cols], er_w[:, :cols])
        hr, ehr = hr + rb[:cols], ehr + erb[:cols]
        pre = g[:, :2 * hid] + hr[:, :2 * hid]
        zr = _sigmoid(pre)
        ezr = monotone_of(_sigmoid, pre, eg[:, :2 * hid] + ehr[:, :2 * hid])
        z, ez, reset, e_reset = zr[:, :hid], ezr[:, :hid], zr[:, hid:], ezr[:, hid:]
        cand, ec = _candidate(op, g, eg, hr, ehr, reset, e_reset, h, eh, r, er_w, rb, erb,
                              state)
        new, e_new = cand + z * (h - cand), ec + elementwise_product(z, h - cand, ez, eh + ec)
        if mask is None:
            h, eh = new, e_new
        else:
            h, eh = _masked(mask[0][pos], mask[1][pos], new, e_new, h, eh)
        y[pos] = eh
    return [y]
