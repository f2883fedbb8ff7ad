"""Reading the precisions a model's ONNX graph carries (torch-free).

The convention (written by `frontend.supernet.export`, readable in any exporter's output):
a quantised tensor is the chain

    q = Mul(Clamp(Round(Div(x, s)), lo, hi), s)        s: a constant scalar scale

where Clamp is `Clip(_, lo, hi)` (TorchScript exporter) or `Min(Max(_, lo), hi)` /
`Max(Min(_, hi), lo)` (dynamo exporter), and lo = -2^(b-1), hi = 2^(b-1) - 1 are constants
(initializers, Constant nodes, possibly through Cast/CastLike/Identity/Reshape). So the chain
is self-describing: bits b = log2(hi - lo + 1). A chain whose x is computed from constants
only quantises a weight; otherwise it quantises an activation. The exporters keep the chains
because quantised subnets are exported without constant folding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

__all__ = ["QuantChain", "find_chains", "quantised_values", "read_precisions"]

_PASS_CONST = ("Cast", "CastLike", "Identity", "Reshape", "Squeeze", "Unsqueeze")
# Ops between a quantised value and the operator that reads it (layout only).
_LAYOUT = ("Transpose", "Reshape", "Unsqueeze", "Squeeze", "Identity", "Cast", "Concat",
           "Slice", "Flatten", "Gather")


@dataclass(frozen=True)
class QuantChain:
    source: str   # the quantised tensor x
    output: str   # the chain's result (the Mul's output)
    bits: int
    weight: bool  # x is computed from constants only


class _Graph:
    def __init__(self, model: onnx.ModelProto) -> None:
        g = model.graph
        self.inits = {i.name: i for i in g.initializer}
        self.producer = {o: n for n in g.node for o in n.output}
        self.users: dict[str, list[onnx.NodeProto]] = {}
        for n in g.node:
            for i in n.input:
                self.users.setdefault(i, []).append(n)

    def const(self, name: str) -> np.ndarray | None:
        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type == "Constant":
            value = onnx.helper.get_attribute_value(node.attribute[0])
            return numpy_helper.to_array(value) if isinstance(value, onnx.TensorProto) \
                else np.asarray(value)
        return self.const(node.input[0]) if node.op_type in _PASS_CONST else None

    def constant_only(self, name: str, seen: set | None = None) -> bool:
        """Whether `name` is computed from initializers and Constant nodes alone."""
        if name in self.inits:
            return True
        node = self.producer.get(name)
        if node is None:
            return False
        seen = set() if seen is None else seen
        if name in seen:
            return True
        seen.add(name)
        return all(self.constant_only(i, seen) for i in node.input if i)

    def data_users(self, name: str) -> list[onnx.NodeProto]:
        """Readers of `name`, less CastLike nodes that read only its type."""
        return [n for n in self.users.get(name, [])
                if not (n.op_type == "CastLike" and n.input[0] != name)]

    def only_user(self, name: str, op_type: str) -> onnx.NodeProto | None:
        users = self.data_users(name)
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None


def _scalar(g: _Graph, name: str) -> float | None:
    v = g.const(name)
    return float(v.reshape(())) if v is not None and v.size == 1 else None


def _other(node: onnx.NodeProto, name: str) -> str:
    return node.input[1] if node.input[0] == name else node.input[0]


def _clamp(g: _Graph, name: str) -> tuple[float, float, str] | None:
    """(lo, hi, output) of the clamp that reads `name`: Clip, or Max then Min (either order)."""
    users = g.data_users(name)
    if len(users) != 1:
        return None
    first = users[0]
    if first.op_type == "Clip" and len(first.input) == 3:
        lo, hi = _scalar(g, first.input[1]), _scalar(g, first.input[2])
        return None if lo is None or hi is None else (lo, hi, first.output[0])
    if first.op_type not in ("Max", "Min"):
        return None
    second = g.only_user(first.output[0], "Min" if first.op_type == "Max" else "Max")
    if second is None:
        return None
    a, b = _scalar(g, _other(first, name)), _scalar(g, _other(second, first.output[0]))
    if a is None or b is None:
        return None
    lo, hi = (a, b) if first.op_type == "Max" else (b, a)
    return lo, hi, second.output[0]


def _chain(g: _Graph, rnd: onnx.NodeProto) -> QuantChain | None:
    div = g.producer.get(rnd.input[0])
    if div is None or div.op_type != "Div":
        return None
    clamp = _clamp(g, rnd.output[0])
    if clamp is None:
        return None
    lo, hi, out = clamp
    mul = g.only_user(out, "Mul")
    levels = hi - lo + 1
    if mul is None or div.input[1] not in mul.input or levels < 2:
        return None
    bits = math.log2(levels)
    if bits != int(bits) or lo != -(levels // 2):
        return None
    return QuantChain(div.input[0], mul.output[0], int(bits), g.constant_only(div.input[0]))


def find_chains(model: onnx.ModelProto) -> list[QuantChain]:
    """Every fake-quantisation chain of the convention, in graph order."""
    g = _Graph(model)
    found = (_chain(g, n) for n in model.graph.node if n.op_type == "Round")
    return [c for c in found if c is not None]


def quantised_values(model: onnx.ModelProto) -> dict[str, int]:
    """ONNX value name (a chain's output) -> its precision in bits."""
    return {c.output: c.bits for c in find_chains(model)}


def _readers(g: _Graph, name: str) -> list[onnx.NodeProto]:
    """The compute nodes that read `name`, looking through layout-only ops."""
    out, todo, seen = [], [name], set()
    while todo:
        v = todo.pop()
        for n in g.users.get(v, []):
            if id(n) in seen:
                continue
            seen.add(id(n))
            if n.op_type in _LAYOUT:
                todo.extend(n.output)
            elif n.op_type not in ("Shape", "Size"):
                out.append(n)
    return out


def read_precisions(model: onnx.ModelProto) -> dict[str, tuple[int | None, int | None]]:
    """Compute node (its name, or its first output when unnamed) -> (weight bits,
    activation bits) from the quantised values it reads; None where it reads none."""
    g = _Graph(model)
    result: dict[str, tuple[int | None, int | None]] = {}
    for c in find_chains(model):
        for node in _readers(g, c.output):
            key = node.name or node.output[0]
            w, a = result.get(key, (None, None))
            result[key] = (c.bits, a) if c.weight else (w, c.bits)
    return result
