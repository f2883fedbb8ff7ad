"""The numpy reference interpreter: the meaning of every op of every dialect.

Semantics are functions registered per op class (`@semantics(nn.Gemm)`), taking the op and
its operand arrays and returning the result arrays (a list, or one array for one result).
They live beside this file, one module per dialect, loaded on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ir.core import Graph, Op, Value
from ir.errors import PimcError

__all__ = ["evaluate", "run", "semantics", "has_semantics"]

# dialect prefix -> the modules that hold its semantics, imported on first use
_MODULES = {"nn": ("ir.interp.nn", "ir.interp.nn_move", "ir.interp.nn_seq"),
            "rec": ("ir.interp.rec",), "pim": ("ir.interp.pim",)}
_IMPLS: dict[type[Op], Callable] = {}


def semantics(*op_types: type[Op]) -> Callable:
    """Decorator: register `fn(op, *arrays)` as the meaning of the given op classes."""

    def wrap(fn: Callable) -> Callable:
        for t in op_types:
            _IMPLS[t] = fn
        return fn

    return wrap


def _impl(op: Op) -> Callable | None:
    t = type(op)
    if t not in _IMPLS:
        for module in _MODULES.get(op.name.split(".", 1)[0], ()):
            importlib.import_module(module)
    for klass in t.__mro__:
        if klass in _IMPLS:
            return _IMPLS[klass]
    return None


def has_semantics(op: Op) -> bool:
    return _impl(op) is not None


def evaluate(op: Op, arrays: Sequence[np.ndarray], cast: bool = True) -> list[np.ndarray]:
    """Run one op on concrete operand arrays; results are cast to the op's result types
    (`cast` False: only their shapes are held to the types, for arrays that are not the op's
    values, such as the error bounds the same op moves: ``passes.error_bound``)."""
    fn = _impl(op)
    if fn is None:
        raise PimcError(f"{op.name} has no reference semantics")
    out = fn(op, *arrays)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if len(outs) != len(op.results):
        raise PimcError(f"{op.name}: semantics gave {len(outs)} results, "
                        f"expected {len(op.results)}")
    return [_conform(op, r, a, cast) for r, a in zip(op.results, outs)]


def _conform(op: Op, result: Value, array: np.ndarray, cast: bool = True) -> np.ndarray:
    array = np.asarray(array)
    t = result.type
    if array.shape != t.shape:
        raise PimcError(f"{op.name}: semantics gave shape {list(array.shape)}, "
                        f"type says {list(t.shape)}")
    return array.astype(t.np_dtype, copy=False) if cast else array


def _bind_inputs(graph: Graph, inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray]
                 ) -> dict[Value, np.ndarray]:
    if isinstance(inputs, Mapping):
        missing = [a.name for a in graph.args if a.name not in inputs]
        if missing:
            raise PimcError(f"missing input(s) {', '.join(missing)}; graph @{graph.name} takes "
                            + ", ".join(f"{a.name}: {a.type}" for a in graph.args))
        arrays = [inputs[a.name] for a in graph.args]
    else:
        arrays = list(inputs)
    env = {}
    for arg, array in zip(graph.args, arrays, strict=True):
        array = np.asarray(array)
        if array.shape != arg.type.shape:
            raise PimcError(f"input {arg.name}: shape {list(array.shape)}, graph expects "
                            f"{arg.type}")
        env[arg] = array.astype(arg.type.np_dtype, copy=False)
    return env


def run(graph: Graph, inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
        observe: Callable[[Op, list[np.ndarray]], None] | None = None) -> list[np.ndarray]:
    """Interpret `graph` on `inputs` (by argument name or position); returns its outputs."""
    env = _bind_inputs(graph, inputs)
    last_use = {v: i for i, op in enumerate(graph.ops) for v in op.operands}
    keep = set(graph.outputs)
    for i, op in enumerate(graph.ops):
        outs = evaluate(op, [env[v] for v in op.operands])
        if observe is not None:
            observe(op, outs)
        env.update(zip(op.results, outs))
        for v in op.operands:  # free what no later op reads
            if last_use.get(v) == i and v not in keep:
                env.pop(v, None)
    return [env[v] for v in graph.outputs]
