"""pairwise: products of feature pairs into `rec.pairwise` (PNN inner, AFM, FFM, FiBiNET).

- `pairwise`: nn.mul of two field gathers of [B, F, D] features with constant indices, one
  pair or a list of pairs per gather: `gather(x, i, axis=1)` (legacy exporter) or
  `transpose(gather_nd(transpose(x, [1,0,2]), i[P,1]), [1,0,2])` (dynamo). A scalar index
  (one pair, [B, D]) is a one-pair op viewed as [B, D].
- `pairwise-concat`: nn.concat over the pair axis of pairwise blocks (seen through views)
  is one op with their pair lists in order: field-aware FM's 171 one-pair products. A block
  may be scaled by a constant that is one number per pair (field-weighted FM's r[F(i), F(j)]
  times each product): the concatenation is then one op times the [1, P, 1] weights.
- `pairwise-inner`: reduce_sum over D of a pairwise product is the inner product.
- `pairwise-weighted-sum`: the sum over pairs and D (one reduce_sum or two nested ones) of
  unsummed pair products times per-pair weights r is the inner products (rec.pairwise
  reduced), times r, summed over the pairs: field-weighted FM's interaction term. The
  weighted sum stays an elementwise product and a sum (vector units), not a [P, 1] rec.dense:
  one output column would hold a crossbar's rows and converters for P multiply-adds a sample.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_index, nn_shape, rec
from passes.rewrite import (
    Ctx,
    Match,
    NoMatch,
    Rewrite,
    Rule,
    const,
    expect,
    new_const,
    producer,
    split_const,
)

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
    op = _through_views(v)
    if not isinstance(op, cls) or op.result.type.shape != v.type.shape:
        raise NoMatch(f"concatenated value is not a {cls.name} product")
    return op


def _through_views(v: Value) -> Op | None:
    op = v.owner
    while isinstance(op, _VIEWS):
        op = op.operands[0].owner
    return op


def pair_weights(scale: np.ndarray, product: Value, pair: Op) -> np.ndarray:
    """The one weight per pair of `pair` that `scale` multiplies `product` (a view of the
    pair products) by: `scale` broadcast to the product, seen in the pairs' [B, P(, D)] order
    (views keep the element order), must not vary along B nor D."""
    shape = pair.result.type.shape
    expect(np.broadcast_shapes(scale.shape, product.type.shape) == product.type.shape,
           "the weight broadcasts the pair products")
    w = np.broadcast_to(scale, product.type.shape).reshape(shape)
    per_pair = w[0, :, 0] if len(shape) == 3 else w[0]
    want = per_pair[None, :, None] if len(shape) == 3 else per_pair[None, :]
    expect(bool(np.all(w == want)), "the weight is not one number per pair (it varies "
           "along the batch or the embedding axis)")
    return per_pair


def _block(v: Value) -> tuple[Op, np.ndarray | None]:
    """The rec.pairwise block behind a concatenated value and its per-pair weights (None
    when it is not scaled): a view of the block, or a view of (a view of it) * constant."""
    op = _through_views(v)
    if not isinstance(op, nn.Mul):
        return pair_source(v, rec.Pairwise), None
    product, scale = split_const(op)
    pair = _through_views(product)
    if not isinstance(pair, rec.Pairwise) or pair.result.type.shape != v.type.shape:
        raise NoMatch("concatenated value is not a rec.pairwise product, scaled or not")
    return pair, pair_weights(const(scale, "pair weight"), product, pair)


def _concat_pattern(op: Op, ctx: Ctx) -> Match:
    expect(op.attrs["axis"] in (1, 1 - op.result.type.rank), "concat is not over the pairs")
    blocks, weights = zip(*(_block(v) for v in op.operands), strict=True)
    expect(len({b.attrs["reduce"] for b in blocks}) == 1, "blocks differ in reduction")
    xs, starts = _operands([x for b in blocks for x in b.operands])
    left: list[int] = []
    right: list[int] = []
    for b in blocks:
        own, offsets = _operands(b.operands)
        rows = np.concatenate([starts[id(x)] + np.arange(x.type.shape[1]) for x in own])
        left += rows[list(b.attrs["left"])].tolist()
        right += rows[list(b.attrs["right"])].tolist()
    scale = None
    if any(w is not None for w in weights):
        dtype = op.result.type.np_dtype
        scale = np.concatenate([np.ones(len(b.attrs["left"]), dtype) if w is None
                                else w.astype(dtype) for b, w in zip(blocks, weights,
                                                                     strict=True)])
    m = Match(op)
    m.vals.update(xs=xs, left=left, right=right, reduce=blocks[0].attrs["reduce"], scale=scale)
    return m


def _concat_rewrite(m: Match) -> Rewrite:
    new = rec.Pairwise(m.xs, {"left": m.left, "right": m.right, "reduce": m.reduce})
    if m.scale is None:
        return Rewrite([new], new.result)
    shape = (1, len(m.scale)) + (() if m.reduce else (1,))
    w = new_const(m.scale.reshape(shape))
    scaled = nn.Mul([new.result, w.result])
    return Rewrite([new, w, scaled], scaled.result)


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


def _summed_axes(op: nn.ReduceSum, m: Match) -> tuple[Value, set[int]]:
    """(the summed value, the axes of it that `op`, and a reduce_sum feeding it, sum)."""
    inner = op.operands[0].owner
    if not isinstance(inner, nn.ReduceSum):
        return op.operands[0], set(op.reduced_axes())
    producer(op.operands[0], nn.ReduceSum, m)
    first = set(inner.reduced_axes())
    # the axes of the inner sum's input that are left as axes of its result
    kept = [a for a in range(inner.operands[0].type.rank)
            if inner.attrs["keepdims"] or a not in first]
    return inner.operands[0], first | {kept[a] for a in op.reduced_axes()}


def _weighted_sum_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    v, axes = _summed_axes(op, m)
    mul = producer(v, nn.Mul, m, "summed value")
    product, scale = split_const(mul)
    pair = producer(product, rec.Pairwise, m, "scaled value")
    # (pairs summed over D, times weights, summed over the pairs: the fused form, rank 2)
    expect(axes == {1, 2}, "the sum is not over the pairs and D, batch kept")
    expect(mul.result.type.shape == pair.result.type.shape, "the weight broadcasts the pairs")
    w = pair_weights(const(scale, "pair weight"), product, pair)
    m.vals.update(pair=pair, w=w, w_bits=scale.type.bits)
    return m


def _weighted_sum_rewrite(m: Match) -> Rewrite:
    inner = rec.Pairwise(m.pair.operands, {**m.pair.attrs, "reduce": True})
    w = new_const(m.w.reshape(1, -1).astype(inner.result.type.np_dtype), m.w_bits)
    mul = nn.Mul([inner.result, w.result])
    shape = m.anchor.result.type.shape
    total = nn.ReduceSum([mul.result], {"axes": [1], "keepdims": len(shape) != 1})
    ops: list[Op] = [inner, w, mul, total]
    if total.result.type.shape != shape:
        ops.append(nn_shape.Reshape([total.result], {"shape": list(shape)}))
    return Rewrite(ops, ops[-1].result)


RULES = (
    Rule("pairwise", (nn.Mul,), _mul_pattern, _mul_rewrite),
    Rule("pairwise-concat", (nn_shape.Concat,), _concat_pattern, _concat_rewrite),
    summed_over_d("pairwise-inner", rec.Pairwise),
    Rule("pairwise-weighted-sum", (nn.ReduceSum,), _weighted_sum_pattern, _weighted_sum_rewrite),
)
