"""attention-pool: softmax-weighted pooling over an axis (AFM's attention over pair products,
DIEN's target attention over the interest states) into `rec.moe`.

- `attention-pool`: `reduce_sum(softmax(a, axis=1) * x, axis=1)` with scores a [B, P, 1] (one
  per row and item) and items x [B, P, D], either operand order: `rec.moe(reshape(a, [B, P]),
  x)` [B, D], the items in the place of the experts (a reshape back when the sum keeps its axis).
- `attention-pool-matmul`: the same pooling written as a batched product, `matmul(softmax(a,
  axis=-1), x)` with a [B, 1, P] (one query per row) and x [B, P, D]: `rec.moe(reshape(a,
  [B, P]), x)` reshaped to [B, 1, D]. Masks added to the scores before the softmax (-inf on
  padded steps) stay where they are, in the logits.
"""

from __future__ import annotations

from ir.core import Op
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule, expect, producer

__all__ = ["RULES"]


def _pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    expect(op.reduced_axes() == (1,), "reduce_sum is not over the item axis (1)")
    mul = producer(op.operands[0], nn.Mul, m, "summed value")
    reasons = []
    for w, x in (mul.operands, mul.operands[::-1]):
        soft = w.owner
        if not isinstance(soft, nn.Softmax):
            reasons.append(f"factor is {'an argument' if soft is None else soft.name}")
            continue
        a = soft.operands[0]
        expect(a.type.rank == 3 and soft.attrs["axis"] % 3 == 1,
               "softmax is not over the items (axis 1 of [B, P, 1])")
        expect(x.type.rank == 3 and a.type.shape == x.type.shape[:2] + (1,) and
               mul.result.type.shape == x.type.shape,
               f"items {list(x.type.shape)} are not [B, P, D] for scores {list(a.type.shape)}")
        m.ops.append(soft)
        m.vals.update(a=a, x=x)
        return m
    raise NoMatch("no factor is a softmax over the items: " + "; ".join(reasons))


def _rewrite(m: Match) -> Rewrite:
    g = nn_shape.Reshape([m.a], {"shape": list(m.x.type.shape[:2])})  # [B, P]
    pooled = rec.MoE([g.result, m.x])
    ops: list[Op] = [g, pooled]
    if m.anchor.result.type.shape != pooled.result.type.shape:  # keepdims
        ops.append(nn_shape.Reshape([pooled.result],
                                    {"shape": list(m.anchor.result.type.shape)}))
    return Rewrite(ops, ops[-1].result)


def _matmul_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    soft = producer(op.operands[0], nn.Softmax, m, "weights")
    a, x = soft.operands[0], op.operands[1]
    expect(a.type.rank == 3 and a.type.shape[1] == 1,
           f"weights {list(a.type.shape)} are not one query per row ([B, 1, P])")
    expect(soft.attrs["axis"] % 3 == 2, "softmax is not over the items (the last axis)")
    expect(x.type.rank == 3 and x.type.shape[:2] == (a.type.shape[0], a.type.shape[2]),
           f"items {list(x.type.shape)} are not [B, P, D] for weights {list(a.type.shape)}")
    m.vals.update(a=a, x=x)
    return m


RULES = (Rule("attention-pool", (nn.ReduceSum,), _pattern, _rewrite),
         Rule("attention-pool-matmul", (nn.MatMul,), _matmul_pattern, _rewrite))
