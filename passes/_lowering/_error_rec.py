"""Error-bound rules of the pairwise and mixture `rec` ops (see `passes.error_bound`).

Same contract as `error_bound_rules`: (op, operand values, their error bounds, results) ->
bounds of the results, every bound a worst case over all perturbations within the inputs'.
"""

from __future__ import annotations

import numpy as np

from ir.dialects import rec
from ir.interp.rec import bilinear_left, pair_factors
from passes._lowering._error_elementwise import monotone_of
from passes._lowering._error_tensor import elementwise_product, product_bound

__all__ = ["RULES", "bilinear", "mixture_cross"]


def _reduced(op, e):
    return e.sum(axis=-1) if op.attrs["reduce"] else e


def _pairwise(op, vals, errs, outs):
    (a, b), (ea, eb) = pair_factors(op, vals), pair_factors(op, errs)
    return [_reduced(op, elementwise_product(a, b, ea, eb))]


def bilinear(op, vals, errs, outs, left=None):
    """The left factor through its weight is multilinear in (factor, weight), unless `left`
    gives its values and bounds (on crossbars, see `error_bound_rules`); then a product with
    the right factor."""
    (a, b), (ea, eb) = pair_factors(op, vals[1:]), pair_factors(op, errs[1:])
    if left is None:
        left = (bilinear_left(np.asarray(a, np.float64), vals[0]),
                product_bound(bilinear_left, [a, vals[0]], [ea, errs[0]]))
    return [_reduced(op, elementwise_product(left[0], b, left[1], eb))]


def _softmax(g: np.ndarray) -> np.ndarray:
    e = np.exp(g - g.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _probabilities(g, eg):
    """Gate probabilities move by at most p (e^(2d) - 1) when every logit moves by at most d
    (the attention rule's bound)."""
    p = _softmax(np.asarray(g, np.float64))
    with np.errstate(over="ignore"):
        return p, p * np.expm1(2 * eg.max(axis=-1, keepdims=True))


def _moe(op, vals, errs, outs):
    """Softmax probabilities as `_probabilities`; then sum_e p_e x_e is bilinear in (p, x)."""
    (g, x), (eg, ex) = vals, errs
    p, ep = _probabilities(g, eg) if op.attrs["softmax"] else (g, eg)
    return [product_bound(lambda s, t: np.einsum("be,beh->bh", s, t), [p, x], [ep, ex])]


def _stage(x, ex, w, ew, tanh: bool):
    """x @ w (multilinear in x, w), through tanh (monotone) when asked: (value, bound)."""
    y = np.asarray(x, np.float64) @ w
    ey = product_bound(np.matmul, [x, w], [ex, ew])
    return (np.tanh(y), monotone_of(np.tanh, y, ey)) if tanh else (y, ey)


def mixture_cross(op, vals, errs, outs):
    """A mixture `rec.cross`: each expert's three stages as `_stage`, the product with x0 and
    the gate's probabilities as products, plus x."""
    (x0, x, w, b, c, u, g), (e0, ex, ew, eb, ec, eu, eg) = vals, errs
    p, ep = _probabilities(np.asarray(x, np.float64) @ g, product_bound(np.matmul, [x, g],
                                                                       [ex, eg]))
    total = ex
    for e in range(w.shape[0]):
        h, eh = _stage(x, ex, w[e], ew[e], True)
        h, eh = _stage(h, eh, c[e], ec[e], True)
        y, ey = _stage(h, eh, u[e], eu[e], False)
        z, ez = x0 * (y + b), elementwise_product(x0, y + b, e0, ey + eb)
        total = total + elementwise_product(p[..., e:e + 1], z, ep[..., e:e + 1], ez)
    return [total]


RULES = {rec.Pairwise: _pairwise, rec.Bilinear: bilinear, rec.MoE: _moe}
