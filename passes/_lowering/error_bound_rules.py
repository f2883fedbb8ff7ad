"""Per-op rules of the error bound (see `passes.error_bound` for the formulas).

Each rule takes the op, its operands' float values, their error bounds (arrays of the same
shapes, >= 0) and its float results, and returns the error bound of each result.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ir.core import Op
from ir.dialects import nn, nn_seq, nn_shape, pim, rec
from ir.dialects.pim_attrs import A_BITS, W_BITS, X_SCALE
from ir.interp import evaluate
from ir.interp.rec import triangle_pairs
from passes._lowering import _bilinear as bilinear
from passes._lowering import _error_elementwise as elementwise
from passes._lowering import _error_rec
from passes._lowering import _error_tensor as tensor
from passes._lowering._error_linear import InputSide, input_side, quantised_linear, weight_bound
from passes._lowering._error_tensor import (
    elementwise_product,
    exact,
    product_bound,
    refuse,
    scaled_error,
)
from passes._lowering._gru_error import gru_bound

__all__ = ["NO_ERROR", "REFUSED", "RULES", "quantised_linear", "adc_error", "tile_bound",
           "tile_input"]

Rule = Callable[[Op, list, list, list], list]


def _sum(op, vals, errs, outs):
    return [np.broadcast_to(errs[0] + errs[1], outs[0].shape)]


def _mul(op, vals, errs, outs):
    return [np.broadcast_to(elementwise_product(*vals, *errs), outs[0].shape)]


def _div(op, vals, errs, outs):
    """|a~/b~ - a/b| = |da b - a db| / |b b~| with |b~| >= |b| - e(b) (inf if that is <= 0)."""
    (a, b), (ea, eb) = vals, errs
    with np.errstate(all="ignore"):
        room = np.abs(b) - eb
        e = (scaled_error(a, eb) + scaled_error(b, ea)) / (np.abs(b) * room)
    return [np.broadcast_to(np.where(room > 0, e, np.inf), outs[0].shape)]


def _matmul_like(fn, a, b, ea, eb):
    return fn(np.abs(a), eb) + fn(ea, np.abs(b)) + fn(ea, eb)


def _crossbar_linear(op: Op, x: np.ndarray, e: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A `rec.dense` / `nn.matmul` that assign-precision marked for a crossbar: its
    quantisation is read from the pim.* facts (the op carries no attributes of its own for
    it, unlike a `pim.mvm` tile)."""
    return quantised_linear(x, e, w, X_SCALE.of(op), A_BITS.of(op), W_BITS.of(op))


def _matmul(op, vals, errs, outs):
    if X_SCALE.has(op):
        exact(op, errs, 1, "crossbar weight")
        return [_crossbar_linear(op, vals[0], errs[0], vals[1])]
    return tensor.RULES[nn.MatMul](op, vals, errs, outs)


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
    eg = elementwise.monotone_of(act, g, errs[1])
    return [np.broadcast_to(elementwise_product(x, act(g), errs[0], eg), outs[0].shape)]


def rec_act(op: Op) -> Callable[[np.ndarray], np.ndarray]:
    from ir.interp.rec import _ACT

    return _ACT[op.attrs["activation"]]


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
    """A crossbar tile: its quantisation is its own typed attributes (x_scale, a_bits,
    w_bits, w_scale are declared by `pim.mvm`, not pim.* facts)."""
    exact(op, errs, 1, "weight tile")
    return [tile_bound(op, tile_input(op, vals[0], errs[0]), vals[1])]


def tile_input(op: pim.MVM, x: np.ndarray, e: np.ndarray) -> InputSide:
    """The input's part of a crossbar tile's bound (`_error_linear.input_side`), from its
    operand's float value `x` and bound `e`: the same for every tile that reads the same
    rows of the same value at the same input quantisation."""
    a = op.attrs
    r0, r1 = a["rows"]
    return input_side(x[..., r0:r1], e[..., r0:r1], a["x_scale"], a["a_bits"])


