"""moe: mixture-of-experts gates (MMoE, PLE) into `rec.moe`.

- `moe`: reduce_sum over the expert axis of unsqueeze(softmax(g), -1) * x, with gate logits
  g [B, E] (softmax over the experts) and stacked expert outputs x [B, E, H], either operand
  order: one `rec.moe(g, x)` [B, H].
"""

from __future__ import annotations

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule, expect, producer

__all__ = ["RULES"]


def _gate(v: Value, m: Match) -> Value:
    """The logits g [B, E] behind unsqueeze(softmax(g, axis=-1), -1), recording the ops."""
    unsq = producer(v, nn_shape.Unsqueeze, None, "gate")
    expect(list(unsq.attrs["axes"]) in ([2], [-1]) and unsq.result.type.rank == 3,
           "gate is not unsqueezed on its last axis")
    soft = producer(unsq.operands[0], nn.Softmax, None, "unsqueezed gate")
    g = soft.operands[0]
    expect(g.type.rank == 2 and soft.attrs["axis"] in (1, -1), "softmax is not over the experts")
    m.ops += [unsq, soft]
    return g


def _pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    expect(op.reduced_axes() == (1,) and not op.attrs["keepdims"],
           "reduce_sum is not over the expert axis (1) without keepdims")
    mul = producer(op.operands[0], nn.Mul, m, "summed value")
    reasons = []
    for a, x in (mul.operands, mul.operands[::-1]):
        try:
            g = _gate(a, m)
        except NoMatch as exc:
            reasons.append(str(exc))
            continue
        expect(x.type.rank == 3 and x.type.shape[:2] == g.type.shape
               and mul.result.type.shape == x.type.shape,
               f"experts {list(x.type.shape)} are not [B, E, H] for gate {list(g.type.shape)}")
        m.vals.update(g=g, x=x)
        return m
    raise NoMatch("no factor is a softmax gate unsqueezed on its last axis: "
                  + "; ".join(reasons))


def _rewrite(m: Match) -> Rewrite:
    new = rec.MoE([m.g, m.x])
    return Rewrite([new], new.result)


RULES = (Rule("moe", (nn.ReduceSum,), _pattern, _rewrite),)
