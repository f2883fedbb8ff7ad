"""dense: fully connected layers into `rec.dense` (weight [in, out]), then bias and activation.

- `dense`: nn.gemm (a not transposed, b constant, optional constant c that varies only
  along the output axis), nn.matmul with a constant 2-D right operand, or an nn.einsum that
  is such a matmul ('...j,jk->...k'). A weight that is `transpose(constant)` is accepted too.
- `dense-bias`: nn.add of a constant [out] (or broadcast-equal) bias to a bias-free dense.
- `dense-act`: relu / sigmoid / tanh of a dense without activation.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from ir.dialects.nn import FLOATS
from passes.rewrite import (
    Ctx,
    Match,
    Rewrite,
    Rule,
    const,
    const_of,
    einsum_terms,
    expect,
    new_const,
    producer,
    split_const,
)

__all__ = ["RULES"]


def _weight(v: Value, m: Match) -> np.ndarray:
    """A constant 2-D weight, looking through one transpose of a constant; its precision
    goes to `m.w_bits`."""
    m.vals["w_bits"] = v.type.bits
    value = const_of(v)
    if value is None and isinstance(v.owner, nn_shape.Transpose):
        inner = const(v.owner.operands[0], "weight")
        m.ops.append(v.owner)
        value = np.transpose(inner, v.owner.attrs["perm"])
    expect(value is not None, "weight is not a constant")
    expect(value.ndim == 2, f"weight is rank {value.ndim}, not 2")
    return value


def _row_bias(c: np.ndarray, n: int) -> np.ndarray | None:
    """c as a length-n vector when it broadcasts along the output axis only."""
    if c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1) or c.size not in (1, n):
        return None
    return np.broadcast_to(c.reshape(-1), (n,))


def _gemm(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    expect(not op.attrs["trans_a"], "gemm transposes its input")
    w = _weight(op.arg("b"), m)
    w = w.T if op.attrs["trans_b"] else w  # views: the rewrite makes the one copy it keeps
    if op.attrs["alpha"] != 1:
        w = w * np.float32(op.attrs["alpha"]).astype(w.dtype)
    m.vals.update(x=op.arg("a"), w=w, b=None)
    if op.arg("c") is not None:
        c = _row_bias(const(op.arg("c"), "gemm bias"), w.shape[1])
        expect(c is not None, "gemm bias varies along the rows")
        m.vals["b"] = (c * np.asarray(op.attrs["beta"], c.dtype)).astype(w.dtype)
    return m


def _matmul(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    m.vals.update(x=op.arg("a"), w=_weight(op.arg("b"), m), b=None)
    if const_of(op.arg("b")) is not None:
        m.vals["w_src"] = op.arg("b")  # reuse it: weights shared by many layers stay shared
    return m


def _einsum(op: Op, ctx: Ctx) -> Match:
    ins, out = einsum_terms(op)
    expect(len(ins) == 2, "einsum does not take two operands")
    a, b = ins
    expect(len(b) == 2 and a.endswith(b[0]) and out == a[:-1] + b[1]
           and b[0] not in out and b[1] not in a, f"einsum '{op.attrs['equation']}' is "
           "not x @ w over the last axis")
    m = Match(op)
    m.vals.update(x=op.operands[0], w=_weight(op.operands[1], m), b=None)
    if const_of(op.operands[1]) is not None:
        m.vals["w_src"] = op.operands[1]
    return m


def _dense_pattern(op: Op, ctx: Ctx) -> Match:
    fn = {nn.Gemm: _gemm, nn.MatMul: _matmul, nn.Einsum: _einsum}[type(op)]
    m = fn(op, ctx)
    expect(m.x.type.rank >= 1, "input is a scalar")
    return m


def _dense_check(m: Match, ctx: Ctx) -> str | None:
    x = m.x.type
    if x.dtype not in FLOATS:
        return f"element type {x.dtype} is not a float"
    if x.shape[-1] != m.w.shape[0]:
        return f"input {list(x.shape)} and weight {list(m.w.shape)} do not line up"
    return None


def _dense_rewrite(m: Match) -> Rewrite:
    ops: list[Op] = []
    w = m.vals.get("w_src")
    if w is None:
        # the weight as it lies: a Gemm's with trans_b is a transposed view, kept as one (its
        # tiles are views of it too); a C-ordered copy of it cost a nasrec-float search
        # candidate 7 of its 14 ms in this pass, for ops that read it in any layout
        ops.append(new_const(np.asarray(m.w, m.x.type.np_dtype), m.w_bits))
        w = ops[-1].result
    operands = [m.x, w]
    if m.b is not None:
        ops.append(new_const(m.b.astype(m.x.type.np_dtype)))
        operands.append(ops[-1].result)
    ops.append(rec.Dense(operands))
    return Rewrite(ops, ops[-1].result)


def _bias_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    y, c = split_const(op)
    dense = producer(y, rec.Dense, m, "addend")
    expect(dense.attrs["activation"] == "none", "dense already has an activation")
    n = dense.result.type.shape[-1]
    bias = _row_bias(const_of(c), n)
    expect(bias is not None and op.result.type.same_data(y.type),
           "addend is not a bias over the output axis")
    old = dense.arg("b")
    if old is not None:
        bias = const(old, "dense bias") + bias
    m.vals.update(dense=dense, b=bias)
    return m


def _bias_rewrite(m: Match) -> Rewrite:
    x, w = m.dense.operands[:2]
    b = new_const(np.asarray(m.b, x.type.np_dtype))
    new = rec.Dense([x, w, b.result])
    return Rewrite([b, new], new.result)


_ACTS = {nn.Relu: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}


def _act_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    dense = producer(op.operands[0], rec.Dense, m, "input")
    expect(dense.attrs["activation"] == "none", "dense already has an activation")
    m.vals["dense"] = dense
    return m


def _act_rewrite(m: Match) -> Rewrite:
    new = rec.Dense(m.dense.operands, {"activation": _ACTS[type(m.anchor)]})
    return Rewrite([new], new.result)


RULES = (
    Rule("dense", (nn.Gemm, nn.MatMul, nn.Einsum), _dense_pattern, _dense_rewrite,
         _dense_check),
    Rule("dense-bias", (nn.Add,), _bias_pattern, _bias_rewrite),
    Rule("dense-act", tuple(_ACTS), _act_pattern, _act_rewrite),
)
