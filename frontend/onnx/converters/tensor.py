"""Converters of constants, gathers, linear algebra and normalisation."""

from __future__ import annotations

import numpy as np

from frontend.onnx._context import Context, Node
from frontend.onnx.converters._const import data_sources, ints, need
from frontend.onnx.converters._registry import register
from ir.core import Value
from ir.dialects import nn, nn_index, nn_shape
from ir.errors import PimcError

# Constant's value attributes and how each becomes an array.
_CONSTANT_FORMS = {
    "value": np.asarray,
    "value_float": lambda v: np.array(v, dtype=np.float32),
    "value_floats": lambda v: np.array(v, dtype=np.float32),
    "value_int": lambda v: np.array(v, dtype=np.int64),
    "value_ints": lambda v: np.array(v, dtype=np.int64),
}


def _constant(ctx: Context, node: Node):
    for key, make in _CONSTANT_FORMS.items():
        if key in node.attrs:
            return [ctx.constant(make(node.attrs[key]), node.proto.output[0])]
    accepted = ", ".join(_CONSTANT_FORMS)
    raise PimcError(f"Constant needs one of the attributes {accepted}", node.where())


def _constant_of_shape(ctx: Context, node: Node):
    shape = ints(ctx, node, 0, "output shape")
    fill = node.attrs.get("value", np.zeros(1, np.float32))
    return [ctx.constant(np.full(shape, np.asarray(fill).reshape(-1)[0]))]


def _range(ctx: Context, node: Node):
    start, limit, delta = (need(ctx, node, i, what) for i, what in
                           enumerate(("range start", "range limit", "range delta")))
    return [ctx.constant(np.arange(start, limit, delta).astype(np.asarray(start).dtype))]


def _gather(ctx: Context, node: Node):
    return ctx.emit(nn_shape.Gather, node.inputs, axis=node.attrs.get("axis", 0))


def _gather_elements(ctx: Context, node: Node):
    return ctx.emit(nn_shape.GatherElements, node.inputs, axis=node.attrs.get("axis", 0))


def _gather_nd(ctx: Context, node: Node):
    return ctx.emit(nn_shape.GatherND, node.inputs, batch_dims=node.attrs.get("batch_dims", 0))


def _matmul(ctx: Context, node: Node):
    return ctx.emit(nn.MatMul, node.inputs)


def _gemm(ctx: Context, node: Node):
    operands = [v for v in node.inputs if v is not None]
    a = node.attrs
    return ctx.emit(nn.Gemm, operands, alpha=a.get("alpha", 1.0), beta=a.get("beta", 1.0),
                    trans_a=bool(a.get("transA", 0)), trans_b=bool(a.get("transB", 0)))


def _einsum(ctx: Context, node: Node):
    return ctx.emit(nn.Einsum, node.inputs, equation=node.attrs["equation"])


def _layer_norm(ctx: Context, node: Node):
    if any(node.proto.output[1:]):
        raise PimcError("LayerNormalization's Mean and InvStdDev outputs are not "
                        "supported; accepted: the normalised output only", node.where())
    operands = [v for v in node.inputs if v is not None]
    return ctx.emit(nn.LayerNorm, operands, axis=node.attrs.get("axis", -1),
                    epsilon=node.attrs.get("epsilon", 1e-5))


def _batch_norm(ctx: Context, node: Node):
    if node.attrs.get("training_mode", 0):
        raise PimcError("BatchNormalization in training mode is not supported; accepted: "
                        "training_mode=0 (inference)", node.where())
    return ctx.emit(nn.BatchNorm, node.inputs[:5], epsilon=node.attrs.get("epsilon", 1e-5))


def _conv(ctx: Context, node: Node):
    """A pointwise convolution (every kernel dim 1, stride 1, no padding, one group) as a
    MatMul of the [out, in] weight over the channel axis (xDeepFM's CIN uses Conv1d(k=1))."""
    x, w = node.inputs[:2]
    a = node.attrs
    flat = [*a.get("strides", []), *a.get("dilations", []), *w.type.shape[2:]]
    if any(v != 1 for v in flat) or any(a.get("pads", [])) or a.get("group", 1) != 1 or \
            a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise PimcError("Conv is supported only pointwise; accepted: kernel 1, stride 1, "
                        "no padding, group 1", node.where())
    n, c, *spatial = x.type.shape
    m = w.type.shape[0]
    w2 = ctx.emit1(nn_shape.Reshape, [w], shape=[m, c])
    x3 = ctx.emit1(nn_shape.Reshape, [x], shape=[n, c, int(np.prod(spatial, dtype=np.int64))])
    y = ctx.emit1(nn.MatMul, [w2, x3])
    if node.input(2) is not None:
        y = ctx.emit1(nn.Add, [y, ctx.emit1(nn_shape.Reshape, [node.inputs[2]], shape=[m, 1])])
    return ctx.emit(nn_shape.Reshape, [y], shape=[n, m, *spatial])


def _scatter_elements(ctx: Context, node: Node):
    return ctx.emit(nn_index.ScatterElements, node.inputs, axis=node.attrs.get("axis", 0),
                    reduction=node.attrs.get("reduction", "none"))


def _scatter_nd(ctx: Context, node: Node):
    return ctx.emit(nn_index.ScatterND, node.inputs,
                    reduction=node.attrs.get("reduction", "none"))


def _nonzero(ctx: Context, node: Node):
    """Folded when its input is a constant: otherwise its output shape, [rank, number of
    nonzero elements], is only known at run time, and every IR shape is static."""
    x = node.inputs[0]
    value = ctx.const(x)
    if value is not None:
        return [ctx.constant(np.array(np.nonzero(value), dtype=np.int64))]
    sources = ", ".join(f"'{s}'" for s in data_sources(ctx, x)) if isinstance(x, Value) \
        else "?"
    raise PimcError(f"output '{node.proto.output[0]}' has the data-dependent shape "
                    f"[{x.type.rank}, number of nonzero elements of '{node.proto.input[0]}'], "
                    f"which depends on the values of graph input(s) {sources}; accepted: "
                    "NonZero of a tensor computed from initializers and shapes (folded)",
                    node.where())


CONVERTERS = register({
    "Constant": _constant, "ConstantOfShape": _constant_of_shape, "Range": _range,
    "Gather": _gather, "GatherElements": _gather_elements, "GatherND": _gather_nd,
    "MatMul": _matmul, "Gemm": _gemm, "Conv": _conv, "Einsum": _einsum,
    "LayerNormalization": _layer_norm, "BatchNormalization": _batch_norm,
    "ScatterElements": _scatter_elements, "ScatterND": _scatter_nd, "NonZero": _nonzero,
})
