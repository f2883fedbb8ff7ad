"""Data-movement regions and index probes.

Exporters spell one rearrangement (a triangle selection, a split into heads) in many ways:
gather, gather_nd, flatten + gather, split + unsqueeze + concat, transposes, reshapes. Rather
than match each spelling, a rule collects the region of pure data-movement ops between a
source value and the value it wants to understand, and runs it on a probe: a source whose
every element holds its own flat index. A movement region is an index map, so one probe with
distinct codes determines it exactly; the rule then compares the map with the one it needs.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape
from ir.interp import evaluate
from passes.rewrite import Ctx, Match, NoMatch, const_of, expect

__all__ = ["INDEXED", "MOVES", "keeps_order", "probe", "region", "reshaped_from"]

# Ops whose results only copy elements of their non-constant operands.
MOVES = (nn_shape.Reshape, nn_shape.Transpose, nn_shape.Squeeze, nn_shape.Unsqueeze,
         nn_shape.Flatten, nn_shape.Expand, nn_shape.Tile, nn_shape.Slice, nn_shape.Split,
         nn_shape.Concat, nn.Identity)
# Ops that copy elements of operand 0, chosen by a constant operand 1.
INDEXED = (nn_shape.Gather, nn_shape.GatherND, nn_shape.GatherElements)
_EXACT = 1 << 24  # float32 holds every integer below this exactly


def _data_operands(op: Op) -> list[Value] | None:
    if isinstance(op, INDEXED):
        return [op.operands[0]] if const_of(op.operands[1]) is not None else None
    if isinstance(op, MOVES) and all(const_of(v) is None for v in op.operands):
        return list(op.operands)
    return None


def region(target: Value, ctx: Ctx, m: Match, max_ops: int = 256) -> tuple[Value, list[Op]]:
    """The one source value and the movement ops (graph order) that `target` is made from.

    The region's ops are added to `m.ops`; NoMatch when it reads more than one source. Kept
    in `ctx.memo` until the graph changes: dot-interaction and attention both walk back from
    every movement op (2.4 ms of a search-loop candidate's 9.6 ms of fusion, walked twice).
    """
    key = ("region", id(target), max_ops)
    got = ctx.memo.get(key)
    if got is None or got[0] is not target:
        got = ctx.memo[key] = (target, _region(target, ctx, max_ops))
    found = got[1]
    if isinstance(found, str):
        raise NoMatch(found)
    source, ordered = found
    m.ops.extend(o for o in ordered if o not in m.ops)
    return source, list(ordered)


def _region(target: Value, ctx: Ctx, max_ops: int) -> tuple[Value, list[Op]] | str:
    """`region`'s source and ops, or why there is none."""
    ops: dict[int, Op] = {}
    sources: dict[int, Value] = {}
    stack = [target]
    while stack:
        v = stack.pop()
        op = v.owner
        data = _data_operands(op) if op is not None else None
        if data is None:
            sources[id(v)] = v
            continue
        if id(op) not in ops:
            ops[id(op)] = op
            stack.extend(data)
        if len(ops) > max_ops:
            return "movement region is too large"
    if len(sources) != 1:
        return f"rearrangement reads {len(sources)} tensors, not one"
    return next(iter(sources.values())), sorted(ops.values(), key=ctx.position)


def probe(source: Value, ops: list[Op], target: Value) -> np.ndarray:
    """`target` computed from a source holding its own flat indices (as int64)."""
    t = source.type
    expect(t.size < _EXACT, "tensor is too large to probe exactly")
    expect(t.dtype in ("f32", "f64", "i32", "i64"), f"cannot probe {t.dtype} tensors")
    env = {id(source): np.arange(t.size, dtype=t.np_dtype).reshape(t.shape)}
    for op in ops:
        arrays = [env[id(v)] if id(v) in env else const_of(v) for v in op.operands]
        expect(all(a is not None for a in arrays), f"{op.name} reads outside the region")
        for r, a in zip(op.results, evaluate(op, arrays)):
            env[id(r)] = a
    if id(target) not in env:
        raise NoMatch("target is not computed by the region")
    return env[id(target)].astype(np.int64)


_RESHAPES = (nn_shape.Reshape, nn_shape.Flatten, nn_shape.Squeeze, nn_shape.Unsqueeze,
             nn.Identity)


def keeps_order(op: Op) -> bool:
    """Whether `op` is a reshape in disguise: one operand, row-major element order kept."""
    if isinstance(op, _RESHAPES):
        return True
    if not isinstance(op, nn_shape.Transpose):
        return False
    shape = op.operands[0].type.shape
    moved = [p for p in op.attrs["perm"] if shape[p] != 1]
    return moved == sorted(moved)


def reshaped_from(v: Value, ctx: Ctx | None = None, m: Match | None = None) -> Value:
    """The value `v` is a pure reshape of (through reshape-like ops), or `v` itself.

    The ops walked through are added to `m.ops` when a match is given."""
    while v.owner is not None and keeps_order(v.owner):
        if m is not None and v.owner not in m.ops:
            m.ops.append(v.owner)
        v = v.owner.operands[0]
    return v
