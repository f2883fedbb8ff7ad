"""pairwise: products of feature pairs into `rec.pairwise` (PNN inner, AFM, FFM, FiBiNET).

- `pairwise`: nn.mul of two field gathers of [B, F, D] features with constant indices, one
  pair or a list of pairs per gather: `gather(x, i, axis=1)` (legacy exporter) or
  `transpose(gather_nd(transpose(x, [1,0,2]), i[P,1]), [1,0,2])` (dynamo). A scalar index
  (one pair, [B, D]) is a one-pair op viewed as [B, D].
- `pairwise-concat`: nn.concat over the pair axis of pairwise blocks (seen through views)
  is one op with their pair lists in order: field-aware FM's 171 one-pair products.
- `pairwise-inner`: reduce_sum over D of a pairwise product is the inner product.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_index, nn_shape, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule, const, expect, producer

__all__ = ["RULES"]

_VIEWS = (nn_shape.Reshape, nn_shape.Unsqueeze, nn_shape.Squeeze, nn_shape.Flatten)


def _indices(v: Value) -> np.ndarray:
    idx = const(v, "field index")
    expect(idx.dtype.kind in "iu" and idx.ndim <= 1, "field index is not an integer list")
    return idx


def _legacy_gather(op: Op) -> tuple[Value, np.ndarray]:
    x = op.arg("x")
    expect(x.type.rank == 3 and op.attrs["axis"] in (1, -2), "gather is not over the field "
           "axis of [B, F, D] features")
    return x, _indices(op.arg("indices"))


def _dynamo_gather(op: Op) -> tuple[Value, np.ndarray]:
    expect(list(op.attrs["perm"]) == [1, 0, 2], "transpose is not [1, 0, 2]")
    nd = producer(op.operands[0], nn_index.GatherND, None, "transposed value")
    inner = producer(nd.arg("x"), nn_shape.Transpose, None, "gathered value")
    expect(nd.attrs["batch_dims"] == 0 and list(inner.attrs["perm"]) == [1, 0, 2]
           and inner.operands[0].type.rank == 3, "gather_nd is not over the field axis")
    idx = const(nd.arg("indices"), "field index")
    expect(idx.dtype.kind in "iu" and idx.ndim == 2 and idx.shape[1] == 1,
           "gather_nd indices are not one field per pair")
    return inner.operands[0], idx[:, 0]


def _field_gather(v: Value) -> tuple[Value, np.ndarray]:
    """(features [B, F, D], field indices) of a gather of fields, indices normalised."""
    op = producer(v, (nn_index.Gather, nn_shape.Transpose), None, "factor")
    x, idx = (_legacy_gather if isinstance(op, nn_index.Gather) else _dynamo_gather)(op)
    f = x.type.shape[1]
    expect(bool(np.all((idx >= -f) & (idx < f))), "field index out of range")
    return x, np.where(idx < 0, idx + f, idx)


def _operands(xs: list[Value]) -> tuple[list[Value], dict[int, int]]:
    """The distinct operands in order, and each one's first row in their concatenation."""
    out: list[Value] = []
    for x in xs:
        if all(x is not y for y in out):
            out.append(x)
    starts, row = {}, 0
    for x in out:
        starts[id(x)], row = row, row + x.type.shape[1]
    return out, starts


def _mul_pattern(op: Op, ctx: Ctx) -> Match:
    (xa, ia), (xb, ib) = (_field_gather(v) for v in op.operands)
    expect(ia.shape == ib.shape, "the two gathers take different numbers of pairs")
    expect(xa.type.same_data(xb.type), "the two gathers read features of different shapes")
    expect(op.result.type.shape == op.operands[0].type.shape == op.operands[1].type.shape,
           "the product broadcasts")
    xs, starts = _operands([xa, xb])
    m = Match(op)
    m.vals.update(xs=xs, left=(ia.reshape(-1) + starts[id(xa)]).tolist(),
                  right=(ib.reshape(-1) + starts[id(xb)]).tolist(), scalar=ia.ndim == 0)
    return m


def _mul_rewrite(m: Match) -> Rewrite:
    new = rec.Pairwise(m.xs, {"left": m.left, "right": m.right})
    if not m.scalar:
        return Rewrite([new], new.result)
    view = nn_shape.Reshape([new.result], {"shape": list(m.anchor.result.type.shape)})
    return Rewrite([new, view], view.result)


def pair_source(v: Value, cls: type[Op]) -> Op:
    """The `cls` op (rec.pairwise or rec.bilinear) behind `v`, seen through views that give
    back its own shape."""
    op = v.owner
    while isinstance(op, _VIEWS):
        op = op.operands[0].owner
    if not isinstance(op, cls) or op.result.type.shape != v.type.shape:
        raise NoMatch(f"concatenated value is not a {cls.name} product")
    return op


def _concat_pattern(op: Op, ctx: Ctx) -> Match:
    expect(op.attrs["axis"] in (1, 1 - op.result.type.rank), "concat is not over the pairs")
    blocks = [pair_source(v, rec.Pairwise) for v in op.operands]
    expect(len({b.attrs["reduce"] for b in blocks}) == 1, "blocks differ in reduction")
    xs, starts = _operands([x for b in blocks for x in b.operands])
    left: list[int] = []
    right: list[int] = []
    for b in blocks:
        own, offsets = _operands(b.operands)
        rows = np.concatenate([starts[id(x)] + np.arange(x.type.shape[1]) for x in own])
        left += rows[list(b.attrs["left"])].tolist()
        right += rows[list(b.attrs["right"])].tolist()
    m = Match(op)
    m.vals.update(xs=xs, left=left, right=right, reduce=blocks[0].attrs["reduce"])
    return m


def _concat_rewrite(m: Match) -> Rewrite:
    new = rec.Pairwise(m.xs, {"left": m.left, "right": m.right, "reduce": m.reduce})
    return Rewrite([new], new.result)


def summed_over_d(name: str, cls: type[Op]) -> Rule:
    """`reduce_sum` over D of a `cls` op's unsummed pair products: the same op with `reduce`
    on (PNN's inner products, and their bilinear form)."""

    def pattern(op: Op, ctx: Ctx) -> Match:
        m = Match(op)
        pair = producer(op.operands[0], cls, m, "summed value")
        expect(not pair.attrs["reduce"], "pairs are already summed")
        expect(op.reduced_axes() == (2,) and not op.attrs["keepdims"],
               "reduce_sum is not over D without keepdims")
        m.vals["pair"] = pair
        return m

    def rewrite(m: Match) -> Rewrite:
        new = cls(m.pair.operands, {**m.pair.attrs, "reduce": True})
        return Rewrite([new], new.result)

    return Rule(name, (nn.ReduceSum,), pattern, rewrite)


RULES = (
    Rule("pairwise", (nn.Mul,), _mul_pattern, _mul_rewrite),
    Rule("pairwise-concat", (nn_shape.Concat,), _concat_pattern, _concat_rewrite),
    summed_over_d("pairwise-inner", rec.Pairwise),
)