def tile_bound(op: pim.MVM, side: InputSide, w: np.ndarray) -> np.ndarray:
    """A crossbar tile's bound from its input's part `side` and its weights `w`."""
    a = op.attrs
    r0, r1 = a["rows"]
    bound = weight_bound(side, np.asarray(w, np.float64), a["w_bits"], a["w_scale"])
    return bound + adc_error(a, r1 - r0)


def _combine(op, vals, errs, outs):
    mode, scale = op.attrs["mode"], abs(op.attrs["scale"])
    if mode == "concat":
        return [np.concatenate(errs, axis=-1)]
    pick = np.maximum.reduce if mode == "max" else sum
    return [np.broadcast_to(pick(np.broadcast_arrays(*errs)) * scale, outs[0].shape)]


def _dense(op, vals, errs, outs):
    x, w = vals[0], vals[1]
    if X_SCALE.has(op):
        exact(op, errs, 1, "crossbar weight")
        lin = _crossbar_linear(op, x, errs[0], w)
    else:
        lin = product_bound(np.matmul, [x, w], errs[:2])
    if len(vals) == 3:
        lin = lin + errs[2]
    pre = np.asarray(x, np.float64) @ w + (vals[2] if len(vals) == 3 else 0)
    return [elementwise.monotone_of(rec_act(op), pre, lin)]


def _cross(op, vals, errs, outs):
    """x0 * s + b + x with s = x @ w (vector: a per-row scalar; matrix: s = x @ W + b)."""
    if op.attrs["kind"] == "mixture":
        return _error_rec.mixture_cross(op, vals, errs, outs)
    (x0, x, w, b), (e0, ex, ew, eb) = vals[:4], errs[:4]
    s = np.asarray(x, np.float64) @ w
    es = product_bound(np.matmul, [x, w], [ex, ew])
    if op.attrs["kind"] == "low_rank":  # x @ V @ U: multilinear in (x, V, U)
        s = s @ vals[4]
        es = product_bound(lambda a, v, u: a @ v @ u, [x, w, vals[4]], [ex, ew, errs[4]])
    if op.attrs["kind"] == "vector":
        s, es = s[..., None], es[..., None]
        return [elementwise_product(x0, s, e0, es) + eb + ex]
    return [elementwise_product(x0, s + b, e0, es + eb) + ex]


def _bilinear(op, vals, errs, outs):
    """A `rec.bilinear` marked for crossbars (pim.x_scale): each block of its weights
    (`_bilinear.blocks`) quantised as a crossbar matmul of its left fields, read back in pair
    order; then the product with the right factor as without crossbars."""
    if not X_SCALE.has(op):
        return _error_rec.bilinear(op, vals, errs, outs)
    exact(op, errs, 0, "crossbar weight")
    x, e = np.concatenate(vals[1:], axis=1), np.concatenate(errs[1:], axis=1)
    blocks, rows = bilinear.blocks(np.asarray(vals[0]), op.attrs["left"])
    ys, es = [], []
    for block in blocks:
        f, d = list(block.fields), block.w.shape[0]
        ys.append((np.asarray(x[:, f], np.float64) @ block.w).reshape(len(x), -1, d))
        es.append(_crossbar_linear(op, x[:, f], e[:, f], block.w).reshape(len(x), -1, d))
    left = np.concatenate(ys, axis=1)[:, rows], np.concatenate(es, axis=1)[:, rows]
    return _error_rec.bilinear(op, vals, errs, outs, left)


def _efc(op, vals, errs, outs):
    """An FC over the token axis: einsum('bfd,fg->bgd') (+ b [G, 1])."""
    bound = product_bound(lambda x, w: np.einsum("bfd,fg->bgd", x, w), vals[:2], errs[:2])
    return [bound + errs[2] if len(vals) == 3 else bound]


