"""The converter registry and the node loop.

A leaf module: the family modules register their tables here and `control` calls
`convert_nodes` for If branches, so no family imports the package that imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import onnx

from frontend.onnx._context import Context, Node
from ir.errors import PimcError

__all__ = ["CONVERTERS", "Converter", "convert_nodes", "register"]

Converter = Callable[[Context, Node], list]
CONVERTERS: dict[str, Converter] = {}
_DEFAULT_DOMAINS = ("", "ai.onnx")


def register(table: Mapping[str, Converter]) -> Mapping[str, Converter]:
    """Add a family's converters (ONNX op type -> function); returns `table`."""
    clash = sorted(k for k in table if CONVERTERS.get(k, table[k]) is not table[k])
    if clash:
        raise ValueError(f"ONNX op type(s) {', '.join(clash)} converted twice")
    CONVERTERS.update(table)
    return table


def _converter(proto: onnx.NodeProto) -> Converter:
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
