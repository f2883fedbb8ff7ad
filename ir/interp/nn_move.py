"""Reference semantics of the data-movement `nn` ops: reshapes, slices, gathers, scatters."""

from __future__ import annotations

import numpy as np

from ir.dialects import nn_index, nn_shape
from ir.interp import semantics

# -- data movement ------------------------------------------------------------------------
_MOVE = {
    nn_shape.Reshape: lambda op, x: x.reshape(op.attrs["shape"]),
    nn_shape.Transpose: lambda op, x: np.transpose(x, op.attrs["perm"]),
    nn_shape.Squeeze: lambda op, x: np.squeeze(x, axis=tuple(op.attrs["axes"])),
    nn_shape.Unsqueeze: lambda op, x: x.reshape(op.results[0].type.shape),
    nn_shape.Flatten: lambda op, x: x.reshape(op.results[0].type.shape),
    nn_shape.Expand: lambda op, x: np.broadcast_to(x, op.results[0].type.shape).copy(),
    nn_shape.Tile: lambda op, x: np.tile(x, op.attrs["repeats"]),
    nn_shape.Trilu: lambda op, x: (np.triu if op.attrs["upper"] else np.tril)(x, op.attrs["k"]),
    nn_shape.Shape: lambda op, x: np.array(x.shape[op.attrs["start"]:op.attrs.get("end")],
                                           dtype=np.int64),
    nn_shape.Size: lambda op, x: np.array(x.size, dtype=np.int64),
}


@semantics(*_MOVE)
def _move(op, x):
    return _MOVE[type(op)](op, x)


@semantics(nn_shape.Slice)
def _slice(op, x):
    starts, ends = op.attrs["starts"], op.attrs["ends"]
    axes = op.attrs.get("axes") or range(len(starts))
    steps = op.attrs.get("steps") or (1,) * len(starts)
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[a % x.ndim] = slice(s, e, st)  # Python clamps exactly as ONNX does
    return x[tuple(index)]


@semantics(nn_shape.Pad)
def _pad(op, x):
    rank, pads = x.ndim, op.attrs["pads"]
    crop = tuple(slice(max(-pads[i], 0), x.shape[i] - max(-pads[i + rank], 0))
                 for i in range(rank))
    width = [(max(pads[i], 0), max(pads[i + rank], 0)) for i in range(rank)]
    mode = op.attrs["mode"]
    if mode == "constant":
        return np.pad(x[crop], width, constant_values=x.dtype.type(op.attrs["value"]))
    return np.pad(x[crop], width, mode=mode)


@semantics(nn_shape.Concat)
def _concat(op, *xs):
    return np.concatenate(xs, axis=op.attrs["axis"])


@semantics(nn_shape.Split)
def _split(op, x):
    cuts = np.cumsum(op.attrs["sizes"])[:-1]
    return [p.copy() for p in np.split(x, cuts, axis=op.attrs["axis"])]


@semantics(nn_index.Gather)
def _gather(op, x, idx):
    return np.take(x, idx, axis=op.attrs["axis"])


@semantics(nn_index.GatherElements)
def _gather_elements(op, x, idx):
    axis = op.attrs["axis"] % x.ndim
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    return np.take_along_axis(x, idx, axis=axis)


@semantics(nn_index.GatherND)
def _gather_nd(op, x, idx):
    b = op.attrs["batch_dims"]
    batch = x.shape[:b]
    xf = x.reshape((-1,) + x.shape[b:])
    idf = idx.reshape((-1,) + idx.shape[b:])
    k = idx.shape[-1]
    coords = np.where(idf < 0, idf + np.array(x.shape[b:b + k]), idf)
    out = [xf[i][tuple(np.moveaxis(coords[i], -1, 0))] for i in range(xf.shape[0])]
    return np.stack(out).reshape(batch + idx.shape[b:-1] + x.shape[b + k:])


@semantics(nn_shape.TopK)
def _topk(op, x):
    axis, k = op.attrs["axis"] % x.ndim, op.attrs["k"]
    if op.attrs["largest"]:  # descending; ties keep the lower index first, as ORT does
        flipped = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
        order = x.shape[axis] - 1 - np.flip(flipped, axis)
    else:
        order = np.argsort(x, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis)
    return [np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)]


# ONNX's scatter reductions; "none" overwrites (ONNX leaves duplicate indices undefined there)
_SCATTER = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def _scatter(op, x, where, updates):
    out = x.copy()
    reduction = op.attrs["reduction"]
    if reduction == "none":
        out[where] = updates
    else:
        _SCATTER[reduction].at(out, where, updates)
    return out


@semantics(nn_index.ScatterElements)
def _scatter_elements(op, x, idx, updates):
    axis = op.attrs["axis"] % x.ndim
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    return _scatter(op, x, tuple(grid), updates)


@semantics(nn_index.ScatterND)
def _scatter_nd(op, x, idx, updates):
    k = idx.shape[-1]
    flat = idx.reshape(-1, k)
    flat = np.where(flat < 0, flat + np.array(x.shape[:k]), flat)
    rows = updates.reshape((flat.shape[0],) + x.shape[k:])
    return _scatter(op, x, tuple(flat.T), rows)
