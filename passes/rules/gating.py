"""gating: x * sigmoid(g) (either operand order) into `rec.gating`.

A gate whose sigmoid was already folded into a `rec.dense` is split back out: the dense is
rebuilt without its activation and the sigmoid moves into the gating op.
"""

from __future__ import annotations

from ir.core import Op, Value
from ir.dialects import nn, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule

__all__ = ["RULES"]


def _gate(v: Value) -> Op | None:
    op = v.owner
    if isinstance(op, nn.Sigmoid):
        return op
    if isinstance(op, rec.Dense) and op.attrs["activation"] == "sigmoid":
        return op
    return None


def _pattern(op: Op, ctx: Ctx) -> Match:
    for x, g in (op.operands, op.operands[::-1]):
        gate = _gate(g)
        if gate is not None:
            m = Match(op, [op, gate])
            m.vals.update(x=x, gate=gate)
            return m
    raise NoMatch("no operand is a sigmoid")


def _rewrite(m: Match) -> Rewrite:
    if isinstance(m.gate, nn.Sigmoid):
        new = rec.Gating([m.x, m.gate.operands[0]])
        return Rewrite([new], new.result)
    logits = rec.Dense(m.gate.operands)
    new = rec.Gating([m.x, logits.result])
    return Rewrite([logits, new], new.result)


RULES = (Rule("gating", (nn.Mul,), _pattern, _rewrite),)
