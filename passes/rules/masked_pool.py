"""masked-pool: sum pooling of a padded id sequence under its mask into `rec.embedding_bag`.

- `masked-sum`: nn.matmul(cast(unsqueeze(not(equal(ids, pad)), [1]), f32), lookup) with the
  lookup `rec.embedding_bag {mode = "none"}(T, ids)` [B, L, D] of the same ids: torch-rechub's
  SumPooling / AveragePooling (`torch.bmm(mask, x)`), both exporters. The padding id's row
  adds nothing under the mask, so the product is `rec.embedding_bag {mode = "sum"}` over a
  copy of T whose row `pad` is zero ([B, 1, D] through an unsqueeze). The copy is a second
  table beside T when T has other lookups (the target item's, in DIN-style models); a mean
  pooling keeps its division by the mask's count (an empty bag is 0 / 0 in one exporter's
  form and 0 / 1e-16 in the other's, and both stay exactly as exported).
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule, const, expect, new_const, producer

__all__ = ["RULES"]


def _mask(v: Value) -> tuple[Value, int]:
    """(ids, padding id) behind cast(unsqueeze(not(equal(ids, pad)), [1]), float)."""
    cast = producer(v, nn.Cast, None, "mask")
    unsq = producer(cast.operands[0], nn_shape.Unsqueeze, None, "cast value")
    expect(list(unsq.attrs["axes"]) == [1], "mask is not unsqueezed on axis 1")
    neg = producer(unsq.operands[0], nn.Not, None, "unsqueezed mask")
    eq = producer(neg.operands[0], nn.Equal, None, "negated value")
    for ids, pad in (eq.operands, eq.operands[::-1]):
        value = pad.owner.attrs["value"] if isinstance(pad.owner, nn.Constant) else None
        if value is not None and np.size(value) == 1 and ids.type.rank == 2:
            return ids, int(np.asarray(value).reshape(-1)[0])
    raise NoMatch("mask does not compare [B, L] ids with one constant padding id")


def _pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    ids, pad = _mask(op.operands[0])
    bag = producer(op.operands[1], rec.EmbeddingBag, m, "masked value")
    expect(bag.attrs["mode"] == "none" and len(bag.operands) == 2, "lookup already pools")
    expect(bag.arg("indices") is ids, "the mask is not over the looked-up ids")
    table = const(bag.arg("table"), "table")
    expect(0 <= pad < table.shape[0], f"padding id {pad} is outside the table's "
           f"{table.shape[0]} rows")
    zeroed = table.copy()
    zeroed[pad] = 0
    m.vals.update(ids=ids, table=zeroed, bits=bag.arg("table").type.bits)
    return m


def _rewrite(m: Match) -> Rewrite:
    table = new_const(m.table, m.bits)
    new = rec.EmbeddingBag([table.result, m.ids], {"mode": "sum"})
    keep = nn_shape.Unsqueeze([new.result], {"axes": [1]})
    return Rewrite([table, new, keep], keep.result)


RULES = (Rule("masked-sum", (nn.MatMul,), _pattern, _rewrite),)
