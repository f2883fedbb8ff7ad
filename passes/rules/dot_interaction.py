"""dot-interaction: DLRM's pairwise dot products into `rec.dot_interaction`.

The Gram matrix of features T [B, F, D] (`matmul(T, transpose(T, [0, 2, 1]))` or the einsum
'bfd,bgd->bfg'), then a selection of one triangle by whatever data movement the exporter
wrote (gather, gather_nd, flatten + gather, transposes, ...). The selection is checked by
probing it (see `_movement`): it must be a row-major lower or upper triangle, with or without
the diagonal, for every row of the batch.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from ir.interp.rec import triangle_pairs
from passes.rewrite import (
    Ctx,
    Match,
    NoMatch,
    Rewrite,
    Rule,
    einsum_terms,
    expect,
    producer,
)
from passes.rules._movement import INDEXED, MOVES, probe, region

__all__ = ["RULES"]

_KINDS = [(tri, diag) for tri in ("lower", "upper") for diag in (False, True)]


def _gram_of(v: Value, m: Match) -> Value:
    """T where v is T @ T^T over the last two axes, T [B, F, D]."""
    op = producer(v, (nn.MatMul, nn.Einsum), m, "selected tensor")
    a, b = op.operands
    expect(a.type.rank == 3, "gram operand is not [B, F, D]")
    if isinstance(op, nn.Einsum):
        ins, out = einsum_terms(op)
        ok = len(ins) == 2 and len(set(out)) == 3 and ins[0][0] == ins[1][0] == out[0] and \
            ins[0][2] == ins[1][2] and out[1:] == ins[0][1] + ins[1][1] and a is b
        expect(ok, f"einsum '{op.attrs['equation']}' is not a Gram matrix")
        return a
    t = producer(b, nn_shape.Transpose, m, "right gram operand")
    expect(tuple(t.attrs["perm"]) == (0, 2, 1) and t.operands[0] is a,
           "right gram operand is not the transpose of the left")
    return a


def _pattern(op: Op, ctx: Ctx) -> Match:
    expect(len(op.results) == 1, "selection ends in an op with several results")
    m = Match(op)
    source, ops = region(op.results[0], ctx, m)
    m.vals.update(t=_gram_of(source, m), gram=source, moves=ops)
    return m


def _kind(m: Match) -> tuple[str, bool]:
    b, f, _ = m.t.type.shape
    out = probe(m.gram, m.moves, m.anchor.results[0]).reshape(b, -1)
    base = (np.arange(b) * f * f)[:, None]
    for tri, diag in _KINDS:
        rows, cols = triangle_pairs(f, tri, diag)
        if out.shape[1] == len(rows) and np.array_equal(out, base + rows * f + cols):
            return tri, diag
    raise NoMatch("selection is not a row-major triangle of the Gram matrix")


def _check(m: Match, ctx: Ctx) -> str | None:
    try:
        m.vals["kind"] = _kind(m)
    except NoMatch as exc:
        return str(exc)
    return None


def _rewrite(m: Match) -> Rewrite:
    tri, diag = m.kind
    new = rec.DotInteraction([m.t], {"triangle": tri, "self_interaction": diag})
    shape = m.anchor.result.type.shape
    if new.result.type.shape == shape:
        return Rewrite([new], new.result)
    back = nn_shape.Reshape([new.result], {"shape": shape})
    return Rewrite([new, back], back.result)


RULES = (Rule("dot-interaction", MOVES + INDEXED, _pattern, _rewrite, _check),)
