"""Per-op rules of the error bound (see `passes.error_bound` for the formulas).

Each rule takes the op, its operands' float values, their error bounds (arrays of the same
shapes, >= 0) and its float results, and returns the error bound of each result.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ir.core import Op
from ir.dialects import nn, nn_shape, pim, rec
from ir.interp import evaluate
from ir.interp.pim import quantize
from ir.interp.quant import weight_scale
from ir.interp.rec import triangle_pairs

__all__ = ["RULES", "quantised_linear", "adc_error"]

Rule = Callable[[Op, list, list, list], list]


def _monotone_of(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                 e: np.ndarray) -> np.ndarray:
    """Worst |f(x + d) - f(x)| over |d| <= e for a monotone f: reached at an end."""
    with np.errstate(all="ignore"):
        fx = fn(x)
        worst = np.maximum(np.abs(fn(x + e) - fx), np.abs(fn(x - e) - fx))
    return np.where(np.isnan(worst), np.inf, worst)


def _monotone(op, vals, errs, outs):
    return [_monotone_of(lambda a: evaluate(op, [a])[0].astype(np.float64), vals[0], errs[0])]


def _sum(op, vals, errs, outs):
    return [np.broadcast_to(errs[0] + errs[1], outs[0].shape)]


def _product(a, b, ea, eb):
    return np.abs(a) * eb + np.abs(b) * ea + ea * eb


def _mul(op, vals, errs, outs):
    return [np.broadcast_to(_product(*vals, *errs), outs[0].shape)]


def _div(op, vals, errs, outs):
    (a, b), (ea, eb) = vals, errs
    with np.errstate(all="ignore"):
        room = np.abs(b) - eb
        e = (np.abs(a) * eb + np.abs(b) * ea) / (np.abs(b) * room)
    return [np.broadcast_to(np.where(room > 0, e, np.inf), outs[0].shape)]


def _on_errors(op, vals, errs, outs):
    """Ops that move elements (or add them with weights 1): the same op on the errors."""
    data = range(len(vals)) if isinstance(op, (nn_shape.Concat, nn.Variadic)) else (0,)
    arrays = [errs[i] if i in data else vals[i] for i in range(len(vals))]
    return [np.abs(np.asarray(a, np.float64)) for a in evaluate(op, arrays)]


def _where(op, vals, errs, outs):
    return [np.broadcast_to(np.where(vals[0], errs[1], errs[2]), outs[0].shape)]


def _matmul_like(fn, a, b, ea, eb):
    return fn(np.abs(a), eb) + fn(ea, np.abs(b)) + fn(ea, eb)


def _matmul(op, vals, errs, outs):
    if "pim.x_scale" in op.attrs:
        return [quantised_linear(op, vals[0], errs[0], vals[1])]
    return [_matmul_like(np.matmul, *vals, *errs)]


def _einsum(op, vals, errs, outs):
    eq = op.attrs["equation"]
    if len(vals) != 2:
        raise ValueError(f"no error rule for a {len(vals)}-operand einsum")
    return [_matmul_like(lambda a, b: np.einsum(eq, a, b), *vals, *errs)]


def _softmax(op, vals, errs, outs):
    worst = np.max(errs[0], axis=op.attrs["axis"], keepdims=True)
    with np.errstate(over="ignore"):
        return [np.abs(outs[0]) * np.expm1(2 * worst)]


def _batch_norm(op, vals, errs, outs):
    x, scale, _, _, var = vals
    zeros = np.zeros_like(scale)
    return [np.abs(evaluate(op, [errs[0], scale, zeros, zeros, var])[0])]


def _dot(op, vals, errs, outs):
    x, e = np.abs(vals[0]), errs[0]
    gram = _matmul_like(np.matmul, x, np.swapaxes(x, 1, 2), e, np.swapaxes(e, 1, 2))
    rows, cols = triangle_pairs(x.shape[1], op.attrs["triangle"],
                                op.attrs["self_interaction"])
    return [gram[:, rows, cols]]


def _fm(op, vals, errs, outs):
    x, e = vals[0], errs[0]
    s, es = np.abs(x.sum(axis=1)), e.sum(axis=1)
    squares = (2 * np.abs(x) * e + e * e).sum(axis=1)
    out = 0.5 * (2 * s * es + es * es + squares)
    return [out.sum(axis=1, keepdims=True) if op.attrs["reduce"] else out]


def _gating(op, vals, errs, outs):
    x, g = vals
    act = rec_act(op)
    eg = _monotone_of(act, g, errs[1])
    return [np.broadcast_to(_product(x, act(g), errs[0], eg), outs[0].shape)]


def rec_act(op: Op) -> Callable[[np.ndarray], np.ndarray]:
    from ir.interp.rec import _ACT

    return _ACT[op.attrs["activation"]]


def quantised_linear(op: Op, x: np.ndarray, e: np.ndarray, w: np.ndarray,
                     w_scale: float | None = None) -> np.ndarray:
    """Bound on |Q(x~) Wq - x W| over the last axis of x, where |x~ - x| <= e: the input
    rounded and clipped at pim.x_scale / a_bits (worst case at x +- e, Q being monotone), the
    weight rounded at its per-tensor scale. What is known exactly (the weights' rounding, and
    the rounding of inputs that carry no error) is summed with its signs."""
    a = op.attrs
    xs, a_bits = a.get("x_scale", a.get("pim.x_scale")), a.get("a_bits", a.get("pim.a_bits"))
    w_bits = a.get("w_bits", a.get("pim.w_bits"))
    ws = w_scale or weight_scale(w, w_bits)
    wq = quantize(w, ws, w_bits) * ws
    x = np.asarray(x, np.float64)
    exact = e == 0  # inputs known exactly: their rounding is known too, signs and all
    known = np.where(exact, quantize(x, xs, a_bits) * xs - x, 0.0) @ wq + x @ (wq - w)
    e_in = np.maximum(np.abs(quantize(x + e, xs, a_bits) * xs - x),
                      np.abs(quantize(x - e, xs, a_bits) * xs - x))
    return np.abs(known) + np.where(exact, 0.0, e_in) @ np.abs(wq)


def adc_error(a: dict, rows: int) -> float:
    """Worst error one output of a tile picks up from ADC rounding and clipping (0 when the
    ADC resolves every column sum)."""
    full = rows * (2 ** a["dac_bits"] - 1) * (2 ** a["cell_bits"] - 1)
    if full <= 2 ** a["adc_bits"] - 1:
        return 0.0
    step = 2.0 ** (math.ceil(math.log2(full + 1)) - a["adc_bits"])
    eps = max(step / 2, step - 1)
    x_digits = sum(2.0 ** (i * a["dac_bits"])
                   for i in range(math.ceil((a["a_bits"] - 1) / a["dac_bits"])))
    diff = a["signed"] == "differential"
    mag = a["w_bits"] - 1 if diff else a["w_bits"]
    w_digits = sum(2.0 ** (j * a["cell_bits"]) for j in range(math.ceil(mag / a["cell_bits"])))
    per_pass = eps * x_digits * w_digits
    passes = 4 * per_pass if diff else 2 * (per_pass + 2.0 ** (a["w_bits"] - 1) * eps * x_digits)
    return passes * a["x_scale"] * a["w_scale"]


def _mvm(op, vals, errs, outs):
    r0, r1 = op.attrs["rows"]
    x, e = vals[0][..., r0:r1], errs[0][..., r0:r1]
    w = np.asarray(vals[1], np.float64)
    bound = quantised_linear(op, x, e, w, op.attrs["w_scale"])
    return [bound + adc_error(op.attrs, r1 - r0)]


def _combine(op, vals, errs, outs):
    mode, scale = op.attrs["mode"], abs(op.attrs["scale"])
    if mode == "concat":
        return [np.concatenate(errs, axis=-1)]
    pick = np.maximum.reduce if mode == "max" else sum
    return [np.broadcast_to(pick(np.broadcast_arrays(*errs)) * scale, outs[0].shape)]


def _dense(op, vals, errs, outs):
    x, w = vals[0], vals[1]
    if "pim.x_scale" in op.attrs:
        lin = quantised_linear(op, x, errs[0], w)
    else:
        lin = errs[0] @ np.abs(w)
    pre = np.asarray(x, np.float64) @ w + (vals[2] if len(vals) == 3 else 0)
    return [_monotone_of(rec_act(op), pre, lin)]


def _cross(op, vals, errs, outs):
    """x0 * s + b + x with s = x @ w (vector: a per-row scalar; matrix: s = x @ W + b)."""
    (x0, x, w, b), (e0, ex) = vals, errs[:2]
    s = np.asarray(x, np.float64) @ w
    es = ex @ np.abs(w)
    if op.attrs["kind"] == "vector":
        s, es = s[..., None], es[..., None]
    else:
        s = s + b
    return [_product(x0, s, e0, es) + ex]


def _efc(op, vals, errs, outs):
    """An FC over the token axis: einsum('bfd,fg->bgd') of the errors with |w|."""
    return [np.einsum("bfd,fg->bgd", errs[0], np.abs(vals[1]))]


def _attention(op, vals, errs, outs):
    """Per head: q k^T scaled, softmax, times v; errors through each step."""
    x, (wq, wk, wv), ex = vals[0], vals[1:], errs[0]
    heads, scale = op.attrs["heads"], abs(op.attrs["scale"])
    b, f, _ = x.shape

    def split(a):
        return a.reshape(b, f, heads, -1).transpose(0, 2, 1, 3)

    q, k, v = (split(np.asarray(x, np.float64) @ w) for w in (wq, wk, wv))
    eq, ek, ev = (split(ex @ np.abs(w)) for w in (wq, wk, wv))
    scores = scale * (q @ np.swapaxes(k, -1, -2))
    e_scores = scale * _matmul_like(np.matmul, q, np.swapaxes(k, -1, -2), eq,
                                    np.swapaxes(ek, -1, -2))
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    with np.errstate(over="ignore"):
        ep = p * np.expm1(2 * e_scores.max(-1, keepdims=True))
    out = _matmul_like(np.matmul, p, v, ep, ev)
    return [out.transpose(0, 2, 1, 3).reshape(outs[0].shape)]


def _zero(op, vals, errs, outs):
    return [np.zeros(o.shape) for o in outs]


MONOTONE = (nn.Relu, nn.Sigmoid, nn.Tanh, nn.Exp, nn.Log, nn.Sqrt, nn.LeakyRelu, nn.Elu,
            nn.Softplus, nn.Erf, nn.Neg, nn.Abs, nn.Clip, nn.HardSigmoid, nn.Softsign)
MOVES = (nn.Cast, nn.Identity, nn.ReduceSum, nn.ReduceMean, nn.ReduceMax, nn.ReduceMin,
         nn.Max, nn.Min, nn.Sum, nn.Mean, nn_shape.Reshape, nn_shape.Transpose,
         nn_shape.Squeeze, nn_shape.Unsqueeze, nn_shape.Flatten, nn_shape.Expand, nn_shape.Tile,
         nn_shape.Slice, nn_shape.Split, nn_shape.Concat, nn_shape.Gather, nn_shape.GatherND,
         nn_shape.GatherElements, pim.Load, pim.Transfer)

RULES: dict[type[Op], Rule] = {
    **{t: _monotone for t in MONOTONE}, **{t: _on_errors for t in MOVES},
    nn.Add: _sum, nn.Sub: _sum, nn.Mul: _mul, nn.Div: _div, nn.Where: _where,
    nn.MatMul: _matmul, nn.Einsum: _einsum, nn.Softmax: _softmax, nn.BatchNorm: _batch_norm,
    rec.DotInteraction: _dot, rec.FM: _fm, rec.Gating: _gating, rec.Dense: _dense,
    rec.Cross: _cross, rec.EFC: _efc, rec.Attention: _attention,
    rec.EmbeddingBag: _zero, pim.Gather: _zero, nn.Constant: _zero,
    pim.MVM: _mvm, pim.Combine: _combine,
}
