"""canonicalize: fold constants and static shapes, drop no-ops and dead code, to a fixed point.

Folding evaluates an op whose operands are all `nn.constant` results with the reference
interpreter and replaces it by constants that keep the results' `bits`; `nn.shape` and
`nn.size` fold from the static types of their operand. Results larger than
`max_fold_elements` are left unfolded, so a huge weight is not copied into a second huge
literal for nothing. No-ops (identity, dropout, casts to the same type, identity reshapes
and transposes, ...) forward their operand; chains of reshapes and of transposes collapse
(see `passes.rules.noops`). Duplicate ops (same type, operands, attributes and result types)
merge into their first occurrence (`passes._cse`), so one lookup serves every use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ir.core import Graph, Module, Op, Value
from ir.dialects import nn, nn_shape
from ir.errors import PimcError
from ir.interp import evaluate, has_semantics
from passes._cse import cse
from passes._gc_pause import gc_paused
from passes.base import Pass
from passes.rewrite import Ctx, const_of, dce, new_const
from passes.rules.noops import COLLAPSE, FORWARD

__all__ = ["Canonicalize"]


def _static_shape(op: Op) -> list[np.ndarray]:
    shape = op.operands[0].type.shape
    return [np.array(shape[op.attrs["start"]:op.attrs.get("end", len(shape))], np.int64)]


def _static_size(op: Op) -> list[np.ndarray]:
    return [np.array(op.operands[0].type.size, np.int64)]


# Ops that fold from their operands' types alone, whatever the operands are.
_FROM_TYPES = {nn_shape.Shape: _static_shape, nn_shape.Size: _static_size}


def _folded(op: Op, limit: int) -> list[np.ndarray] | None:
    """The constant results of `op`, or None when it should not (or cannot) be folded."""
    if isinstance(op, nn.Constant):
        return None
    if type(op) in _FROM_TYPES:
        return _FROM_TYPES[type(op)](op)
    if not op.operands or any(r.type.size > limit for r in op.results):
        return None
    arrays = [const_of(v) for v in op.operands]
    if any(a is None for a in arrays) or not has_semantics(op):
        return None
    try:
        return evaluate(op, arrays)
    except PimcError as exc:
        raise PimcError(f"folding {op.name} with constant operands failed: {exc}") from None


def _fold(ctx: Ctx, limit: int) -> bool:
    changed = False
    for op in list(ctx.graph.ops):
        arrays = _folded(op, limit)
        if arrays is None:
            continue
        consts = [new_const(a, r.type.bits) for a, r in zip(arrays, op.results)]
        ctx.insert_before(op, consts)
        for old, c in zip(op.results, consts):
            c.result.name = old.name
            ctx.replace_uses(old, c.result)
        ctx.erase(op)
        changed = True
    ctx.flush()
    return changed


def _replace(ctx: Ctx, op: Op, new: Value, *ops: Op) -> None:
    ctx.insert_before(op, list(ops))
    if new.name is None:
        new.name = op.results[0].name
    ctx.replace_uses(op.results[0], new)
    ctx.erase(op)


def _simplify_one(ctx: Ctx, op: Op) -> bool:
    forward = FORWARD.get(type(op))
    target = forward(op) if forward is not None else None
    if target is not None and target.type.same_data(op.results[0].type):
        _replace(ctx, op, target)
        return True
    collapse = COLLAPSE.get(type(op))
    new = collapse(op) if collapse is not None else None
    if new is not None:
        new.meta.update(op.meta)
        _replace(ctx, op, new.results[0], new)
        return True
    return False


def _simplify(ctx: Ctx) -> bool:
    changed = False
    for op in list(ctx.graph.ops):
        changed |= _simplify_one(ctx, op)
    ctx.flush()
    return changed


@dataclass(frozen=True)
class Canonicalize(Pass):
    """Fold constants and static shapes, remove no-ops, duplicates and dead code, until
    nothing changes."""

    name: ClassVar[str] = "canonicalize"
    max_fold_elements: int = 1 << 20
    max_iterations: int = 64

    def apply(self, module: Module) -> bool:
        changed = False
        with gc_paused():  # every rewrite allocates; a collection would walk the whole module
            for graph in module.graphs:
                changed |= self._graph(graph)
        return changed

    def _graph(self, graph: Graph) -> bool:
        changed = False
        for _ in range(self.max_iterations):
            ctx = Ctx(graph)  # edits go through its use lists; each sweep flushes once
            step = _fold(ctx, self.max_fold_elements)
            step |= _simplify(ctx)
            step |= cse(graph)
            step |= dce(graph)
            if not step:
                break
            changed = True
        return changed
