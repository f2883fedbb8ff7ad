"""Converters of the elementwise ONNX ops: activations, arithmetic, comparisons, casts."""

from __future__ import annotations

import numpy as np

from frontend.onnx._context import Context, Node, onnx_dtype
from frontend.onnx.converters._const import need
from frontend.onnx.converters._registry import register
from ir.dialects import nn
from ir.errors import PimcError

_UNARY = {
    "Relu": nn.Relu, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Exp": nn.Exp, "Log": nn.Log,
    "Sqrt": nn.Sqrt, "Neg": nn.Neg, "Abs": nn.Abs, "Erf": nn.Erf,
    "Reciprocal": nn.Reciprocal, "Floor": nn.Floor, "Ceil": nn.Ceil, "Sign": nn.Sign,
    "Softplus": nn.Softplus, "Softsign": nn.Softsign, "Not": nn.Not, "Sin": nn.Sin,
    "Cos": nn.Cos, "Round": nn.Round, "IsNaN": nn.IsNan, "Tan": nn.Tan, "Asin": nn.Asin,
    "Acos": nn.Acos, "Atan": nn.Atan, "Sinh": nn.Sinh, "Cosh": nn.Cosh, "Asinh": nn.Asinh,
    "Acosh": nn.Acosh, "Atanh": nn.Atanh, "HardSwish": nn.HardSwish, "Mish": nn.Mish,
    "BitwiseNot": nn.BitwiseNot,
}
# ONNX op -> (nn op, {ONNX attribute: nn attribute})
_UNARY_ATTRS = {
    "LeakyRelu": (nn.LeakyRelu, {"alpha": "alpha"}),
    "Elu": (nn.Elu, {"alpha": "alpha"}),
    "Selu": (nn.Selu, {"alpha": "alpha", "gamma": "gamma"}),
    "HardSigmoid": (nn.HardSigmoid, {"alpha": "alpha", "beta": "beta"}),
    "Gelu": (nn.Gelu, {"approximate": "approximate"}),
    "Celu": (nn.Celu, {"alpha": "alpha"}),
    "ThresholdedRelu": (nn.ThresholdedRelu, {"alpha": "alpha"}),
    "Shrink": (nn.Shrink, {"bias": "bias", "lambd": "lambd"}),
}
_BINARY = {
    "Add": nn.Add, "Sub": nn.Sub, "Mul": nn.Mul, "Div": nn.Div, "And": nn.And, "Or": nn.Or,
    "Xor": nn.Xor, "PRelu": nn.Prelu, "Equal": nn.Equal, "Less": nn.Less,
    "Greater": nn.Greater, "LessOrEqual": nn.LessOrEqual,
    "GreaterOrEqual": nn.GreaterOrEqual, "Where": nn.Where, "BitwiseAnd": nn.BitwiseAnd,
    "BitwiseOr": nn.BitwiseOr, "BitwiseXor": nn.BitwiseXor,
}
_VARIADIC = {"Sum": nn.Sum, "Max": nn.Max, "Min": nn.Min, "Mean": nn.Mean}


def _unary(ctx: Context, node: Node):
    return ctx.emit(_UNARY[node.op_type], node.inputs[:1])


def _unary_attrs(ctx: Context, node: Node):
    cls, names = _UNARY_ATTRS[node.op_type]
    attrs = {dst: node.attrs[src] for src, dst in names.items() if src in node.attrs}
    return ctx.emit(cls, node.inputs[:1], **attrs)


def _binary(ctx: Context, node: Node):
    return ctx.emit(_BINARY[node.op_type], node.inputs)


def _variadic(ctx: Context, node: Node):
    return ctx.emit(_VARIADIC[node.op_type], node.inputs)


def _alias(ctx: Context, node: Node):
    """Identity, and Dropout in inference (its mask, when asked for, is all true)."""
    x = node.inputs[0]
    if len(node.proto.output) > 1 and node.proto.output[1]:
        return [x, ctx.constant(np.ones(x.type.shape, bool))]
    return [x]


def _cast_to(ctx: Context, x, dtype: str):
    return x if x.type.dtype == dtype else ctx.emit1(nn.Cast, [x], to=dtype)


def _pow(ctx: Context, node: Node):
    base, exponent = node.inputs
    return ctx.emit(nn.Pow, [base, _cast_to(ctx, exponent, base.type.dtype)])


def _mod(ctx: Context, node: Node):
    cls = nn.Fmod if node.attrs.get("fmod", 0) else nn.Mod
    return ctx.emit(cls, node.inputs)


_SHIFTS = {"LEFT": nn.Bitshift, "RIGHT": nn.BitshiftRight}


def _bitshift(ctx: Context, node: Node):
    direction = node.attrs.get("direction")
    if direction not in _SHIFTS:
        raise PimcError(f"BitShift direction {direction!r} is not supported; accepted: "
                        "'LEFT', 'RIGHT'", node.where())
    return ctx.emit(_SHIFTS[direction], node.inputs)


def _isinf(ctx: Context, node: Node):
    return ctx.emit(nn.IsInf, node.inputs[:1],
                    detect_negative=bool(node.attrs.get("detect_negative", 1)),
                    detect_positive=bool(node.attrs.get("detect_positive", 1)))


def _cast(ctx: Context, node: Node):
    return [_cast_to(ctx, node.inputs[0], onnx_dtype(node.attrs["to"], node.where()))]


def _cast_like(ctx: Context, node: Node):
    return [_cast_to(ctx, node.inputs[0], node.inputs[1].type.dtype)]


def _bound(ctx: Context, node: Node, i: int, attr: str) -> float | None:
    if attr in node.attrs:  # opset < 11 form, kept for hand-built models
        return float(node.attrs[attr])
    if node.input(i) is None:
        return None
    return float(np.asarray(need(ctx, node, i, f"clip {attr}")).reshape(()))


def _clip(ctx: Context, node: Node):
    lo, hi = _bound(ctx, node, 1, "min"), _bound(ctx, node, 2, "max")
    return ctx.emit(nn.Clip, node.inputs[:1], min=lo, max=hi)


CONVERTERS = register({
    **dict.fromkeys(_UNARY, _unary), **dict.fromkeys(_UNARY_ATTRS, _unary_attrs),
    **dict.fromkeys(_BINARY, _binary), **dict.fromkeys(_VARIADIC, _variadic),
    "Identity": _alias, "Dropout": _alias, "Pow": _pow, "Mod": _mod, "BitShift": _bitshift,
    "IsInf": _isinf, "Cast": _cast, "CastLike": _cast_like, "Clip": _clip,
})
