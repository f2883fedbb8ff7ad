"""The lowering of `rec.gru` (see `passes._lowering.rules`): W's tiles once over every time
step, then per step R's tiles on the state and the gate arithmetic on the digital units, the
steps unrolled in the order the op takes them, so each step waits for the one before. A step
mask (rows' sequence lengths, a runtime input) is applied on the digital units: each step's
state is m h_new + (1 - m) h.

Each step has its own copy of R's tiles (`kinds._gru`): a placed tile op holds its crossbars,
so copies let batches in flight use different steps at once. The state h stays within
max(1, max |h0|) (a convex mix of a tanh and the previous state), which fixes R's input scale
without calibration.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ir.core import Value
from ir.dialects import nn, nn_shape
from ir.interp.rec import gru_order
from passes._lowering._gru_error import state_top
from passes._lowering.kinds import Matrix, matrices
from passes._lowering.quantise import scale_for

if TYPE_CHECKING:
    from passes._lowering.rules import Builder

__all__ = ["lower_gru"]


def _cols(b: Builder, v: Value, lo: int, hi: int) -> Value:
    return b.digital(nn_shape.Slice, [v], starts=[lo], ends=[hi], axes=[-1])


def _at(b: Builder, v: Value, pos: int) -> Value:
    """v [seq, batch, n] at time pos: [batch, n]."""
    one = b.digital(nn_shape.Slice, [v], starts=[pos], ends=[pos + 1], axes=[0])
    return b.free(nn_shape.Squeeze, one, axes=[0])


class _Steps:
    """The per-step matrices of one `rec.gru`, by step, and the crossbar they share."""

    def __init__(self, b: Builder) -> None:
        w, *rest = matrices(b.op)
        self.w = w
        self.by_step: dict[int, list[Matrix]] = {}
        for m in rest:
            self.by_step.setdefault(int(m.suffix[2:]), []).append(m)
        h0 = np.asarray(b.op.operands[5].owner.attrs["value"])
        self.cb = replace(b.cb, x_scale=scale_for(state_top(h0), b.cb.a_bits))


def _candidate(b: Builder, g: Value, hr: Value, reset: Value, h: Value, ms: list[Matrix],
               steps: _Steps, hidden: int) -> Value:
    """tanh of the input's h block plus reset * (h r_h + rb_h) (linear before reset) or
    (reset * h) r_h + rb_h."""
    rb = b.op.operands[4]
    if b.op.attrs["linear_before_reset"]:
        inner = b.digital(nn.Mul, [reset, _cols(b, hr, 2 * hidden, 3 * hidden)])
    else:
        inner = _cols(b, rb, 2 * hidden, 3 * hidden)
        if ms:
            rh = b.matrix(ms[1], b.digital(nn.Mul, [reset, h]), steps.cb)
            inner = b.digital(nn.Add, [rh, inner])
    return b.digital(nn.Tanh, [b.digital(nn.Add, [_cols(b, g, 2 * hidden, 3 * hidden), inner])])


def _step(b: Builder, g: Value, h: Value, ms: list[Matrix], steps: _Steps) -> Value:
    """One step from state h on the input's gate values g [batch, 3H]: h' = c + z (h - c)."""
    hidden = h.type.shape[-1]
    lbr = b.op.attrs["linear_before_reset"]
    rb = b.op.operands[4] if lbr else _cols(b, b.op.operands[4], 0, 2 * hidden)
    # h @ r (+ rb: all of it, or its z, r part); from a zero h0 there is no product
    hr = b.digital(nn.Add, [b.matrix(ms[0], h, steps.cb), rb]) if ms else rb
    pre = b.digital(nn.Add, [_cols(b, g, 0, 2 * hidden),
                             _cols(b, hr, 0, 2 * hidden) if lbr else hr])
    zr = b.digital(nn.Sigmoid, [pre])
    z, reset = _cols(b, zr, 0, hidden), _cols(b, zr, hidden, 2 * hidden)
    cand = _candidate(b, g, hr, reset, h, ms, steps, hidden)
    keep = b.digital(nn.Mul, [z, b.digital(nn.Sub, [h, cand])])
    return b.digital(nn.Add, [cand, keep])


def _masked(b: Builder, mask: tuple[Value, Value] | None, pos: int, new: Value,
            h: Value) -> Value:
    """The state after step pos: m new + (1 - m) h with the step's mask m [batch, 1] (0 or 1
    from the rows' lengths, so the two products pick one state exactly); new without a mask."""
    if mask is None:
        return new
    m, keep = (_at(b, v, pos) for v in mask)
    return b.digital(nn.Add, [b.digital(nn.Mul, [m, new]), b.digital(nn.Mul, [keep, h])])


def lower_gru(b: Builder) -> Value:
    """y [seq, batch, H]: the state after each step, in time order."""
    x, _, _, wb, _, h = b.op.operands[:6]
    seq = x.type.shape[0]
    steps = _Steps(b)
    gates = b.digital(nn.Add, [b.matrix(steps.w), wb])  # [seq, batch, 3H], every step at once
    mask = b.op.arg("mask")
    if mask is not None:  # [seq, batch, 1], and 1 - mask once for every step
        one = b.const(np.ones((), mask.type.np_dtype))
        mask = (mask, b.digital(nn.Sub, [one, mask]))
    order = gru_order(b.op)
    states: dict[int, Value] = {}
    for t, pos in enumerate(order):
        new = _step(b, _at(b, gates, pos), h, steps.by_step.get(t, []), steps)
        h = _masked(b, mask, pos, new, h)
        states[pos] = h
    rows = [b.free(nn_shape.Unsqueeze, states[pos], axes=[0]) for pos in range(seq)]
    return b.digital(nn_shape.Concat, rows, axis=0) if seq > 1 else rows[0]
