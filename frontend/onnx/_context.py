"""The import context: ONNX names to IR values, op emission with folding, and constants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

from frontend.onnx._external import tensor_array
from ir.core import Graph, Op, Value, detach
from ir.dialects import nn, nn_shape
from ir.errors import PimcError
from ir.interp import evaluate
from ir.types import TensorType

__all__ = ["CONST_LIMIT", "Context", "Node", "FOLD_LIMIT", "onnx_dtype"]

FOLD_LIMIT = 64  # a constant float expression at most this large is folded during import
CONST_LIMIT = 1 << 20  # elements of any constant computed at import time (integer ones too)
_DTYPES = {
    onnx.TensorProto.FLOAT: "f32", onnx.TensorProto.FLOAT16: "f16",
    onnx.TensorProto.DOUBLE: "f64", onnx.TensorProto.INT8: "i8",
    onnx.TensorProto.INT16: "i16", onnx.TensorProto.INT32: "i32",
    onnx.TensorProto.INT64: "i64", onnx.TensorProto.UINT8: "u8",
    onnx.TensorProto.BOOL: "bool",
}
_TYPE_ONLY = (nn_shape.Shape, nn_shape.Size)  # ops whose result needs only the operand's type


def onnx_dtype(code: int, where: str) -> str:
    """The IR element type of an ONNX TensorProto data type."""
    if code not in _DTYPES:
        name = onnx.TensorProto.DataType.Name(code) if code else "undefined"
        accepted = ", ".join(onnx.TensorProto.DataType.Name(c) for c in _DTYPES)
        raise PimcError(f"element type {name} is not supported; accepted: {accepted}", where)
    return _DTYPES[code]


def _attr_value(attr: onnx.AttributeProto) -> Any:
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, onnx.TensorProto):
        return tensor_array(value, f"attribute '{attr.name}'")
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode() for v in value]
    return value


@dataclass
class Node:
    """One ONNX node with its inputs resolved to IR values (None for an absent input)."""

    proto: onnx.NodeProto
    inputs: list[Any]
    attrs: dict[str, Any] = field(default_factory=dict)
    opset: int = 13

    @property
    def name(self) -> str:
        return self.proto.name or (self.proto.output[0] if self.proto.output else "?")

    @property
    def op_type(self) -> str:
        return self.proto.op_type

    def input(self, i: int) -> Any:
        return self.inputs[i] if i < len(self.inputs) else None

    def where(self) -> str:
        return f"{self.op_type} node '{self.name}'"


class Context:
    """Maps ONNX value names to IR values and builds the graph, folding constants."""

    def __init__(self, graph: Graph, opset: int, fold: bool = True) -> None:
        self.graph = graph
        self.opset = opset
        self.fold = fold
        self.values: dict[str, Any] = {}
        self.consts: dict[Value, np.ndarray] = {}
        self.dynamic: set[Value] = set()
        self.source: str | None = None
        # ONNX value name -> precision of the fake-quantisation chain it is the output of
        self.bits: dict[str, int] = {}

    # -- values -------------------------------------------------------------------------
    def lookup(self, name: str, where: str) -> Any:
        if not name:
            return None
        try:
            return self.values[name]
        except KeyError:
            raise PimcError(f"value '{name}' is used before it is defined", where) from None

    def node(self, proto: onnx.NodeProto) -> Node:
        where = f"{proto.op_type} node '{proto.name or proto.output[0]}'"
        inputs = [self.lookup(n, where) for n in proto.input]
        attrs = {a.name: _attr_value(a) for a in proto.attribute}
        return Node(proto, inputs, attrs, self.opset)

    def bind(self, names: Sequence[str], values: Sequence[Any]) -> None:
        for name, v in zip(names, values):
            if not name:
                continue
            if name in self.bits and isinstance(v, Value):  # before any reader is built
                v.type = v.type.with_bits(self.bits[name])
            self.values[name] = v

    def argument(self, type: TensorType, name: str) -> Value:
        v = Value(type, name=name)
        self.dynamic.add(v)
        self.graph.args.append(v)
        return v

    # -- emission -----------------------------------------------------------------------
    def constant(self, array: np.ndarray, name: str | None = None,
                 bits: int | None = None) -> Value:
        """An nn.constant op holding `array` (stored in `bits` when given)."""
        array = np.asarray(array)
        op = nn.Constant((), {"value": array})
        op.result.name = name
        op.result.type = op.result.type.with_bits(bits)
        self._append(op)
        self.consts[op.result] = op.attrs["value"]
        return op.result

    def emit(self, cls: type[Op], operands: Sequence[Value], **attrs: Any) -> list[Value]:
        """Build `cls` on `operands`; fold it to constants when all operands are constant."""
        op = cls(list(operands), attrs)
        if self.fold and self._foldable(op):
            arrays = evaluate(op, [self.consts[v] for v in op.operands])
            out = [self.constant(a, bits=r.type.bits) for a, r in zip(arrays, op.results)]
            detach((op,))  # built to be folded: nothing holds it or its results
            return out
        self._append(op)
        if not isinstance(op, _TYPE_ONLY) and any(v in self.dynamic for v in op.operands):
            self.dynamic.update(op.results)
        return op.results

    def emit1(self, cls: type[Op], operands: Sequence[Value], **attrs: Any) -> Value:
        return self.emit(cls, operands, **attrs)[0]

    def _foldable(self, op: Op) -> bool:
        if not all(v in self.consts for v in op.operands):
            return False
        return all(r.type.size <= (CONST_LIMIT if r.type.dtype[0] in "iub" else FOLD_LIMIT)
                   for r in op.results)

    def _append(self, op: Op) -> None:
        if self.source is not None:
            op.meta["source"] = self.source
        self.graph.ops.append(op)

    # -- constants ----------------------------------------------------------------------
    def const(self, v: Any) -> np.ndarray | None:
        """The value of `v` when it is computable at import time (None otherwise)."""
        if not isinstance(v, Value) or v in self.dynamic:
            return self.consts.get(v) if isinstance(v, Value) else None
        if v in self.consts:
            return self.consts[v]
        op = v.owner
        if op is None or any(r.type.size > CONST_LIMIT for r in op.results):
            return None  # an absurd declared shape is never materialised at import time
        if isinstance(op, _TYPE_ONLY):
            t = op.operands[0].type
            arrays = [np.broadcast_to(np.zeros((), t.np_dtype), t.shape)]
        else:
            arrays = [self.const(u) for u in op.operands]
            if any(a is None for a in arrays):
                return None
        self.consts.update(zip(op.results, evaluate(op, arrays)))
        return self.consts[v]

    def need(self, node: Node, i: int, what: str) -> np.ndarray:
        """The constant value of input `i` of `node`, or a PimcError naming it."""
        value = self.const(node.input(i))
        if value is None:
            name = node.proto.input[i] if i < len(node.proto.input) else "?"
            raise PimcError(f"input {i} ('{name}', the {what}) is not a constant after "
                            "folding shape sub-graphs; bind symbolic dimensions with "
                            "--batch N or --dim NAME=N", node.where())
        return value

    def ints(self, node: Node, i: int, what: str, attr: str | None = None) -> list[int] | None:
        """A shape-like operand: the attribute `attr` (older opsets) or constant input `i`."""
        if attr is not None and attr in node.attrs:
            return [int(x) for x in node.attrs[attr]]
        if node.input(i) is None:
            return None
        return [int(x) for x in np.asarray(self.need(node, i, what)).reshape(-1)]
