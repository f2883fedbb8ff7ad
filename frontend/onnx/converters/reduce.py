"""Converters of reductions and ops over one axis: Reduce*, ArgMax, Softmax, CumSum, TopK."""

from __future__ import annotations

import numpy as np

from frontend.onnx._context import Context, Node
from frontend.onnx.converters._const import ints, need
from frontend.onnx.converters._registry import register
from ir.dialects import nn, nn_shape

_REDUCE = {
    "ReduceSum": nn.ReduceSum, "ReduceMean": nn.ReduceMean, "ReduceMax": nn.ReduceMax,
    "ReduceMin": nn.ReduceMin, "ReduceProd": nn.ReduceProd, "ReduceL1": nn.ReduceL1,
    "ReduceL2": nn.ReduceL2, "ReduceSumSquare": nn.ReduceSumSquare,
    "ReduceLogSumExp": nn.ReduceLogSumExp,
}


def _reduce(ctx: Context, node: Node):
    # Axes are an attribute before opset 18 (13 for ReduceSum) and an input after.
    axes = ints(ctx, node, 1, "reduction axes", attr="axes")
    if not axes and node.attrs.get("noop_with_empty_axes", 0):
        return node.inputs[:1]
    keep = bool(node.attrs.get("keepdims", 1))
    return ctx.emit(_REDUCE[node.op_type], node.inputs[:1], axes=axes or None, keepdims=keep)


def _arg(ctx: Context, node: Node):
    cls = nn.ArgMax if node.op_type == "ArgMax" else nn.ArgMin
    return ctx.emit(cls, node.inputs[:1], axis=node.attrs.get("axis", 0),
                    keepdims=bool(node.attrs.get("keepdims", 1)),
                    select_last_index=bool(node.attrs.get("select_last_index", 0)))


def _softmax(ctx: Context, node: Node):
    cls = nn.Softmax if node.op_type == "Softmax" else nn.LogSoftmax
    return ctx.emit(cls, node.inputs[:1], axis=node.attrs.get("axis", -1))


def _cumsum(ctx: Context, node: Node):
    axis = int(np.asarray(need(ctx, node, 1, "cumsum axis")).reshape(()))
    return ctx.emit(nn.CumSum, node.inputs[:1], axis=axis,
                    exclusive=bool(node.attrs.get("exclusive", 0)),
                    reverse=bool(node.attrs.get("reverse", 0)))


def _topk(ctx: Context, node: Node):
    k = int(np.asarray(need(ctx, node, 1, "k")).reshape(()))
    return ctx.emit(nn_shape.TopK, node.inputs[:1], k=k, axis=node.attrs.get("axis", -1),
                    largest=bool(node.attrs.get("largest", 1)),
                    sorted=bool(node.attrs.get("sorted", 1)))


CONVERTERS = register({
    **dict.fromkeys(_REDUCE, _reduce), "ArgMax": _arg, "ArgMin": _arg,
    "Softmax": _softmax, "LogSoftmax": _softmax, "CumSum": _cumsum, "TopK": _topk,
})
