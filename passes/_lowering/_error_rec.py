"""Error-bound rules of the pairwise and mixture `rec` ops (see `passes.error_bound`).

Same contract as `error_bound_rules`: (op, operand values, their error bounds, results) ->
bounds of the results, every bound a worst case over all perturbations within the inputs'.
"""

from __future__ import annotations

import numpy as np

from ir.dialects import rec
from ir.interp.rec import bilinear_left, pair_factors
from passes._lowering._error_tensor import product_bound

__all__ = ["RULES"]


def _times(a, b, ea, eb):
    """|a~ b~ - a b| <= |a| eb + |b| ea + ea eb, elementwise."""
    return np.abs(a) * eb + np.abs(b) * ea + ea * eb


def _reduced(op, e):
    return e.sum(axis=-1) if op.attrs["reduce"] else e


def _pairwise(op, vals, errs, outs):
    (a, b), (ea, eb) = pair_factors(op, vals), pair_factors(op, errs)
    return [_reduced(op, _times(a, b, ea, eb))]


def _bilinear(op, vals, errs, outs):
    """The left factor through its weight is multilinear in (factor, weight); then a product
    with the right factor."""
    (a, b), (ea, eb) = pair_factors(op, vals[1:]), pair_factors(op, errs[1:])
    left = bilinear_left(np.asarray(a, np.float64), vals[0])
    e_left = product_bound(bilinear_left, [a, vals[0]], [ea, errs[0]])
    return [_reduced(op, _times(left, b, e_left, eb))]


def _softmax(g: np.ndarray) -> np.ndarray:
    e = np.exp(g - g.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _moe(op, vals, errs, outs):
    """Gate probabilities move by at most p (e^(2d) - 1) when every logit moves by at most d
    (the attention rule's bound); then sum_e p_e x_e is bilinear in (p, x)."""
    (g, x), (eg, ex) = vals, errs
    g = np.asarray(g, np.float64)
    if op.attrs["softmax"]:
        p = _softmax(g)
        with np.errstate(over="ignore"):
            ep = p * np.expm1(2 * eg.max(axis=-1, keepdims=True))
    else:
        p, ep = g, eg
    return [product_bound(lambda s, t: np.einsum("be,beh->bh", s, t), [p, x], [ep, ex])]


RULES = {rec.Pairwise: _pairwise, rec.Bilinear: _bilinear, rec.MoE: _moe}
