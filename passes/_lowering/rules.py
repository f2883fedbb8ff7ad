"""Per-op lowering of crossbar ops: the matrices become `pim.mvm` tiles (see `mvm`), the rest of
the op (bias, activation, products with activations, softmax; a GRU's gates, in `_gru`) stays as
`nn` ops on the digital units. Every rule computes exactly what the op's reference semantics say
(`ir.interp.rec`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from ir.dialects.pim_attrs import A_BITS, UNIT, W_BITS
from passes._lowering import _bilinear as bilinear
from passes._lowering._gru import lower_gru
from passes._lowering.kinds import Matrix, matrices
from passes._lowering.mvm import Crossbar, tile_matrix
from passes._lowering.quantise import scale_for
from passes.rewrite import new_const

__all__ = ["LOWER", "Builder"]

_ACTIVATION = {"relu": nn.Relu, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class Builder:
    """Collects the ops of one lowering; digital ops inherit the original op's precision."""

    def __init__(self, op: Op, name: str, cb: Crossbar) -> None:
        self.op, self.name, self.cb = op, name, cb
        self.ops: list[Op] = []

    def matrix(self, m: Matrix, x: Value | None = None, cb: Crossbar | None = None) -> Value:
        ops, out = tile_matrix(m.x if x is None else x, m.w, self.name + m.suffix,
                               cb or self.cb)
        self.ops += ops
        return out

    def const(self, array: Any) -> Value:
        op = new_const(np.asarray(array))
        UNIT.set(op, "none")
        self.ops.append(op)
        return op.result

    def digital(self, cls: type[Op], operands: list[Value], **attrs: Any) -> Value:
        a = dict((UNIT.item("digital"), W_BITS.item(self.cb.w_bits), A_BITS.item(self.cb.a_bits)))
        op = cls(operands, {**attrs, **a})
        for r in op.results:
            r.type = r.type.with_bits(self.cb.a_bits)
        self.ops.append(op)
        return op.result

    def free(self, cls: type[Op], x: Value, **attrs: Any) -> Value:
        op = cls([x], {**attrs, UNIT.name: "none"})
        self.ops.append(op)
        return op.result


def _dense(b: Builder) -> Value:
    y = b.matrix(matrices(b.op)[0])
    if len(b.op.operands) == 3:
        y = b.digital(nn.Add, [y, b.op.operands[2]])
    act = _ACTIVATION.get(b.op.attrs["activation"])
    return y if act is None else b.digital(act, [y])


def _gemm(b: Builder) -> Value:
    y = b.matrix(matrices(b.op)[0])
    c = b.op.arg("c")
    if c is None:
        return y
    beta = b.op.attrs["beta"]
    if beta != 1.0:
        c = b.digital(nn.Mul, [c, b.const(np.asarray(beta, c.type.np_dtype))])
    return b.digital(nn.Add, [y, c])


def _matmul(b: Builder) -> Value:
    return b.matrix(matrices(b.op)[0])


def _efc(b: Builder) -> Value:
    xt = b.digital(nn_shape.Transpose, [b.op.operands[0]], perm=[0, 2, 1])  # [B, D, F]
    y = b.digital(nn_shape.Transpose, [b.matrix(matrices(b.op)[0], xt)], perm=[0, 2, 1])
    return y if len(b.op.operands) == 2 else b.digital(nn.Add, [y, b.op.operands[2]])


def _cross(b: Builder) -> Value:
    if b.op.attrs["kind"] == "mixture":
        return _mixture(b)
    x0, x, _, bias = b.op.operands[:4]
    ms = matrices(b.op)
    y = b.matrix(ms[0])
    if len(ms) == 2:  # low rank: U reads x @ V
        y = b.matrix(ms[1], y, replace(b.cb, x_scale=_through(b.cb, ms[0].w)))
    y = b.digital(nn.Add, [y, bias])
    return b.digital(nn.Add, [b.digital(nn.Mul, [x0, y]), x])


def _through(cb: Crossbar, w) -> float:
    """The input scale of a matrix fed by `x @ w`: |x @ w| stays within the largest x the op's
    scale codes times the largest column sum of |w| (beyond it the tile clips, which its error
    bound counts)."""
    top = cb.x_scale * (2 ** (cb.a_bits - 1) - 1)
    return scale_for(top * float(np.abs(w).sum(axis=0).max()), cb.a_bits)


