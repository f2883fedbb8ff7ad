"""layer-norm: a normalisation over the last axis written out op by op into `nn.layer_norm`.

Anchored on `div(c, sqrt(S))` with c = x - mean(x) (reduce_mean over the last axis, kept or
unsqueezed back) and S one of the spellings of k (var + eps) over the last axis of D elements:

- `reduce_mean(c^2) + eps` (the textbook decomposition, k = 1),
- `reduce_sum(c^2 + e)` (torch-rechub's Dice: k = D, eps = e), or `reduce_sum(c^2) + e'`
  (k = D, eps = e' / D), and the other sums of a scalar inside or outside the reduction,

with c^2 as `pow(c, 2)` or `mul(c, c)`. Since sqrt(k (var + eps)) = sqrt(k) sqrt(var + eps),
the result is `layer_norm(x, scale = 1 / sqrt(k))` with epsilon eps.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn
from passes.rewrite import Match, Rewrite, Rule, const_of, expect, new_const, producer, scalar_of
from passes.rules._movement import reshaped_from

__all__ = ["RULES"]


def _scalar(v: Value, what: str) -> float:
    c = scalar_of(v)
    expect(c is not None and const_of(v).size == 1, f"{what} is not a scalar constant")
    return c


def _plus_scalar(v: Value, m: Match, what: str) -> tuple[Value, float]:
    """(y, c) when v = y + c for a scalar constant c, else (v, 0)."""
    if not isinstance(v.owner, nn.Add):
        return v, 0.0
    add = producer(v, nn.Add, m)
    y, c = add.operands if const_of(add.operands[1]) is not None else add.operands[::-1]
    expect(y.type.shape == v.type.shape, f"{what} broadcasts")
    return y, _scalar(c, what)


def _per_row(v: Value, x: Value) -> bool:
    return v.type.shape == x.type.shape[:-1] + (1,)


def _reduction(v: Value, m: Match, x: Value) -> tuple[Value, int]:
    """(summand, k) of a reduce_mean (k = 1) or reduce_sum (k = D) over the last axis."""
    op = producer(reshaped_from(v, None, m), (nn.ReduceMean, nn.ReduceSum), m, "statistic")
    t = op.operands[0]
    expect(t.type.shape == x.type.shape and op.reduced_axes() == (t.type.rank - 1,),
           "statistic is not over the last axis of x")
    return t, 1 if isinstance(op, nn.ReduceMean) else t.type.shape[-1]


def _square_of(v: Value, c: Value, m: Match) -> None:
    op = producer(v, (nn.Pow, nn.Mul), m, "squared term")
    if isinstance(op, nn.Pow):
        expect(op.operands[0] is c and _scalar(op.operands[1], "exponent") == 2.0,
               "pow is not the centred input squared")
    else:
        expect(op.operands[0] is c and op.operands[1] is c, "mul is not the centred input squared")


def _pattern(op: Op, ctx) -> Match:
    m = Match(op, [op])
    c, den = op.operands
    sub = producer(c, nn.Sub, m, "numerator")
    x, mu = sub.operands
    expect(c.type.shape == x.type.shape and _per_row(mu, x), "numerator is not x - a row value")
    mean, k = _reduction(mu, m, x)
    expect(mean is x and k == 1, "subtracted value is not the mean of x over its last axis")
    sqrt = producer(den, nn.Sqrt, m, "denominator")
    expect(_per_row(den, x), "denominator is not one value per row")
    total, outside = _plus_scalar(sqrt.operands[0], m, "eps outside the reduction")
    summand, k = _reduction(total, m, x)
    square, inside = _plus_scalar(summand, m, "eps inside the reduction")
    _square_of(square, c, m)
    eps = inside + outside / k
    expect(eps >= 0, f"epsilon {eps} is negative")
    m.vals.update(x=x, k=k, eps=eps)
    return m


def _rewrite(m: Match) -> Rewrite:
    d = m.x.type.shape[-1]
    scale = new_const(np.full(d, 1 / np.sqrt(m.k), m.x.type.np_dtype))
    # layer_norm adds epsilon in the input's precision: its shortest decimal there says the same
    eps = float(str(m.x.type.np_dtype.type(m.eps)))
    ln = nn.LayerNorm([m.x, scale.result], {"axis": -1, "epsilon": eps})
    return Rewrite([scale, ln], ln.result)


RULES = (Rule("layer-norm", (nn.Div,), _pattern, _rewrite),)