def _attention(op, vals, errs, outs):
    """Per head: q k^T scaled, plus the mask, softmax, times v; errors through each step."""
    for i in (1, 2, 3):
        exact(op, errs, i, "projection weight")
    x, (wq, wk, wv), ex = vals[0], vals[1:4], errs[0]
    heads, scale = op.attrs["heads"], op.attrs["scale"]
    b, f, _ = x.shape
    bias, e_bias = (vals[4], errs[4]) if op.arg("b") is not None else (np.zeros((3, 1)),) * 2
    mask = op.arg("mask") is not None and len(vals) - 1

    def split(a):
        return a.reshape(b, f, heads, -1).transpose(0, 2, 1, 3)

    q, k, v = (split(np.asarray(x, np.float64) @ w + c) for w, c in zip((wq, wk, wv), bias))
    eq, ek, ev = (split(ex @ np.abs(w) + ec) for w, ec in zip((wq, wk, wv), e_bias))
    scores = scale * (q @ np.swapaxes(k, -1, -2))
    e_scores = abs(scale) * _matmul_like(np.matmul, q, np.swapaxes(k, -1, -2), eq,
                                         np.swapaxes(ek, -1, -2))
    if mask:  # an additive mask (the last operand): its own error adds to the scores'
        scores, e_scores = scores + vals[mask], e_scores + errs[mask]
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    with np.errstate(over="ignore"):
        ep = p * np.expm1(2 * e_scores.max(-1, keepdims=True))
    out = _matmul_like(np.matmul, p, v, ep, ev)
    return [out.transpose(0, 2, 1, 3).reshape(outs[0].shape)]


def _embedding_bag(op, vals, errs, outs):
    """Rows of a table (a constant: exact) by exact indices; a table that carries error
    pools its errors as the bag pools rows (sum, mean, max are 1-Lipschitz per element)."""
    exact(op, errs, 1, "indices")
    exact(op, errs, 2, "offsets")
    return [np.abs(np.asarray(evaluate(op, [errs[0], *vals[1:]], cast=False)[0], np.float64))]


def _zero(op, vals, errs, outs):
    return [np.zeros(o.shape) for o in outs]


def _refusal(why: str) -> Rule:
    def rule(op, vals, errs, outs):
        refuse(op, why)
    return rule


# Ops whose results cannot carry error whatever their operands carry, and why.
NO_ERROR: dict[type[Op], str] = {
    nn.Constant: "a literal: exact by definition",
    nn_shape.Shape: "reads only the (static) shape of its operand, never its values",
    nn_shape.Size: "reads only the (static) size of its operand, never its values",
}
# Ops that may carry error but have no sound local rule, and why (a refusal names the op).
REFUSED: dict[type[Op], str] = {
    **{t: "bit operations on integers that carry error have no useful bound"
       for t in (nn.Bitshift, nn.BitshiftRight, nn.BitwiseAnd, nn.BitwiseOr, nn.BitwiseXor)},
    **{t: "a recurrence compounds its step's error over the sequence; bound it per step "
          "once recurrent ops are lowered" for t in (nn_seq.Rnn, nn_seq.Gru, nn_seq.Lstm)},
    pim.Gather: "a bank shard reads a constant table by exact indices; an operand carrying "
                "error here means the lowering went wrong",
}

RULES: dict[type[Op], Rule] = {
    **elementwise.RULES, **tensor.RULES, **_error_rec.RULES,
    **{t: _zero for t in NO_ERROR}, **{t: _refusal(why) for t, why in REFUSED.items()},
    nn.Add: _sum, nn.Sub: _sum, nn.Mul: _mul, nn.Div: _div, nn.MatMul: _matmul,
    rec.DotInteraction: _dot, rec.FM: _fm, rec.Gating: _gating, rec.Dense: _dense,
    rec.Cross: _cross, rec.EFC: _efc, rec.Attention: _attention, rec.Bilinear: _bilinear,
    rec.EmbeddingBag: _embedding_bag, rec.Gru: gru_bound,
    pim.MVM: _mvm, pim.Combine: _combine, pim.Load: tensor.on_errors,
    pim.Transfer: tensor.on_errors,
}
