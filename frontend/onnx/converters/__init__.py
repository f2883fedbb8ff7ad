"""The converter table: one function per ONNX op type, grouped by family in this package.

A converter takes the import context and a `Node` (inputs resolved to IR values) and returns
the IR values of the node's outputs, in order. Each family module registers its table in
`_registry` when imported; importing this package imports every family.
"""

from __future__ import annotations

from frontend.onnx.converters import (  # noqa: F401  (each registers its converters)
    control,
    elementwise,
    recurrent,
    reduce,
    shape,
    tensor,
)
from frontend.onnx.converters._registry import CONVERTERS, convert_nodes

__all__ = ["CONVERTERS", "convert_nodes"]
