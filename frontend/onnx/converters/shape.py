"""Converters of the data-movement ONNX ops; their shape-like inputs become attributes."""

from __future__ import annotations

import numpy as np

from frontend.onnx._context import Context, Node
from frontend.onnx.converters._const import ints, need
from frontend.onnx.converters._registry import register
from ir.dialects import nn_shape
from ir.errors import PimcError


def _reshape(ctx: Context, node: Node):
    x = node.inputs[0]
    shape = ints(ctx, node, 1, "target shape")
    if not node.attrs.get("allowzero", 0):
        shape = [x.type.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    if shape.count(-1) == 1:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        shape[shape.index(-1)] = x.type.size // known if known else 0
    return ctx.emit(nn_shape.Reshape, [x], shape=shape)


def _flatten(ctx: Context, node: Node):
    return ctx.emit(nn_shape.Flatten, node.inputs[:1], axis=node.attrs.get("axis", 1))


def _transpose(ctx: Context, node: Node):
    x = node.inputs[0]
    perm = node.attrs.get("perm", list(range(x.type.rank))[::-1])
    return ctx.emit(nn_shape.Transpose, [x], perm=perm)


def _squeeze(ctx: Context, node: Node):
    x = node.inputs[0]
    axes = ints(ctx, node, 1, "squeeze axes", attr="axes")
    if axes is None:
        axes = [i for i, d in enumerate(x.type.shape) if d == 1]
    return ctx.emit(nn_shape.Squeeze, [x], axes=axes)


def _unsqueeze(ctx: Context, node: Node):
    axes = ints(ctx, node, 1, "unsqueeze axes", attr="axes")
    return ctx.emit(nn_shape.Unsqueeze, node.inputs[:1], axes=axes)


def _expand(ctx: Context, node: Node):
    return ctx.emit(nn_shape.Expand, node.inputs[:1], shape=ints(ctx, node, 1, "expand shape"))


def _tile(ctx: Context, node: Node):
    return ctx.emit(nn_shape.Tile, node.inputs[:1], repeats=ints(ctx, node, 1, "tile repeats"))


def _clamped(start: int, end: int, step: int, dim: int) -> tuple[int, int]:
    """ONNX's clamping, spelled so Python slicing (nn.slice's) means the same: for a negative
    step ONNX clamps a start below -dim to 0, where Python would take nothing."""
    start, end = (start + dim if start < 0 else start), (end + dim if end < 0 else end)
    if step > 0:
        return min(max(start, 0), dim), min(max(end, 0), dim)
    start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    return start, end if end >= 0 else -dim - 1


def _slice(ctx: Context, node: Node):
    x = node.inputs[0]
    starts = ints(ctx, node, 1, "slice starts")
    ends = ints(ctx, node, 2, "slice ends")
    axes = ints(ctx, node, 3, "slice axes") or list(range(len(starts)))
    steps = ints(ctx, node, 4, "slice steps") or [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise PimcError("slice starts, ends, axes and steps differ in length", node.where())
    bounds = [_clamped(s, e, st, x.type.shape[a % max(x.type.rank, 1)]) if st else (s, e)
              for s, e, a, st in zip(starts, ends, axes, steps)]
    return ctx.emit(nn_shape.Slice, [x], starts=[b[0] for b in bounds],
                    ends=[b[1] for b in bounds], axes=axes, steps=steps)


def _pad(ctx: Context, node: Node):
    x = node.inputs[0]
    pads = ints(ctx, node, 1, "pads", attr="pads")
    value = 0.0
    if node.input(2) is not None:
        value = float(np.asarray(need(ctx, node, 2, "pad value")).reshape(()))
    axes = ints(ctx, node, 3, "pad axes")
    if axes is not None:  # opset 18: pads for the listed axes only
        full = [0] * (2 * x.type.rank)
        for k, a in enumerate(axes):
            full[a % x.type.rank] = pads[k]
            full[a % x.type.rank + x.type.rank] = pads[k + len(axes)]
        pads = full
    return ctx.emit(nn_shape.Pad, [x], pads=pads, mode=node.attrs.get("mode", "constant"),
                    value=value)


def _concat(ctx: Context, node: Node):
    return ctx.emit(nn_shape.Concat, [v for v in node.inputs if v is not None],
                    axis=node.attrs["axis"])


def _split_sizes(ctx: Context, node: Node) -> list[int]:
    x, axis = node.inputs[0], node.attrs.get("axis", 0)
    sizes = ints(ctx, node, 1, "split sizes", attr="split")
    if sizes is not None:
        return sizes
    n = node.attrs.get("num_outputs", len(node.proto.output))
    dim = x.type.shape[axis]
    chunk = -(-dim // n)  # ONNX: equal chunks, the last one smaller when it does not divide
    return [min(chunk, dim - i * chunk) for i in range(n)]


def _split(ctx: Context, node: Node):
    return ctx.emit(nn_shape.Split, node.inputs[:1], axis=node.attrs.get("axis", 0),
                    sizes=_split_sizes(ctx, node))


def _shape(ctx: Context, node: Node):
    x = node.inputs[0]
    start, end = node.attrs.get("start", 0), node.attrs.get("end")
    if ctx.fold:
        return [ctx.constant(np.array(x.type.shape[start:end], dtype=np.int64))]
    return ctx.emit(nn_shape.Shape, [x], start=start, end=end)


def _size(ctx: Context, node: Node):
    x = node.inputs[0]
    if ctx.fold:
        return [ctx.constant(np.array(x.type.size, dtype=np.int64))]
    return ctx.emit(nn_shape.Size, [x])


def _trilu(ctx: Context, node: Node):
    k = 0
    if node.input(1) is not None:
        k = int(np.asarray(need(ctx, node, 1, "diagonal offset k")).reshape(()))
    return ctx.emit(nn_shape.Trilu, node.inputs[:1], upper=bool(node.attrs.get("upper", 1)), k=k)


CONVERTERS = register({
    "Reshape": _reshape, "Flatten": _flatten, "Transpose": _transpose,
    "Squeeze": _squeeze, "Unsqueeze": _unsqueeze, "Expand": _expand, "Tile": _tile,
    "Slice": _slice, "Pad": _pad, "Concat": _concat, "Split": _split, "Shape": _shape,
    "Size": _size, "Trilu": _trilu,
})
