"""Shape-like inputs that must be constants at import time, and why one is not.

Every symbolic dimension is bound before the first node is converted (the importer refuses
an unbound one), so shape sub-graphs always fold: an input that does not fold depends on the
*values* of graph inputs. The errors name those inputs instead of suggesting `--batch`.
"""

from __future__ import annotations

import numpy as np

from frontend.onnx._context import Context, Node
from ir.core import Value
from ir.dialects import nn_shape
from ir.errors import PimcError

__all__ = ["data_sources", "need", "ints"]

_TYPE_ONLY = (nn_shape.Shape, nn_shape.Size)  # they read their operand's type, not its values


def data_sources(ctx: Context, v: Value) -> list[str]:
    """The graph inputs whose values `v` is computed from, in argument order."""
    args = set(ctx.graph.args)
    seen, stack, found = set(), [v], set()
    while stack:
        u = stack.pop()
        if u in seen:
            continue
        seen.add(u)
        if u in args:
            found.add(u)
        elif u.owner is not None and not isinstance(u.owner, _TYPE_ONLY):
            stack.extend(u.owner.operands)
    return [a.name for a in ctx.graph.args if a in found]


def not_constant(ctx: Context, node: Node, i: int, what: str) -> PimcError:
    """The error for input `i` of `node` (the `what`) that does not fold to a constant."""
    name = node.proto.input[i] if i < len(node.proto.input) else "?"
    v = node.input(i)
    sources = data_sources(ctx, v) if isinstance(v, Value) else []
    head = f"input {i} ('{name}', the {what}) is not a constant at import time"
    accepted = "accepted: values computed from initializers and shapes only"
    if not sources:
        return PimcError(f"{head}; {accepted}", node.where())
    listed = ", ".join(f"'{s}'" for s in sources)
    return PimcError(f"{head}: it depends on the values of graph input(s) {listed}, not only "
                     f"on their shapes; {accepted}", node.where())


def need(ctx: Context, node: Node, i: int, what: str) -> np.ndarray:
    """The constant value of input `i` of `node`, or a PimcError saying why it is not one."""
    value = ctx.const(node.input(i))
    if value is None:
        raise not_constant(ctx, node, i, what)
    return value


def ints(ctx: Context, node: Node, i: int, what: str, attr: str | None = None
         ) -> list[int] | None:
    """A shape-like operand: the attribute `attr` (older opsets) or constant input `i`."""
    if attr is not None and attr in node.attrs:
        return [int(x) for x in node.attrs[attr]]
    if node.input(i) is None:
        return None
    return [int(x) for x in np.asarray(need(ctx, node, i, what)).reshape(-1)]
