"""efc: a fully connected layer over the token axis into `rec.efc`.

x [B, F, D] mixed by a constant w [F, G] into [B, G, D]: the einsum 'bfd,fg->bgd' (any
letters), or transpose(x, [0, 2, 1]) -> matmul / rec.dense with w -> transpose back (a dense
bias [G] becomes the efc bias [G, 1]).
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
    einsum_terms,
    expect,
    new_const,
    producer,
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
    m.vals.update(x=op.operands[0], w=const(op.operands[1], "weight"), b=None)
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
    m.vals.update(x=x, w=const(mix.operands[1], "weight"),
                  b=None if bias is None else const(bias, "bias"))
    return m


def _check(m: Match, ctx: Ctx) -> str | None:
    return None if m.w.ndim == 2 and m.w.shape[0] == m.x.type.shape[1] else \
        "weight does not take the token axis"


def _rewrite(m: Match) -> Rewrite:
    w = new_const(m.w)
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
)
