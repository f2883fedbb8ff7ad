"""Valid sample inputs for a graph: index arguments inside the tables they index, seeded.

Which argument elements are indices is found by following element ids through the data
movement ops (slice, cast, reshape, split, concat, transpose, gathers by constant indices...)
up to the index operand of a `rec.embedding_bag` or of an `nn.gather` on a constant table;
those elements get uniform integers below the smallest table they reach. Every other float
element gets |N(0, 1)|-like values (log1p of an exponential count, the usual dense-feature
transform); every other integer element 0. The same seed gives the same inputs.
"""

from __future__ import annotations

import numpy as np

from ir.core import Graph, Op, Value, detach
from ir.dialects import nn, nn_shape, rec
from ir.interp import evaluate

__all__ = ["index_limits", "sample_inputs"]

Ids = tuple[np.ndarray, np.ndarray]  # element ids, and the constant added to them since

# Ops that only move elements of their first operand (the others are indices or shapes).
_MOVES: tuple[type[Op], ...] = (
    nn.Cast, nn.Identity, nn_shape.Reshape, nn_shape.Transpose, nn_shape.Squeeze,
    nn_shape.Unsqueeze, nn_shape.Flatten, nn_shape.Slice, nn_shape.Split, nn_shape.Concat,
    nn_shape.Gather, nn_shape.Expand, nn_shape.Tile, nn_shape.GatherND, nn_shape.GatherElements,
)


def _table_rows(op: Op, v: Value) -> int | None:
    """Rows of the table `op` indexes with `v`, or None when `v` is no index operand there."""
    if isinstance(op, rec.EmbeddingBag) and op.operands[1] is v:
        return op.operands[0].type.shape[0]
    if isinstance(op, nn_shape.Gather) and op.operands[1] is v and op.operands[0] is not v:
        return op.operands[0].type.shape[op.attrs["axis"]]
    return None


def _literal(v: Value) -> np.ndarray | None:
    return v.owner.attrs["value"] if isinstance(v.owner, nn.Constant) else None


def _eval_f64(op: Op, arrays: list[np.ndarray], data: set[int]) -> list[np.ndarray]:
    if isinstance(op, nn.Cast):
        return [arrays[0]]
    fn = op.clone_with(op.operands)
    for r in fn.results:
        r.type = r.type.with_dtype("f64")
    out = evaluate(fn, [a if i in data else np.asarray(a) for i, a in enumerate(arrays)])
    detach((fn,))  # built to be evaluated: nothing holds it or its results
    return out


def _moved(op: Op, env: dict[Value, Ids]) -> list[Ids] | None:
    """Ids and shifts after a move op (or an add of a constant), when its data carries ids."""
    if isinstance(op, nn.Add):
        return _shifted(op, env)
    data = range(len(op.operands)) if isinstance(op, nn_shape.Concat) else range(1)
    if not isinstance(op, _MOVES) or not all(op.operands[i] in env for i in data):
        return None
    rest = {i: _literal(v) for i, v in enumerate(op.operands) if i not in data}
    if any(a is None for a in rest.values()):
        return None
    parts = []
    for k in (0, 1):  # the ids, then the shifts, moved alike
        arrays = [env[v][k] if i in data else rest[i] for i, v in enumerate(op.operands)]
        parts.append(_eval_f64(op, arrays, set(data)))
    return list(zip(*parts))


def _shifted(op: Op, env: dict[Value, Ids]) -> list[Ids] | None:
    a, b = op.operands
    if b in env:
        a, b = b, a
    const = _literal(b)
    if a not in env or const is None:
        return None
    ids, shift = env[a]
    shape = op.result.type.shape
    return [(np.broadcast_to(ids, shape), np.broadcast_to(shift + const, shape))]


def index_limits(graph: Graph) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per argument element: the [low, high) range that keeps every index it becomes valid
    (high 0: the element indexes nothing)."""
    env: dict[Value, Ids] = {}
    offset = 0
    for arg in graph.args:
        ids = offset + np.arange(arg.type.size, dtype=np.float64).reshape(arg.type.shape)
        env[arg] = (ids, np.zeros(arg.type.shape))
        offset += arg.type.size
    high = np.full(offset, np.inf)
    low = np.zeros(offset)
    for op in graph.ops:
        for v in op.operands:
            rows = _table_rows(op, v) if v in env else None
            if rows is not None:
                ids, shift = (a.astype(np.int64).ravel() for a in env[v])
                np.minimum.at(high, ids, rows - shift)
                np.maximum.at(low, ids, -shift)
        moved = _moved(op, env)
        if moved is not None:
            env.update(zip(op.results, moved))
    high[np.isinf(high)] = 0
    out, start = {}, 0
    for arg in graph.args:
        stop = start + arg.type.size
        out[arg.name] = (low[start:stop].reshape(arg.type.shape),
                         high[start:stop].reshape(arg.type.shape))
        start = stop
    return out


def sample_inputs(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs for every argument of `graph`, indices valid for the tables they index."""
    rng = np.random.default_rng(seed)
    feeds, limits = {}, index_limits(graph)
    for arg in graph.args:
        low, high = limits[arg.name]
        floats = np.log1p(rng.exponential(4.0, arg.type.shape))
        ids = low + np.floor(rng.random(arg.type.shape) * np.maximum(high - low, 1))
        if np.issubdtype(arg.type.np_dtype, np.integer):
            floats = np.zeros(arg.type.shape)
        value = np.where(high > 0, ids, floats)
        feeds[arg.name] = value.astype(arg.type.np_dtype)
    return feeds