def _mixture(b: Builder) -> Value:
    """Gate and expert stages as separate small matrices; the stages after V read a tanh,
    whose range [-1, 1] fixes their input scale (no calibration needed)."""
    x0, x, _, bias = b.op.operands[:4]
    gate, *stages = matrices(b.op)
    inner = replace(b.cb, x_scale=scale_for(1.0, b.cb.a_bits))
    probs = b.digital(nn.Softmax, [b.matrix(gate)], axis=-1)  # [B, E]
    out = x
    for e in range(len(stages) // 3):
        v, c, u = stages[3 * e:3 * e + 3]
        h = b.digital(nn.Tanh, [b.matrix(v)])
        h = b.digital(nn.Tanh, [b.matrix(c, h, inner)])
        y = b.digital(nn.Mul, [x0, b.digital(nn.Add, [b.matrix(u, h, inner), bias])])
        p = b.digital(nn_shape.Slice, [probs], starts=[e], ends=[e + 1], axes=[1])  # [B, 1]
        out = b.digital(nn.Add, [out, b.digital(nn.Mul, [p, y])])
    return out


def _heads(b: Builder, v: Value, heads: int) -> Value:
    bsz, f, inner = v.type.shape
    split = b.free(nn_shape.Reshape, v, shape=[bsz, f, heads, inner // heads])
    return b.digital(nn_shape.Transpose, [split], perm=[0, 2, 1, 3])  # [B, H, F, dh]


def _biased(b: Builder, y: Value, i: int) -> Value:
    """Projection i (q, k, v) plus its row of the biases, when the op has nonzero ones."""
    bias = b.op.arg("b")
    value = bias.owner.attrs["value"] if bias is not None and \
        isinstance(bias.owner, nn.Constant) else None
    if bias is None or (value is not None and not value[i].any()):
        return y
    row = b.digital(nn_shape.Slice, [bias], starts=[i], ends=[i + 1], axes=[0])  # [1, E]
    return b.digital(nn.Add, [y, row])


def _attention(b: Builder) -> Value:
    h = b.op.attrs["heads"]
    q, k, v = (_heads(b, _biased(b, b.matrix(m), i), h) for i, m in enumerate(matrices(b.op)))
    kt = b.digital(nn_shape.Transpose, [k], perm=[0, 1, 3, 2])
    scores = b.digital(nn.MatMul, [q, kt])
    scale = b.const(np.asarray(b.op.attrs["scale"], scores.type.np_dtype))
    scores = b.digital(nn.Mul, [scale, scores])
    mask = b.op.arg("mask")
    if mask is not None:
        scores = b.digital(nn.Add, [scores, mask])
    probs = b.digital(nn.Softmax, [scores], axis=-1)
    out = b.digital(nn_shape.Transpose, [b.digital(nn.MatMul, [probs, v])], perm=[0, 2, 1, 3])
    return b.free(nn_shape.Reshape, out, shape=list(b.op.results[0].type.shape))


def _fields(b: Builder, xs: list[Value], fields: tuple[int, ...]) -> Value:
    """Rows `fields` of the operands concatenated over axis 1, as one [B, F, D] value: each
    run of consecutive rows of one operand sliced (a whole operand read as it is)."""
    parts = []
    for k, lo, hi in bilinear.runs([x.type.shape[1] for x in xs], fields):
        whole = (lo, hi) == (0, xs[k].type.shape[1])
        parts.append(xs[k] if whole else
                     b.digital(nn_shape.Slice, [xs[k]], starts=[lo], ends=[hi], axes=[1]))
    return parts[0] if len(parts) == 1 else b.digital(nn_shape.Concat, parts, axis=1)


def _bilinear(b: Builder) -> Value:
    """Each block's left fields through its weights on crossbars ([B, F, m D], read as
    [B, F m, D] rows); the pairs' products with their right fields (and the sum over D) are
    a `rec.pairwise` over those rows and the op's own operands, on the digital units."""
    xs, left = b.op.operands[1:], b.op.attrs["left"]
    blocks, rows = bilinear.blocks(b.op.operands[0].owner.attrs["value"], left)
    outs = []
    for block, m in zip(blocks, matrices(b.op)):
        y = b.matrix(m, _fields(b, xs, block.fields))
        bsz, f, cols = y.type.shape
        d = m.w.shape[0]
        outs.append(b.free(nn_shape.Reshape, y, shape=[bsz, f * cols // d, d]))
    top = sum(o.type.shape[1] for o in outs)
    return b.digital(rec.Pairwise, [*outs, *xs], left=list(rows),
                     right=[top + r for r in b.op.attrs["right"]], reduce=b.op.attrs["reduce"])


LOWER: dict[type[Op], Callable[[Builder], Value]] = {
    rec.Dense: _dense, rec.EFC: _efc, rec.Cross: _cross, rec.Attention: _attention,
    rec.Bilinear: _bilinear,
    rec.Gru: lower_gru, nn.Gemm: _gemm, nn.MatMul: _matmul,
}
