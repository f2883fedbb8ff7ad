"""Common-subexpression elimination: ops of one type with the same operands, attributes and
result types compute the same values, so the later one's uses move to the earlier one.

One sweep in graph order suffices: operands of later ops are already rewritten to the kept
values when they are keyed, so chains of duplicates (a slice, its cast, the lookup) merge in
the same sweep. Ops are hashed by (type, operand identities, attributes, result types), so the
sweep is linear in the number of ops. Every op of the IR is a pure function of its operands
and attributes (dropout is inference-only), so merging never changes a result.

Constants merge by content up to `max_elements` elements (index and shape literals written
once per use by the exporters); larger ones (tables, weights) only when they are one value.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from ir.core import Graph, Op
from ir.dialects import nn
from passes.rewrite import Ctx

__all__ = ["cse"]


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for an attribute value; equal only for equal values."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, float):
        return ("float", value.hex())  # -0.0 and 0.0 differ; NaN equals NaN of the same bits
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return (type(value).__name__, value)


def _key(op: Op, max_elements: int) -> Hashable | None:
    """What identifies `op`'s results, or None when it must stay on its own."""
    if not op.results:
        return None
    if isinstance(op, nn.Constant) and op.attrs["value"].size > max_elements:
        return None
    attrs = tuple(sorted((k, _frozen(v)) for k, v in op.attrs.items()))
    return (type(op), tuple(id(v) for v in op.operands), attrs,
            tuple(r.type for r in op.results))


def cse(graph: Graph, max_elements: int = 1 << 16) -> bool:
    """Merge duplicate ops of `graph` into their first occurrence; True if any merged."""
    ctx = Ctx(graph)
    seen: dict[Hashable, Op] = {}
    changed = False
    for op in graph.ops:
        key = _key(op, max_elements)
        if key is None:
            continue
        first = seen.setdefault(key, op)
        if first is op:
            continue
        for old, new in zip(op.results, first.results):
            new.name = new.name or old.name
            ctx.replace_uses(old, new)
        ctx.erase(op)
        changed = True
    ctx.flush()
    return changed
