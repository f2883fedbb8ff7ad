"""Converters of control flow and sequences: embedding-bag Loops, static Ifs, sequences.

Sequences exist only at import time (a `Seq` of IR values); none survives into the IR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from onnx import numpy_helper

from frontend.onnx._context import Context, Node
from frontend.onnx._embedding_bag import NotABag, match_loop
from frontend.onnx.converters._registry import convert_nodes, register
from ir.core import Value
from ir.dialects import nn_shape
from ir.errors import PimcError


@dataclass
class Seq:
    """An ONNX tensor sequence known at import time."""

    items: list[Value] = field(default_factory=list)


def _loop(ctx: Context, node: Node):
    try:
        return match_loop(ctx, node, Seq)
    except NotABag as exc:
        raise PimcError(f"Loop is not an embedding-bag loop: {exc}; pimc imports only the "
                        "torch exporters' nn.EmbeddingBag loops", node.where()) from None


def _if(ctx: Context, node: Node):
    cond = ctx.const(node.inputs[0])
    if cond is None:
        raise PimcError("If condition is not a constant after folding; accepted: an If "
                        "whose condition folds (static shapes)", node.where())
    branch = node.attrs["then_branch" if bool(np.asarray(cond).reshape(())) else
                        "else_branch"]
    for init in branch.initializer:
        ctx.values[init.name] = ctx.constant(numpy_helper.to_array(init), init.name)
    convert_nodes(ctx, branch.node)
    return [ctx.lookup(o.name, node.where()) for o in branch.output]


def _seq(ctx: Context, node: Node, i: int = 0) -> Seq:
    s = node.input(i)
    if not isinstance(s, Seq):
        raise PimcError(f"input {i} is not a sequence known at import time", node.where())
    return s


def _sequence_empty(ctx: Context, node: Node):
    return [Seq()]


def _sequence_construct(ctx: Context, node: Node):
    return [Seq(list(node.inputs))]


def _sequence_insert(ctx: Context, node: Node):
    if node.input(2) is not None:
        raise PimcError("SequenceInsert at a position is not supported; accepted: append",
                        node.where())
    return [Seq(_seq(ctx, node).items + [node.inputs[1]])]


def _concat_from_sequence(ctx: Context, node: Node):
    items = _seq(ctx, node).items
    axis = node.attrs["axis"]
    if not items:
        raise PimcError("ConcatFromSequence of an empty sequence", node.where())
    if node.attrs.get("new_axis", 0):
        items = [ctx.emit1(nn_shape.Unsqueeze, [v], axes=[axis]) for v in items]
    if len(items) == 1:
        return items
    return ctx.emit(nn_shape.Concat, items, axis=axis)


CONVERTERS = register({
    "Loop": _loop, "If": _if, "SequenceEmpty": _sequence_empty,
    "SequenceConstruct": _sequence_construct, "SequenceInsert": _sequence_insert,
    "ConcatFromSequence": _concat_from_sequence,
})
