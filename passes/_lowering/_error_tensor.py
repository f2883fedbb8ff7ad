"""Error-bound rules of the `nn` ops over whole axes: products and contractions, reductions,
normalisations, selections by rank (topk, argmax) and index-driven movement.

Index operands (gather, scatter, embedding lookups) must be exact: an index that may change
moves a value by an amount no local rule can bound, so such an op is refused by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import combinations

import numpy as np

from ir.core import Op
from ir.dialects import nn, nn_index, nn_shape
from ir.errors import PimcError
from ir.interp import evaluate

Rule = Callable[[Op, list, list, list], list]
_F64 = np.float64


def refuse(op: Op, why: str) -> None:
    raise PimcError(f"error bound: no sound rule for {op.name} here: {why}", "error_bound")


def exact(op: Op, errs: list, index: int, what: str) -> None:
    """Refuse when operand `index` (an index or a parameter the rule takes as exact) carries
    error."""
    if index < len(errs) and np.any(errs[index]):
        refuse(op, f"its {what} (operand {index}) carries error")


def on_errors(op, vals, errs, outs):
    """Ops that copy elements of their data operands or add them with weights 1 (reshape,
    slice, concat, reduce_sum, max of several, ...): the same op applied to the errors. For
    max this holds because it is 1-Lipschitz in the largest coordinate change and the max of
    the errors is that change; min is not such an op (see `_largest_error`). The errors stay
    float64 (not cast to the value's type: a float32 sum or copy of them could round a bound
    down)."""
    data = range(len(vals)) if isinstance(op, (nn_shape.Concat, nn.Variadic)) else (0,)
    for i in range(len(vals)):
        if i not in data:
            exact(op, errs, i, "index or shape operand")
    arrays = [errs[i] if i in data else vals[i] for i in range(len(vals))]
    return [np.abs(np.asarray(a, _F64)) for a in evaluate(op, arrays, cast=False)]


def _largest_error(op, vals, errs, outs):
    """min (of several, or over axes): 1-Lipschitz in the largest coordinate change, so the
    largest error, not the smallest (applying min to the errors would give the smallest)."""
    if isinstance(op, nn.Variadic):
        worst = np.maximum.reduce(np.broadcast_arrays(*(np.asarray(e, _F64) for e in errs)))
        return [np.broadcast_to(worst, outs[0].shape)]
    return [_reduced(op, np.asarray(errs[0], _F64), np.max)]


def _pad(op, vals, errs, outs):
    """Pad copies elements (reflect, edge) or adds exact constants (zero error there)."""
    if op.attrs["mode"] != "constant":
        return on_errors(op, vals, errs, outs)
    zero_pad = type(op)(op.operands, {**op.attrs, "value": 0.0})
    return [np.abs(np.asarray(evaluate(zero_pad, [errs[0]], cast=False)[0], _F64))]


def _scatter(op, vals, errs, outs):
    """Scatter overwrites, adds, or takes max/min at exact indices: the same op on the errors;
    a product reduction multiplies errors and is refused."""
    exact(op, errs, 1, "indices")
    if op.attrs["reduction"] == "mul":
        refuse(op, "a product scatter of values carrying error")
    return [np.abs(np.asarray(evaluate(op, [errs[0], vals[1], errs[2]], cast=False)[0], _F64))]


def scaled_error(x, e):
    """|x| e, with an exact operand (e = 0) adding nothing even where x is infinite (an additive
    -inf attention mask): inf x 0 would make the whole bound NaN."""
    with np.errstate(invalid="ignore"):
        return np.where(e == 0, 0.0, np.abs(x) * e)


def elementwise_product(a, b, ea, eb):
    """|a~ b~ - a b| <= |a| eb + |b| ea + ea eb, elementwise (exact factors add nothing)."""
    return scaled_error(a, eb) + scaled_error(b, ea) + ea * eb


def product_bound(fn: Callable[..., np.ndarray], vals: list, errs: list) -> np.ndarray:
    """Bound on |fn(a~, b~, ...) - fn(a, b, ...)| for fn multilinear (a sum of products, like
    matmul or einsum): the sum, over every non-empty set S of operands, of fn with the errors
    of S in place of the operands and |operand| elsewhere."""
    mags = [np.abs(np.asarray(v, _F64)) for v in vals]
    out = 0.0
    for size in range(1, len(vals) + 1):
        for chosen in combinations(range(len(vals)), size):
            if all(np.any(errs[i]) for i in chosen):
                out = out + fn(*[errs[i] if i in chosen else mags[i]
                                 for i in range(len(vals))])
    return np.asarray(out, _F64)


def _einsum(op, vals, errs, outs):
    eq = op.attrs["equation"].replace(" ", "")
    bound = product_bound(lambda *xs: np.einsum(eq, *xs), vals, errs)
    return [np.broadcast_to(bound, outs[0].shape)]


def _gemm(op, vals, errs, outs):
    a, b = vals[:2]
    ea, eb = errs[:2]
    if op.attrs["trans_a"]:
        a, ea = a.T, ea.T
    if op.attrs["trans_b"]:
        b, eb = b.T, eb.T
    bound = abs(op.attrs["alpha"]) * product_bound(np.matmul, [a, b], [ea, eb])
    if len(vals) == 3:
        bound = bound + abs(op.attrs["beta"]) * np.asarray(errs[2], _F64)
    return [np.broadcast_to(bound, outs[0].shape)]


def _axes(op: Op) -> tuple[int, ...]:
    return op.reduced_axes()


def _reduced(op: Op, a: np.ndarray, how=np.sum) -> np.ndarray:
    return how(a, axis=_axes(op), keepdims=op.attrs["keepdims"])


def _reduce_l1(op, vals, errs, outs):
    """| |x~|_1 - |x|_1 | <= sum e (triangle inequality)."""
    return [_reduced(op, np.asarray(errs[0], _F64))]


def _reduce_l2(op, vals, errs, outs):
    """| |x~|_2 - |x|_2 | <= |x~ - x|_2 <= |e|_2 (triangle inequality)."""
    return [np.sqrt(_reduced(op, np.square(np.asarray(errs[0], _F64))))]


def _reduce_sum_square(op, vals, errs, outs):
    x, e = np.abs(np.asarray(vals[0], _F64)), np.asarray(errs[0], _F64)
    return [_reduced(op, 2 * x * e + e * e)]


def _reduce_prod(op, vals, errs, outs):
    """|prod(x + d) - prod(x)| <= prod(|x| + e) - prod(|x|)."""
    x, e = np.abs(np.asarray(vals[0], _F64)), np.asarray(errs[0], _F64)
    return [np.maximum(_reduced(op, x + e, np.prod) - _reduced(op, x, np.prod), 0.0)]


def _largest_over_axes(op, vals, errs, outs):
    """log-sum-exp is 1-Lipschitz in the largest coordinate change."""
    return [_reduced(op, np.asarray(errs[0], _F64), np.max)]


def _log_softmax(op, vals, errs, outs):
    """x_i - lse(x): e_i + max e along the axis."""
    e = np.asarray(errs[0], _F64)
    return [e + np.max(e, axis=op.attrs["axis"], keepdims=True)]


def _softmax(op, vals, errs, outs):
    """y_i~ / y_i lies in [exp(-2 E), exp(2 E)] with E the largest error along the axis."""
    worst = np.max(errs[0], axis=op.attrs["axis"], keepdims=True)
    with np.errstate(over="ignore"):
        return [np.abs(np.asarray(outs[0], _F64)) * np.expm1(2 * worst)]


def _layer_norm(op, vals, errs, outs):
    """(x - mean) / sqrt(var + eps) * scale + bias over the axes from `axis` on. With c the
    centred input: |dc| <= e + mean(e) = ec; |dvar| <= mean(2 |c| ec + ec^2) = ev; the new
    deviation lies in [s_lo, s_hi] = sqrt(max(var -+ ev, 0) + eps); then
    |c~/s~ - c/s| <= ec / s_lo + |c| max(1/s_lo - 1/s, 1/s - 1/s_hi). A normalised element
    never exceeds sqrt(n - 1) in magnitude (n elements normalised together; the most one
    element can stand out), so the error is at most sqrt(n - 1) + |c/s| however small the
    variance may get within the input's error (a tiny eps otherwise leaves 1/sqrt(eps))."""
    x = np.asarray(vals[0], _F64)
    scale = np.asarray(vals[1], _F64)
    axes = tuple(range(op.attrs["axis"] % x.ndim, x.ndim))
    e = np.asarray(errs[0], _F64)
    c = x - x.mean(axis=axes, keepdims=True)
    ec = e + e.mean(axis=axes, keepdims=True)
    var = (c * c).mean(axis=axes, keepdims=True)
    ev = (2 * np.abs(c) * ec + ec * ec).mean(axis=axes, keepdims=True)
    eps = op.attrs["epsilon"]
    s, s_lo, s_hi = (np.sqrt(np.maximum(v, 0.0) + eps) for v in (var, var - ev, var + ev))
    most = np.sqrt(max(math.prod(x.shape[a] for a in axes) - 1, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        norm_err = np.minimum(
            ec / s_lo + np.abs(c) * np.maximum(1 / s_lo - 1 / s, 1 / s - 1 / s_hi),
            most + np.abs(c) / s)
    # eps = 0 and a variance the error may erase: the row may turn constant (0/0), unbounded
    norm_err = np.where(s_lo > 0, norm_err, np.inf)
    with np.errstate(divide="ignore"):  # s_lo = 0: the cap `most` takes over
        bound = norm_err * np.abs(scale) + np.minimum((np.abs(c) + ec) / s_lo, most) * errs[1]
    if len(vals) == 3:
        bound = bound + errs[2]
    return [np.broadcast_to(bound, outs[0].shape)]


def _batch_norm(op, vals, errs, outs):
    """Affine per channel: the error times |scale / sqrt(var + eps)|."""
    for i, what in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var")):
        exact(op, errs, i, what)
    _, scale, _, _, var = vals
    zeros = np.zeros_like(scale)
    return [np.abs(np.asarray(evaluate(op, [errs[0], scale, zeros, zeros, var], cast=False)[0],
                                 _F64))]


def _rank_range(x: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per element of the last axis, the fewest and the most other elements that can rank
    above it once every element may move within its error (ties may break either way)."""
    lo, hi = x - e, x + e
    other = ~np.eye(x.shape[-1], dtype=bool)
    surely = ((lo[..., None, :] > hi[..., :, None]) & other).sum(-1)
    maybe = ((hi[..., None, :] >= lo[..., :, None]) & other).sum(-1)
    return surely, maybe


def _farthest(cand: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """max |j - i| over candidates j (cand [.., n, k]) of each float-run index i ([.., k])."""
    j = np.arange(cand.shape[-2])[:, None]
    return np.max(np.where(cand, np.abs(j - idx[..., None, :]), 0), axis=-2).astype(_F64)


def _topk(op, vals, errs, outs):
    """Values: the r-th largest moves by at most the largest error along the axis (sorting
    is 1-Lipschitz in that norm). Indices: position r may hold any element whose rank can be
    r; the bound is the farthest such index from the float run's."""
    axis, k = op.attrs["axis"] % np.ndim(vals[0]), op.attrs["k"]
    sign = 1.0 if op.attrs["largest"] else -1.0
    x = np.moveaxis(sign * np.asarray(vals[0], _F64), axis, -1)
    e = np.moveaxis(np.asarray(errs[0], _F64), axis, -1)
    values = np.broadcast_to(np.max(e, axis=-1, keepdims=True), x.shape[:-1] + (k,))
    surely, maybe = _rank_range(x, e)
    r = np.arange(k)
    cand = (surely[..., None] <= r) & (r <= maybe[..., None])  # [.., n, k]
    idx = np.moveaxis(np.asarray(outs[1]), axis, -1)
    return [np.moveaxis(values, -1, axis), np.moveaxis(_farthest(cand, idx), -1, axis)]


def _argmax(op, vals, errs, outs):
    """The index of the largest (smallest) element: any element that can come first."""
    axis = op.attrs["axis"] % np.ndim(vals[0])
    sign = -1.0 if isinstance(op, nn.ArgMin) else 1.0
    x = np.moveaxis(sign * np.asarray(vals[0], _F64), axis, -1)
    e = np.moveaxis(np.asarray(errs[0], _F64), axis, -1)
    surely, _ = _rank_range(x, e)
    idx = np.asarray(outs[0]).reshape(x.shape[:-1] + (1,))
    return [_farthest((surely == 0)[..., None], idx).reshape(outs[0].shape)]


def _matmul(op, vals, errs, outs):
    return [product_bound(np.matmul, vals, errs)]


MOVES = (nn.Identity, nn.Dropout, nn.ReduceSum, nn.ReduceMean, nn.ReduceMax, nn.Max, nn.Sum,
         nn.Mean, nn.CumSum, nn_shape.Reshape, nn_shape.Transpose,
         nn_shape.Squeeze, nn_shape.Unsqueeze, nn_shape.Flatten, nn_shape.Expand,
         nn_shape.Tile, nn_shape.Slice, nn_shape.Split, nn_shape.Concat, nn_shape.Trilu,
         nn_index.Gather, nn_index.GatherND, nn_index.GatherElements)

RULES: dict[type[Op], Rule] = {
    **{t: on_errors for t in MOVES}, nn.Min: _largest_error, nn.ReduceMin: _largest_error,
    nn_shape.Pad: _pad, nn_index.ScatterElements: _scatter, nn_index.ScatterND: _scatter,
    nn.Einsum: _einsum, nn.Gemm: _gemm, nn.MatMul: _matmul,
    nn.ReduceL1: _reduce_l1, nn.ReduceL2: _reduce_l2, nn.ReduceSumSquare: _reduce_sum_square,
    nn.ReduceProd: _reduce_prod, nn.ReduceLogSumExp: _largest_over_axes,
    nn.Softmax: _softmax, nn.LogSoftmax: _log_softmax, nn.LayerNorm: _layer_norm,
    nn.BatchNorm: _batch_norm, nn_shape.TopK: _topk, nn.ArgMax: _argmax, nn.ArgMin: _argmax,
}
