"""efc: a fully connected layer over the token axis into `rec.efc`.

x [B, F, D] mixed by a constant w [F, G] into [B, G, D]: the einsum 'bfd,fg->bgd' (any
letters), transpose(x, [0, 2, 1]) -> matmul / rec.dense with w -> transpose back (a dense
bias [G] becomes the efc bias [G, 1]), or matmul(w^T, x) (the supernet's export), whose
bias, an nn.add of a constant [G, 1], `efc-bias` takes in.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
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

_SWAP = (0, 2, 1)


def _einsum_pattern(op: Op, ctx: Ctx) -> Match:
    ins, out = einsum_terms(op)
    expect(len(ins) == 2 and len(ins[0]) == 3 and len(ins[1]) == 2, "einsum is not x, w")
    (b, f, d), (f2, g) = ins[0], ins[1]
    expect(f == f2 and out == b + g + d and len({b, f, d, g}) == 4,
           f"einsum '{op.attrs['equation']}' is not 'bfd,fg->bgd'")
    m = Match(op)
    m.vals.update(x=op.operands[0], w=const(op.operands[1], "weight"), b=None,
                  w_bits=op.operands[1].type.bits)
    return m


def _swapped(v: Value, m: Match, what: str) -> Value:
    t = producer(v, nn_shape.Transpose, m, what)
    expect(tuple(t.attrs["perm"]) == _SWAP, f"{what} transpose is not [0, 2, 1]")
    return t.operands[0]


def _transposed_pattern(op: Op, ctx: Ctx) -> Match:
    expect(tuple(op.attrs["perm"]) == _SWAP, "transpose is not [0, 2, 1]")
    m = Match(op)
    mix = producer(op.operands[0], (nn.MatMul, rec.Dense), m, "transposed value")
    expect(not isinstance(mix, rec.Dense) or mix.attrs["activation"] == "none",
           "dense has an activation")
    x = _swapped(mix.operands[0], m, "mixed input")
    expect(x.type.rank == 3, "tokens are not [B, F, D]")
    bias = mix.arg("b") if isinstance(mix, rec.Dense) else None
    m.vals.update(x=x, w=const(mix.operands[1], "weight"), w_bits=mix.operands[1].type.bits,
                  b=None if bias is None else const(bias, "bias"))
    return m


def _left_pattern(op: Op, ctx: Ctx) -> Match:
    w, x = op.operands
    expect(const_of(w) is not None and w.type.rank == 2, "left operand is no 2-D constant")
    expect(x.type.rank == 3, "right operand is not tokens [B, F, D]")
    # D = 1 is W @ unsqueeze(x), a per-row linear map that cross and dense rules read
    expect(x.type.shape[2] > 1, "tokens have width 1: a matrix-vector product")
    m = Match(op)
    m.vals.update(x=x, w=const_of(w).T, b=None, w_bits=w.type.bits)
    return m


def _bias_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    y, c = split_const(op)
    efc = producer(y, rec.EFC, m, "addend")
    expect(efc.arg("b") is None, "efc already has a bias")
    g = efc.result.type.shape[1]
    bias = const_of(c)
    # [G, 1] with leading ones only: a [B, G, 1] addend differs between batch rows
    per_token = bias.size == 1 or (bias.ndim >= 2 and bias.shape[-2:] == (g, 1)
                                   and bias.size == g)
    expect(per_token and op.result.type.same_data(y.type), "addend is not a bias per token")
    x, w = efc.operands
    m.vals.update(x=x, w=const_of(w), w_bits=w.type.bits,
                  b=np.broadcast_to(bias.reshape(-1), (g,)))
    return m


def _check(m: Match, ctx: Ctx) -> str | None:
    return None if m.w.ndim == 2 and m.w.shape[0] == m.x.type.shape[1] else \
        "weight does not take the token axis"


def _rewrite(m: Match) -> Rewrite:
    w = new_const(m.w, m.w_bits)
    ops: list[Op] = [w]
    operands = [m.x, w.result]
    if m.b is not None:
        ops.append(new_const(np.asarray(m.b).reshape(-1, 1)))
        operands.append(ops[-1].result)
    ops.append(rec.EFC(operands))
    return Rewrite(ops, ops[-1].result)


RULES = (
    Rule("efc", (nn.Einsum,), _einsum_pattern, _rewrite, _check),
    Rule("efc-transposed", (nn_shape.Transpose,), _transposed_pattern, _rewrite, _check),
    Rule("efc-matmul", (nn.MatMul,), _left_pattern, _rewrite, _check),
    Rule("efc-bias", (nn.Add,), _bias_pattern, _rewrite, _check),
)
