"""batch-norm: inference batch normalisation folded into the dense layer next to it.

An inference BatchNorm is the per-channel affine map x * s + t with s = scale / sqrt(var + eps)
and t = bias - mean * s, over axis 1. Over a rank-2 value axis 1 is the feature axis, so:

- `dense-batch-norm`: BatchNorm of a dense without activation (the legacy exporter's
  Gemm -> BatchNormalization -> Relu) scales the weight's columns and maps the bias:
  w' = w * s, b' = b * s + t. The activation after it then fuses as usual (`dense-act`).
- `batch-norm-dense`: a dense reading a BatchNorm (NFM's bi-interaction -> BatchNorm -> MLP,
  which the dynamo exporter leaves unfolded) scales the weight's rows: w' = s[:, None] * w,
  b' = b + t @ w.

Over a rank-3 value axis 1 is the token axis, not the dense's feature axis: no fold.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, rec
from passes.rewrite import Ctx, Match, Rewrite, Rule, const, expect, new_const, producer

__all__ = ["RULES"]


def _affine(bn: Op) -> tuple[np.ndarray, np.ndarray]:
    """(s, t) with bn(x) = x * s + t per channel, computed in float64."""
    scale, bias, mean, var = (const(bn.operands[i], f"batch_norm {what}").astype(np.float64)
                              for i, what in enumerate(("scale", "bias", "mean", "var"), 1))
    s = scale / np.sqrt(var + np.float64(np.float32(bn.attrs["epsilon"])))
    return s, bias - mean * s


def _dense_parts(dense: Op) -> tuple[np.ndarray, np.ndarray]:
    w = const(dense.arg("w"), "dense weight").astype(np.float64)
    b = dense.arg("b")
    return w, (np.zeros(w.shape[1]) if b is None else const(b, "dense bias").astype(np.float64))


def _check_rank2(v: Value) -> None:
    expect(v.type.rank == 2, f"batch_norm over a rank-{v.type.rank} value normalises axis 1, "
           "not the dense's feature axis")


def _after_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    dense = producer(op.arg("x"), rec.Dense, m, "normalised value")
    expect(dense.attrs["activation"] == "none",
           f"dense applies {dense.attrs['activation']} before the batch_norm")
    _check_rank2(op.arg("x"))
    s, t = _affine(op)
    w, b = _dense_parts(dense)
    m.vals.update(x=dense.arg("x"), w=w * s, b=b * s + t, act="none", w_bits=dense.arg("w")
                  .type.bits)
    return m


def _before_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    bn = producer(op.arg("x"), nn.BatchNorm, m, "dense input")
    _check_rank2(bn.arg("x"))
    s, t = _affine(bn)
    w, b = _dense_parts(op)
    m.vals.update(x=bn.arg("x"), w=s[:, None] * w, b=b + t @ w, act=op.attrs["activation"],
                  w_bits=op.arg("w").type.bits)
    return m


def _rewrite(m: Match) -> Rewrite:
    dtype = m.x.type.np_dtype
    w, b = new_const(m.w.astype(dtype), m.w_bits), new_const(m.b.astype(dtype))
    new = rec.Dense([m.x, w.result, b.result], {"activation": m.act})
    return Rewrite([w, b, new], new.result)


RULES = (
    Rule("dense-batch-norm", (nn.BatchNorm,), _after_pattern, _rewrite),
    Rule("batch-norm-dense", (rec.Dense,), _before_pattern, _rewrite),
)
