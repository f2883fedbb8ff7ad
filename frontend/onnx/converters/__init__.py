"""The converter table: one function per ONNX op type, grouped by family in this package.

A converter takes the import context and a `Node` (inputs resolved to IR values) and returns
the IR values of the node's outputs, in order.
"""

from __future__ import annotations

from collections.abc import Iterable

import onnx

from frontend.onnx._context import Context
from frontend.onnx.converters import control, elementwise, reduce, shape, tensor
from ir.errors import PimcError

__all__ = ["CONVERTERS", "convert_nodes"]

CONVERTERS = {
    **elementwise.CONVERTERS, **reduce.CONVERTERS, **shape.CONVERTERS,
    **tensor.CONVERTERS, **control.CONVERTERS,
}
_DEFAULT_DOMAINS = ("", "ai.onnx")


def _converter(proto: onnx.NodeProto):
    fn = CONVERTERS.get(proto.op_type) if proto.domain in _DEFAULT_DOMAINS else None
    if fn is None:
        op = proto.op_type if proto.domain in _DEFAULT_DOMAINS else \
            f"{proto.domain}.{proto.op_type}"
        raise PimcError(f"unsupported ONNX op '{op}' (node '{proto.name or proto.output[0]}'); "
                        f"supported: {', '.join(sorted(CONVERTERS))}")
    return fn


def convert_nodes(ctx: Context, nodes: Iterable[onnx.NodeProto]) -> None:
    """Convert `nodes` in order, binding their outputs in `ctx`."""
    for proto in nodes:
        fn = _converter(proto)
        node = ctx.node(proto)
        ctx.source = node.name
        try:
            outs = fn(ctx, node)
        except PimcError as exc:
            if exc.where is not None:
                raise
            raise PimcError(exc.message, node.where()) from None
        ctx.bind(proto.output, outs)
    ctx.source = None
