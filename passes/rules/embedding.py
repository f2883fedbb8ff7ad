"""embedding: table lookups into `rec.embedding_bag`.

- `embedding`: nn.gather on axis 0 of a constant 2-D table with integer indices is a plain
  lookup, `rec.embedding_bag {mode = "none"}`.
- `embedding-pool`: reduce_sum / reduce_mean / reduce_max of such a lookup over the last
  index axis (a fixed-size bag) is a pooled bag; with keepdims the bag axis stays as a 1.
"""

from __future__ import annotations

from ir.core import Op
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import Ctx, Match, Rewrite, Rule, const, expect, producer

__all__ = ["RULES"]


def _lookup_pattern(op: Op, ctx: Ctx) -> Match:
    expect(op.attrs["axis"] % max(op.arg("x").type.rank, 1) == 0, "gather is not on axis 0")
    table = const(op.arg("x"), "table")
    expect(table.ndim == 2, f"table is rank {table.ndim}, not 2")
    idx = op.arg("indices")
    expect(idx.type.dtype in ("i64", "i32"), f"indices are {idx.type.dtype}, not integers")
    m = Match(op)
    m.vals.update(table=op.arg("x"), idx=idx)
    return m


def _lookup_rewrite(m: Match) -> Rewrite:
    new = rec.EmbeddingBag([m.table, m.idx], {"mode": "none"})
    return Rewrite([new], new.result)


_MODES = {nn.ReduceSum: "sum", nn.ReduceMean: "mean", nn.ReduceMax: "max"}


def _pool_pattern(op: Op, ctx: Ctx) -> Match:
    m = Match(op)
    bag = producer(op.operands[0], rec.EmbeddingBag, m, "reduced value")
    expect(bag.attrs["mode"] == "none" and len(bag.operands) == 2, "lookup already pools")
    idx = bag.arg("indices")
    expect(idx.type.rank >= 1, "indices are a scalar")
    expect(op.reduced_axes() == (idx.type.rank - 1,),
           f"reduction axes {list(op.reduced_axes())} are not the bag axis {idx.type.rank - 1}")
    expect(idx.type.shape[-1] > 0, "bags are empty")
    m.vals["bag"] = bag
    return m


def _pool_rewrite(m: Match) -> Rewrite:
    new = rec.EmbeddingBag(m.bag.operands, {"mode": _MODES[type(m.anchor)]})
    if m.anchor.attrs["keepdims"]:
        axis = m.bag.arg("indices").type.rank - 1
        keep = nn_shape.Unsqueeze([new.result], {"axes": [axis]})
        return Rewrite([new, keep], keep.result)
    return Rewrite([new], new.result)


RULES = (
    Rule("embedding", (nn_shape.Gather,), _lookup_pattern, _lookup_rewrite),
    Rule("embedding-pool", tuple(_MODES), _pool_pattern, _pool_rewrite),
)
