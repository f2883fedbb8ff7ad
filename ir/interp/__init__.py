"""The numpy reference interpreter: the meaning of every op of every dialect.

Semantics are functions registered per op class (`@semantics(nn.Gemm)`), taking the op and
its operand arrays and returning the result arrays (a list, or one array for one result).
They live beside this file, one module per dialect, loaded on first use. A dialect may also
say which ops of a graph `run` works out together (`@together`: the crossbar tiles of a row
block, ``pim.py``), giving each the results its semantics give it alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ir.core import Graph, Op, Value
from ir.errors import PimcError

__all__ = ["evaluate", "run", "semantics", "has_semantics", "together"]

# dialect prefix -> the modules that hold its semantics, imported on first use
_MODULES = {"nn": ("ir.interp.nn", "ir.interp.nn_move", "ir.interp.nn_seq"),
            "rec": ("ir.interp.rec",), "pim": ("ir.interp.pim",)}
_IMPLS: dict[type[Op], Callable] = {}
# op class -> fn(graph) -> {id(op): fn(op, arrays) -> results}: ops of the graph its dialect
# evaluates together with others of it (`together`); each gives what `evaluate` would
_TOGETHER: dict[type[Op], Callable] = {}


def semantics(*op_types: type[Op]) -> Callable:
    """Decorator: register `fn(op, *arrays)` as the meaning of the given op classes."""

    def wrap(fn: Callable) -> Callable:
        for t in op_types:
            _IMPLS[t] = fn
        return fn

    return wrap


def together(*op_types: type[Op]) -> Callable:
    """Decorator: register `plan(graph)` for the given op classes, which returns, for ops of
    `graph` that are worked out faster together than one by one, by id, a function
    `(op, arrays) -> results` giving exactly what `evaluate(op, arrays)` gives."""

    def wrap(fn: Callable) -> Callable:
        for t in op_types:
            _TOGETHER[t] = fn
        return fn

    return wrap


def _load(op: Op) -> None:
    """Import the semantics of `op`'s dialect (they register themselves)."""
    for module in _MODULES.get(op.name.split(".", 1)[0], ()):
        importlib.import_module(module)


def _impl(op: Op) -> Callable | None:
    t = type(op)
    if t not in _IMPLS:
        _load(op)
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


def _together(graph: Graph) -> dict[int, Callable]:
    """What the dialects of `graph`'s ops evaluate together (`together`), by op id."""
    first: dict[type[Op], Op] = {}
    for op in graph.ops:
        first.setdefault(type(op), op)
    for op in first.values():
        if type(op) not in _IMPLS:
            _load(op)
    out: dict[int, Callable] = {}
    for plan in {_TOGETHER[t] for t in first if t in _TOGETHER}:
        out.update(plan(graph))
    return out


def run(graph: Graph, inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
        observe: Callable[[Op, list[np.ndarray]], None] | None = None) -> list[np.ndarray]:
    """Interpret `graph` on `inputs` (by argument name or position); returns its outputs."""
    env = _bind_inputs(graph, inputs)
    last_use = {v: i for i, op in enumerate(graph.ops) for v in op.operands}
    keep = set(graph.outputs)
    together = _together(graph)
    for i, op in enumerate(graph.ops):
        arrays = [env[v] for v in op.operands]
        joint = together.get(id(op))
        outs = evaluate(op, arrays) if joint is None else joint(op, arrays)
        if observe is not None:
            observe(op, outs)
        env.update(zip(op.results, outs))
        for v in op.operands:  # free what no later op reads
            if last_use.get(v) == i and v not in keep:
                env.pop(v, None)
    return [env[v] for v in graph.outputs]
