"""gru: an ONNX GRU (`nn.gru`) with constant weights into `rec.gru`, the form crossbars take.

- `gru`: one direction (forward or reverse), sigmoid gates and a tanh candidate, no clip,
  constant weights, biases and initial state, and every sequence as long as the input
  (constant `sequence_lens` equal to seq). The weights are transposed into [in, out], the
  biases split into the input's and the recurrence's; y [seq, 1, batch, H] is the
  `rec.gru`'s result unsqueezed and y_h [1, batch, H] its last step's slice (time 0 when
  reversed), exactly what ONNX's GRU returns for full-length sequences.

A GRU whose weights are computed (not constants) keeps its `nn.gru` and runs on the digital
units; so does one with per-sequence lengths, whose outputs past a sequence's end ONNX fixes
at zero.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op
from ir.dialects import nn_seq, nn_shape, rec
from passes.rewrite import Ctx, Match, Rewrite, Rule, const_of, expect, new_const

__all__ = ["RULES"]

_FUNCTIONS = ["sigmoid", "tanh"]


def _pattern(op: Op, ctx: Ctx) -> Match:
    expect(op.attrs["direction"] != "bidirectional", "GRU is bidirectional")
    acts = list(op.attrs["activations"])
    expect(acts == _FUNCTIONS, f"GRU activations are {acts}, not {_FUNCTIONS}")
    expect(op.attrs.get("clip") is None, "GRU clips its gate inputs")
    return Match(op)


def _check(m: Match, ctx: Ctx) -> str | None:
    op = m.anchor
    for i in (1, 2, 3, 5):
        if const_of(op.operands[i]) is None:
            return f"GRU {op.operands_spec[i]} is not a constant"
    lens = const_of(op.operands[4])
    seq = op.operands[0].type.shape[0]
    if lens is None or np.any(lens != seq):
        return f"GRU sequence_lens is not {seq} (the input's length) for every sequence"
    return None


def _rewrite(m: Match) -> Rewrite:
    op = m.anchor
    w, r, b, h0 = (const_of(op.operands[i])[0] for i in (1, 2, 3, 5))
    gates = w.shape[0]
    consts = [new_const(np.ascontiguousarray(a)) for a in (w.T, r.T, b[:gates], b[gates:], h0)]
    reverse = op.attrs["direction"] == "reverse"
    gru = rec.Gru([op.operands[0], *(c.result for c in consts)],
                  {"linear_before_reset": op.attrs["linear_before_reset"], "reverse": reverse})
    y = nn_shape.Unsqueeze([gru.result], {"axes": [1]})
    last = 0 if reverse else op.operands[0].type.shape[0] - 1
    y_h = nn_shape.Slice([gru.result], {"starts": [last], "ends": [last + 1], "axes": [0]})
    return Rewrite([*consts, gru, y, y_h], y.result, (y_h.result,))


RULES = (Rule("gru", (nn_seq.Gru,), _pattern, _rewrite, _check),)
