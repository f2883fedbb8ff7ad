"""bilinear: pairs through a weight into `rec.bilinear` (FiBiNET's bilinear layer, PNN's
kernel product).

- `bilinear`: nn.mul of a bias-free, activation-free `rec.dense(fields_i, W)` and fields_j of
  the same [B, F, D] features, where a factor is one output of nn.split over the field axis
  (DeepCTR's `torch.split(x, 1, dim=1)`, both exporters) or a field gather (see `pairwise`).
  FiBiNET's "interaction" type is one such product per pair, each with its own W.
- `bilinear-kernel`: PNN's outer (kernel) product, pytorch-fm's
  `sum(unsqueeze(p, 1) * K, -1).permute(0, 2, 1) * q` with K [D, P, D] and p, q field gathers:
  pair p's weight is K[:, p, :]^T.
- `bilinear-concat`: nn.concat over the pair axis of bilinear blocks (seen through views) is
  one op with the pair lists in order and the weights stacked per pair ([P, D, D]); one
  shared [D, D] when every block has the same weight.
- `bilinear-inner`: reduce_sum over D of a bilinear product sums it (PNN).
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import (
    Ctx,
    Match,
    NoMatch,
    Rewrite,
    Rule,
    const,
    const_of,
    expect,
    new_const,
    producer,
)
from passes.rules.pairwise import _field_gather, _operands, pair_source, summed_over_d

__all__ = ["RULES"]


def _split_fields(op: Op, index: int) -> tuple[Value, np.ndarray]:
    x = op.operands[0]
    expect(x.type.rank == 3 and op.attrs["axis"] in (1, -2),
           "split is not over the field axis of [B, F, D] features")
    start = int(sum(op.attrs["sizes"][:index]))
    return x, np.arange(start, start + op.attrs["sizes"][index])


def _fields(v: Value) -> tuple[Value, np.ndarray, bool]:
    """(features [B, F, D], the field rows `v` holds, whether `v` dropped the field axis)."""
    op = v.owner
    if isinstance(op, nn_shape.Split):
        x, rows = _split_fields(op, v.index)
        return x, rows, False
    x, idx = _field_gather(v)
    return x, idx.reshape(-1), idx.ndim == 0


def _dense_factor(v: Value, m: Match) -> tuple[Value, np.ndarray]:
    dense = producer(v, rec.Dense, m, "factor")
    expect(len(dense.operands) == 2 and dense.attrs["activation"] == "none",
           "dense has a bias or an activation")
    w = const(dense.operands[1], "bilinear weight")
    return dense.operands[0], w


def _block(m: Match, xa: Value, ia: np.ndarray, xb: Value, ib: np.ndarray) -> None:
    expect(len(ia) == len(ib), "the two factors hold different numbers of fields")
    expect(xa.type.same_data(xb.type), "the two factors read features of different shapes")
    xs, starts = _operands([xa, xb])
    m.vals.update(xs=xs, left=(ia + starts[id(xa)]).tolist(), right=(ib + starts[id(xb)]).tolist())


def _mul_pattern(op: Op, ctx: Ctx) -> Match:
    reasons = []
    for a, b in (op.operands, op.operands[::-1]):
        m = Match(op)
        try:
            inner, w = _dense_factor(a, m)
            (xa, ia, sa), (xb, ib, sb) = _fields(inner), _fields(b)
        except NoMatch as exc:
            reasons.append(str(exc))
            continue
        expect(sa == sb, "one factor keeps the field axis and the other does not")
        expect(op.result.type.shape == a.type.shape == b.type.shape, "the product broadcasts")
        expect(w.shape == (xa.type.shape[2],) * 2, f"weight {list(w.shape)} is not [D, D]")
        _block(m, xa, ia, xb, ib)
        m.vals.update(w=w, scalar=sa)
        return m
    raise NoMatch("no factor is a bias-free dense of fields times fields: " + "; ".join(reasons))


def _rewrite(m: Match, w: np.ndarray) -> Rewrite:
    wc = new_const(w)
    new = rec.Bilinear([wc.result, *m.xs], {"left": m.left, "right": m.right})
    if not m.scalar:
        return Rewrite([wc, new], new.result)
    view = nn_shape.Reshape([new.result], {"shape": list(m.anchor.result.type.shape)})
    return Rewrite([wc, new, view], view.result)


def _kernel_left(v: Value, m: Match) -> tuple[Value, np.ndarray]:
    """p and K behind transpose(reduce_sum(unsqueeze(p, 1) * K, -1), [0, 2, 1])."""
    t = producer(v, nn_shape.Transpose, m, "kernel factor")
    expect(list(t.attrs["perm"]) == [0, 2, 1], "transpose is not [0, 2, 1]")
    red = producer(t.operands[0], nn.ReduceSum, m, "transposed value")
    expect(red.reduced_axes() == (3,) and not red.attrs["keepdims"],
           "reduce_sum is not over the last axis without keepdims")
    mul = producer(red.operands[0], nn.Mul, m, "summed value")
    for p, k in (mul.operands, mul.operands[::-1]):
        kernel = const_of(k)
        if kernel is not None and isinstance(p.owner, nn_shape.Unsqueeze):
            expect(list(p.owner.attrs["axes"]) == [1], "unsqueeze is not on axis 1")
            m.ops.append(p.owner)
            return p.owner.operands[0], kernel
    raise NoMatch("kernel product is not unsqueeze(p, 1) times a constant")


def _kernel_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    p, kernel = _kernel_left(op.operands[0], m)
    (xa, ia, sa), (xb, ib, sb) = _fields(p), _fields(op.operands[1])
    expect(not sa and not sb, "a factor is a single field")
    d = xa.type.shape[2]
    expect(kernel.shape == (d, len(ia), d), f"kernel {list(kernel.shape)} is not "
           f"[{d}, {len(ia)}, {d}] ([D, pairs, D])")
    expect(op.result.type.shape == op.operands[1].type.shape, "the product broadcasts")
    _block(m, xa, ia, xb, ib)
    m.vals.update(w=np.ascontiguousarray(kernel.transpose(1, 2, 0)), scalar=False)
    return m


def _per_pair(op: Op) -> np.ndarray:
    w = const(op.operands[0], "bilinear weight")
    p = len(op.attrs["left"])
    return np.broadcast_to(w, (p,) + w.shape[-2:]) if w.ndim == 2 else w


def _concat_pattern(op: Op, ctx: Ctx) -> Match:
    expect(op.attrs["axis"] in (1, 1 - op.result.type.rank), "concat is not over the pairs")
    blocks = [pair_source(v, rec.Bilinear) for v in op.operands]
    expect(len({b.attrs["reduce"] for b in blocks}) == 1, "blocks differ in reduction")
    weights = [const(b.operands[0], "bilinear weight") for b in blocks]
    xs, starts = _operands([x for b in blocks for x in b.operands[1:]])
    left: list[int] = []
    right: list[int] = []
    for b in blocks:
        own, _ = _operands(b.operands[1:])
        rows = np.concatenate([starts[id(x)] + np.arange(x.type.shape[1]) for x in own])
        left += rows[list(b.attrs["left"])].tolist()
        right += rows[list(b.attrs["right"])].tolist()
    shared = all(w.ndim == 2 and np.array_equal(w, weights[0]) for w in weights)
    m = Match(op)
    m.vals.update(xs=xs, left=left, right=right, reduce=blocks[0].attrs["reduce"],
                  w=weights[0] if shared else np.concatenate([_per_pair(b) for b in blocks]))
    return m


def _concat_rewrite(m: Match) -> Rewrite:
    wc = new_const(m.w)
    new = rec.Bilinear([wc.result, *m.xs], {"left": m.left, "right": m.right,
                                            "reduce": m.reduce})
    return Rewrite([wc, new], new.result)


RULES = (
    Rule("bilinear", (nn.Mul,), _mul_pattern, lambda m: _rewrite(m, m.w)),
    Rule("bilinear-kernel", (nn.Mul,), _kernel_pattern, lambda m: _rewrite(m, m.w)),
    Rule("bilinear-concat", (nn_shape.Concat,), _concat_pattern, _concat_rewrite),
    summed_over_d("bilinear-inner", rec.Bilinear),
)
