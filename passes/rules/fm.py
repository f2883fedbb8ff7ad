"""fm: the factorisation-machine second-order term into `rec.fm`.

The core is `reduce_sum(x, 1)^2 - reduce_sum(x^2, 1)` over x [B, F, D] (squares as pow 2 or
x*x, the sum of squares also as reduce_sum_square; keepdims either way, the same on both
sides). Anchors:

- `fm`: 0.5 * core (mul by 0.5 or div by 2) -> rec.fm {reduce = false}, and
  0.5 * reduce_sum(core, D axis) -> rec.fm {reduce = true};
- `fm-reduce`: reduce_sum over D of an unreduced rec.fm (the 0.5 applied before the sum).

A reshape restores the anchor's exact shape (keepdims variants) where it differs.
"""

from __future__ import annotations

from ir.core import Op, Value, detach
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule, expect, producer, scalar_of

__all__ = ["RULES"]


def _square_of(v: Value, m: Match) -> Value:
    """y where v = y^2 (pow by 2 or y*y)."""
    op = producer(v, (nn.Pow, nn.Mul), m, "squared term")
    a, b = op.operands
    if isinstance(op, nn.Pow):
        expect(scalar_of(b) == 2.0 and b.type.size == 1, "pow exponent is not 2")
        return a
    expect(a is b, "mul is not a square")
    return a


def _feature_sum(v: Value, m: Match) -> nn.ReduceSum:
    op = producer(v, nn.ReduceSum, m, "summed term")
    expect(op.operands[0].type.rank == 3, "summed features are not [B, F, D]")
    expect(op.reduced_axes() == (1,), "sum is not over the feature axis")
    return op


def _sum_of_squares(v: Value, m: Match) -> tuple[Value, bool]:
    if isinstance(v.owner, nn.ReduceSumSquare):
        op = producer(v, nn.ReduceSumSquare, m)
        expect(op.reduced_axes() == (1,) and op.operands[0].type.rank == 3,
               "sum of squares is not over the feature axis of [B, F, D]")
        return op.operands[0], op.attrs["keepdims"]
    op = _feature_sum(v, m)
    return _square_of(op.operands[0], m), op.attrs["keepdims"]


def _core(v: Value, m: Match) -> Value:
    """x where v = reduce_sum(x, 1)^2 - reduce_sum(x^2, 1)."""
    sub = producer(v, nn.Sub, m, "scaled term")
    total = _feature_sum(_square_of(sub.operands[0], m), m)
    x, keep = _sum_of_squares(sub.operands[1], m)
    expect(x is total.operands[0], "the two sums are over different tensors")
    expect(keep == total.attrs["keepdims"], "the two sums keep different dims")
    return x


def _halved(op: Op) -> Value:
    """The operand `op` halves (mul by 0.5 or div by 2)."""
    sides = ((0, 1), (1, 0)) if isinstance(op, nn.Mul) else ((0, 1),)
    want = 0.5 if isinstance(op, nn.Mul) else 2.0
    for keep, other in sides:
        c = op.operands[other]
        if scalar_of(c) == want and c.type.size == 1:
            return op.operands[keep]
    raise NoMatch(f"{op.name} does not halve")


def _scaled_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    u = _halved(op)
    reduce = isinstance(u.owner, nn.ReduceSum)
    if reduce:
        outer = producer(u, nn.ReduceSum, m)
        expect(outer.reduced_axes() == (outer.operands[0].type.rank - 1,),
               "outer sum is not over the embedding axis")
        u = outer.operands[0]
    m.vals.update(x=_core(u, m), reduce=reduce)
    return m


def _reduce_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    v = op.operands[0]
    if isinstance(v.owner, nn_shape.Reshape):
        v = producer(v, nn_shape.Reshape, m).operands[0]
    fm = producer(v, rec.FM, m, "summed value")
    expect(not fm.attrs["reduce"], "fm is already reduced")
    t = op.operands[0].type
    expect(op.reduced_axes() == (t.rank - 1,) and t.shape[-1] == fm.result.type.shape[1],
           "sum is not over the embedding axis")
    m.vals.update(x=fm.operands[0], reduce=True)
    return m


def _rewrite(m: Match) -> Rewrite:
    new = rec.FM([m.x], {"reduce": m.reduce})
    shape = m.anchor.result.type.shape
    if new.result.type.shape == shape:
        return Rewrite([new], new.result)
    back = nn_shape.Reshape([new.result], {"shape": shape})
    return Rewrite([new, back], back.result)


def _check(m: Match, ctx: Ctx) -> str | None:
    term = rec.FM([m.x], {"reduce": m.reduce})  # built for its result type only
    size = term.result.type.size
    detach((term,))
    return None if m.anchor.result.type.size == size else \
        "the result is broadcast beyond the fm term"


RULES = (
    Rule("fm", (nn.Mul, nn.Div), _scaled_pattern, _rewrite, _check),
    Rule("fm-reduce", (nn.ReduceSum,), _reduce_pattern, _rewrite, _check),
)
