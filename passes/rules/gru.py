"""gru: an ONNX GRU (`nn.gru`) with constant weights into `rec.gru`, the form crossbars take.

- `gru`: forward, reverse or bidirectional, sigmoid gates and a tanh candidate, no clip,
  constant weights, biases and initial state. Each direction becomes one `rec.gru`, its
  weights transposed into [in, out] and its biases split into the input's and the
  recurrence's. Sequence lengths (`sequence_lens`, a runtime input or a constant) become a
  step mask m [seq, batch, 1] = (t < length) computed on the digital units: a row past its
  length keeps its state, which is what ONNX's final state y_h is (ONNX's reverse direction
  starts at each row's own last step, which is the same as stepping from the last time step
  with the state held until the row's length is reached). y is the rec.gru's states times
  the mask (ONNX zeroes the outputs past a row's end), unsqueezed to [seq, dirs, batch, H]
  and concatenated over the directions, y_h the last state each direction reaches (time 0
  when reversed), zero for a row of length 0 as ONNX Runtime returns it (the mask at time 0
  is length > 0). Constant lengths all equal to seq need no mask.

A GRU whose weights, biases or initial state are computed (not constants) keeps its `nn.gru`
and runs on the digital units, as does one with other activations or a clip, or constant
lengths outside [0, seq] (ONNX leaves those undefined).
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_seq, nn_shape, rec
from passes.rewrite import Ctx, Match, Rewrite, Rule, const_of, expect, new_const

__all__ = ["RULES"]

_FUNCTIONS = ["sigmoid", "tanh"]


def _pattern(op: Op, ctx: Ctx) -> Match:
    acts = list(op.attrs["activations"])
    expect(acts == _FUNCTIONS * op.dirs,
           f"GRU activations are {acts}, not {_FUNCTIONS * op.dirs}")
    expect(op.attrs.get("clip") is None, "GRU clips its gate inputs")
    return Match(op)


def _check(m: Match, ctx: Ctx) -> str | None:
    op = m.anchor
    for i in (1, 2, 3, 5):
        if const_of(op.operands[i]) is None:
            return f"GRU {op.operands_spec[i]} is not a constant"
    lens = const_of(op.operands[4])
    seq = op.operands[0].type.shape[0]
    if lens is not None and (np.any(lens < 0) or np.any(lens > seq)):
        return f"GRU sequence_lens {lens.tolist()} are not within [0, {seq}]"
    return None


def _mask(op: Op, ops: list[Op]) -> Value | None:
    """m [seq, batch, 1] in x's type: 1 where t < the row's length; None when every constant
    length is seq."""
    lens = op.operands[4]
    seq = op.operands[0].type.shape[0]
    value = const_of(lens)
    if value is not None and np.all(value == seq):
        return None
    steps = new_const(np.arange(seq, dtype=lens.type.np_dtype).reshape(seq, 1))
    less = nn.Less([steps.result, lens])
    flags = nn.Cast([less.result], {"to": op.operands[0].type.dtype})
    mask = nn_shape.Unsqueeze([flags.result], {"axes": [2]})
    ops += [steps, less, flags, mask]
    return mask.result


def _direction(op: Op, d: int, mask: Value | None, ops: list[Op]) -> tuple[Value, Value]:
    """Direction d as one rec.gru: y [seq, 1, batch, H] and its final state [1, batch, H]."""
    w, r, b, h0 = (const_of(op.operands[i])[d] for i in (1, 2, 3, 5))
    gates = w.shape[0]
    consts = [new_const(np.ascontiguousarray(a)) for a in (w.T, r.T, b[:gates], b[gates:], h0)]
    reverse = op.attrs["direction"] == "reverse" or d == 1
    gru = rec.Gru([op.operands[0], *(c.result for c in consts),
                   *([] if mask is None else [mask])],
                  {"linear_before_reset": op.attrs["linear_before_reset"], "reverse": reverse})
    ops += [*consts, gru]
    states = gru.result
    if mask is not None:  # ONNX's outputs past a row's end are zero
        ops.append(nn.Mul([states, mask]))
        states = ops[-1].result
    y = nn_shape.Unsqueeze([states], {"axes": [1]})
    last = 0 if reverse else op.operands[0].type.shape[0] - 1
    y_h = nn_shape.Slice([gru.result], {"starts": [last], "ends": [last + 1], "axes": [0]})
    ops += [y, y_h]
    if mask is not None:  # a row of length 0 ends at zero, as in ONNX Runtime, not at h0
        first = nn_shape.Slice([mask], {"starts": [0], "ends": [1], "axes": [0]})
        ops += [first, nn.Mul([y_h.result, first.result])]
    return y.result, ops[-1].result


def _rewrite(m: Match) -> Rewrite:
    op = m.anchor
    ops: list[Op] = []
    mask = _mask(op, ops)
    ys, finals = zip(*(_direction(op, d, mask, ops) for d in range(op.dirs)))
    if op.dirs == 1:
        return Rewrite(ops, ys[0], finals)
    y = nn_shape.Concat(list(ys), {"axis": 1})
    y_h = nn_shape.Concat(list(finals), {"axis": 0})
    return Rewrite([*ops, y, y_h], y.result, (y_h.result,))


RULES = (Rule("gru", (nn_seq.Gru,), _pattern, _rewrite, _check),)
