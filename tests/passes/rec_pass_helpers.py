"""A tiny IR builder and the before/after equivalence check the pass tests share."""

from __future__ import annotations

import numpy as np

from ir.core import Graph, Module, Value
from ir.dialects import lookup
from ir.interp import run
from ir.types import TensorType
from ir.verify import verify


class Builder:
    """Build one graph op by op: `b.op("nn.matmul", x, w)` returns the result value(s)."""

    def __init__(self) -> None:
        self.graph = Graph("main")

    def arg(self, name: str, shape: tuple[int, ...], dtype: str = "f32") -> Value:
        v = Value(TensorType(shape, dtype), name=name)
        self.graph.args.append(v)
        return v

    def const(self, array) -> Value:
        return self.op("nn.constant", value=np.asarray(array))

    def op(self, name: str, *operands: Value, **attrs):
        op = lookup(name)(list(operands), attrs)
        self.graph.append(op)
        return op.results[0] if len(op.results) == 1 else op.results

    def module(self, *outputs: Value) -> Module:
        self.graph.outputs = list(outputs)
        self.graph.output_names = [f"out{i}" for i in range(len(outputs))]
        m = Module("m", [self.graph])
        verify(m)
        return m


def random_inputs(module: Module, seed: int = 0, high: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feed = {}
    for a in module.main.args:
        if a.type.dtype.startswith("i"):
            feed[a.name] = rng.integers(0, high, a.type.shape).astype(a.type.np_dtype)
        else:
            feed[a.name] = rng.standard_normal(a.type.shape).astype(a.type.np_dtype)
    return feed


def op_names(module: Module) -> list[str]:
    return [o.name for o in module.main.ops]


def assert_equivalent(module: Module, transform, seed: int = 0, high: int = 2) -> bool:
    """Run `transform(module)`; the interpreter gives the same outputs before and after."""
    feed = random_inputs(module, seed, high)
    before = run(module.main, feed)
    changed = transform(module)
    verify(module)
    after = run(module.main, feed)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    return changed
