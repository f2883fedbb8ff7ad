"""Reference semantics of the `nn` dialect: ONNX operator semantics on numpy arrays.

Results are computed in the operand element type (float32 stays float32) so they agree with
ONNX Runtime to rounding; `evaluate` casts them to the op's result type.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np

from ir.dialects import nn
from ir.interp import semantics

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _zero(x):
    return x.dtype.type(0)


# -- elementwise, one operand -------------------------------------------------------------
_UNARY = {
    nn.Relu: lambda x: np.maximum(x, _zero(x)),
    nn.Sigmoid: _sigmoid,
    nn.Tanh: np.tanh, nn.Exp: np.exp, nn.Log: np.log, nn.Sqrt: np.sqrt,
    nn.Neg: np.negative, nn.Abs: np.abs, nn.Floor: np.floor, nn.Ceil: np.ceil,
    nn.Sign: np.sign, nn.Sin: np.sin, nn.Cos: np.cos, nn.Round: np.round,
    nn.Erf: lambda x: _erf(x).astype(x.dtype),
    nn.Reciprocal: lambda x: x.dtype.type(1) / x,
    nn.Softplus: lambda x: np.logaddexp(_zero(x), x),
    nn.Softsign: lambda x: x / (x.dtype.type(1) + np.abs(x)),
    nn.Identity: lambda x: x.copy(), nn.Dropout: lambda x: x.copy(),
    nn.Not: np.logical_not, nn.IsNan: np.isnan, nn.BitwiseNot: np.invert,
    nn.Tan: np.tan, nn.Asin: np.arcsin, nn.Acos: np.arccos, nn.Atan: np.arctan,
    nn.Sinh: np.sinh, nn.Cosh: np.cosh, nn.Asinh: np.arcsinh, nn.Acosh: np.arccosh,
    nn.Atanh: np.arctanh,
    # ONNX: x * max(0, min(1, alpha*x + beta)) with alpha = 1/6, beta = 0.5
    nn.HardSwish: lambda x: x * np.clip(x * x.dtype.type(1 / 6) + x.dtype.type(0.5),
                                        _zero(x), x.dtype.type(1)),
    nn.Mish: lambda x: x * np.tanh(np.logaddexp(_zero(x), x)),
}


@semantics(*_UNARY)
def _unary(op, x):
    return _UNARY[type(op)](x)


def _alpha(op, x, key="alpha"):
    return x.dtype.type(op.attrs[key])


@semantics(nn.LeakyRelu)
def _leaky_relu(op, x):
    return np.where(x < 0, x * _alpha(op, x), x)


@semantics(nn.Elu)
def _elu(op, x):
    return np.where(x < 0, _alpha(op, x) * np.expm1(x), x)


@semantics(nn.Selu)
def _selu(op, x):
    a, g = _alpha(op, x), _alpha(op, x, "gamma")
    return np.where(x <= 0, g * (a * np.exp(x) - a), g * x)


@semantics(nn.Celu)
def _celu(op, x):
    a = _alpha(op, x)
    return np.maximum(x, _zero(x)) + np.minimum(_zero(x), a * np.expm1(x / a))


@semantics(nn.ThresholdedRelu)
def _thresholded_relu(op, x):
    return np.where(x > _alpha(op, x), x, _zero(x))


@semantics(nn.Shrink)
def _shrink(op, x):
    lambd, bias = _alpha(op, x, "lambd"), _alpha(op, x, "bias")
    return np.where(x < -lambd, x + bias, np.where(x > lambd, x - bias, _zero(x)))


@semantics(nn.IsInf)
def _isinf(op, x):
    return np.isinf(x) & (((x > 0) & op.attrs["detect_positive"]) |
                          ((x < 0) & op.attrs["detect_negative"]))


@semantics(nn.HardSigmoid)
def _hard_sigmoid(op, x):
    y = _alpha(op, x) * x + _alpha(op, x, "beta")
    return np.clip(y, _zero(x), x.dtype.type(1))


@semantics(nn.Gelu)
def _gelu(op, x):
    t = x.dtype.type
    if op.attrs["approximate"] == "tanh":
        inner = t(math.sqrt(2 / math.pi)) * (x + t(0.044715) * x * x * x)
        return t(0.5) * x * (t(1) + np.tanh(inner))
    return (0.5 * x.astype(np.float64) * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)


@semantics(nn.Clip)
def _clip(op, x):
    lo, hi = op.attrs.get("min"), op.attrs.get("max")
    if lo is not None:
        x = np.maximum(x, np.asarray(lo).astype(x.dtype))
    if hi is not None:
        x = np.minimum(x, np.asarray(hi).astype(x.dtype))
    return x


@semantics(nn.Softmax, nn.LogSoftmax)
def _softmax(op, x):
    axis = op.attrs["axis"]
    shifted = x - np.max(x, axis=axis, keepdims=True)
    total = np.sum(np.exp(shifted), axis=axis, keepdims=True)
    if isinstance(op, nn.LogSoftmax):
        return shifted - np.log(total)
    return np.exp(shifted) / total


@semantics(nn.CumSum)
def _cumsum(op, x):
    axis = op.attrs["axis"]
    if op.attrs["reverse"]:
        x = np.flip(x, axis)
    out = np.cumsum(x, axis=axis, dtype=x.dtype)
    if op.attrs["exclusive"]:
        out = out - x
    return np.flip(out, axis) if op.attrs["reverse"] else out


# -- elementwise, two or more operands ----------------------------------------------------
def _div(a, b):
    if a.dtype.kind in "iu":  # ONNX (and ORT) truncate integer division toward zero
        q = np.floor_divide(a, b)
        return np.where((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)), q + 1, q)
    return a / b


def _mod(a, b):
    return np.fmod(a, b) if a.dtype.kind == "f" else np.mod(a, b)


_BINARY = {
    nn.Add: np.add, nn.Sub: np.subtract, nn.Mul: np.multiply, nn.Div: _div,
    nn.Pow: lambda a, b: np.power(a, b).astype(a.dtype), nn.Mod: _mod, nn.Fmod: np.fmod,
    nn.And: np.logical_and, nn.Or: np.logical_or, nn.Xor: np.logical_xor,
    nn.Prelu: lambda x, s: np.where(x < 0, x * s, x), nn.Bitshift: np.left_shift,
    nn.BitshiftRight: np.right_shift, nn.BitwiseAnd: np.bitwise_and,
    nn.BitwiseOr: np.bitwise_or, nn.BitwiseXor: np.bitwise_xor,
    nn.Equal: np.equal, nn.Less: np.less, nn.Greater: np.greater,
    nn.LessOrEqual: np.less_equal, nn.GreaterOrEqual: np.greater_equal,
    nn.Where: np.where,
}


@semantics(*_BINARY)
def _binary(op, *xs):
    return _BINARY[type(op)](*xs)


_VARIADIC = {nn.Sum: np.add, nn.Max: np.maximum, nn.Min: np.minimum, nn.Mean: np.add}


@semantics(*_VARIADIC)
def _variadic(op, *xs):
    out = reduce(_VARIADIC[type(op)], xs)
    return out / out.dtype.type(len(xs)) if isinstance(op, nn.Mean) else out


# -- reductions ---------------------------------------------------------------------------
def _log_sum_exp(x, axis, keepdims):
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, _zero(top))
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


_REDUCE = {
    nn.ReduceSum: np.sum, nn.ReduceMax: np.max, nn.ReduceMin: np.min,
    nn.ReduceProd: np.prod,
    nn.ReduceMean: lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims,
                                                     dtype=x.dtype),
    nn.ReduceL1: lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims),
    nn.ReduceL2: lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis,
                                                          keepdims=keepdims)),
    nn.ReduceSumSquare: lambda x, axis, keepdims: np.sum(x * x, axis=axis, keepdims=keepdims),
    nn.ReduceLogSumExp: _log_sum_exp,
}


@semantics(*_REDUCE)
def _reduce(op, x):
    return _REDUCE[type(op)](x, axis=op.reduced_axes(), keepdims=op.attrs["keepdims"])


@semantics(nn.ArgMax, nn.ArgMin)
def _arg(op, x):
    axis, last = op.attrs["axis"], op.attrs["select_last_index"]
    pick = np.argmin if isinstance(op, nn.ArgMin) else np.argmax
    data = np.flip(x, axis) if last else x
    out = pick(data, axis=axis, keepdims=True)
    if last:
        out = x.shape[axis] - 1 - out
    return out if op.attrs["keepdims"] else np.squeeze(out, axis=axis)


# -- linear algebra and normalisation -----------------------------------------------------
@semantics(nn.MatMul)
def _matmul(op, a, b):
    return np.matmul(a, b)


@semantics(nn.Gemm)
def _gemm(op, a, b, c=None):
    a = a.T if op.attrs["trans_a"] else a
    b = b.T if op.attrs["trans_b"] else b
    y = np.matmul(a, b)
    if op.attrs["alpha"] != 1.0:
        y = y * y.dtype.type(op.attrs["alpha"])
    if c is None:
        return y
    return y + (c if op.attrs["beta"] == 1.0 else c * c.dtype.type(op.attrs["beta"]))


@semantics(nn.Einsum)
def _einsum(op, *xs):
    return np.einsum(op.attrs["equation"].replace(" ", ""), *xs)


@semantics(nn.LayerNorm)
def _layer_norm(op, x, scale, bias=None):
    axis = op.attrs["axis"] % x.ndim
    axes = tuple(range(axis, x.ndim))
    mean = np.mean(x, axis=axes, keepdims=True, dtype=x.dtype)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True, dtype=x.dtype)
    y = centered / np.sqrt(var + x.dtype.type(op.attrs["epsilon"])) * scale
    return y if bias is None else y + bias


@semantics(nn.BatchNorm)
def _batch_norm(op, x, scale, bias, mean, var):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv = scale / np.sqrt(var + var.dtype.type(op.attrs["epsilon"]))
    return (x - mean.reshape(shape)) * inv.reshape(shape) + bias.reshape(shape)


# -- constants and casts ------------------------------------------------------------------
@semantics(nn.Constant)
def _constant(op):
    return op.attrs["value"]


@semantics(nn.Cast)
def _cast(op, x):
    return x.astype(op.results[0].type.np_dtype)
