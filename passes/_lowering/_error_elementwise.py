"""Error-bound rules of the elementwise `nn` ops (see `passes.error_bound` for the contract).

A rule gets the op, its operands' float values, their error bounds and its float results, and
returns a bound per result. Booleans carry a flag (1 where the value may differ from the float
run, 0 where it cannot); integers carry a bound on the integer difference.

One-operand real functions are bounded by what f does on [x - e, x + e]: for a function that
is monotone between known turning points (and poles), the largest |f(y) - f(x)| on the interval
is reached at an end, at a turning point inside it, or at a one-sided limit at a jump: those
candidates are evaluated exactly. An interval that meets a pole or leaves the domain gets an
infinite bound (the functional check then fails closed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np

from ir.core import Op
from ir.dialects import nn
from ir.interp import evaluate

Rule = Callable[[Op, list, list, list], list]
_F64 = np.float64


def _eval(op: Op, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(evaluate(op, [np.asarray(x, _F64)])[0], _F64)


def _worst(fx: np.ndarray, candidates: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """max |f(c) - f(x)| over the candidates (value, where it applies); NaN means inf."""
    out = np.zeros(np.shape(fx))
    with np.errstate(all="ignore"):
        for fc, inside in candidates:
            gap = np.where(inside, np.abs(fc - fx), 0.0)
            out = np.maximum(out, np.where(np.isnan(gap) & inside, np.inf, gap))
    return out


def monotone_of(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                e: np.ndarray) -> np.ndarray:
    """Worst |f(x + d) - f(x)| over |d| <= e for a monotone f: reached at an end."""
    with np.errstate(all="ignore"):
        fx = fn(x)
        return _worst(fx, [(fn(x + e), True), (fn(x - e), True)])


def between(points: Callable[[Op], tuple[float, ...]],
            poles: Callable[[Op], tuple[float, ...]] = lambda op: ()) -> Rule:
    """A rule for f monotone between the turning points (or jumps) `points(op)`; a jump's
    one-sided limits are covered by also evaluating just beside each point."""

    def rule(op, vals, errs, outs):
        x, e = np.asarray(vals[0], _F64), np.asarray(errs[0], _F64)
        lo, hi = x - e, x + e
        fx = _eval(op, x)
        cands = [(_eval(op, lo), True), (_eval(op, hi), True)]
        for p in points(op):
            for q in (np.nextafter(p, -np.inf), p, np.nextafter(p, np.inf)):
                cands.append((_eval(op, np.full(x.shape, q)), (lo <= q) & (q <= hi)))
        bound = _worst(fx, cands)
        for p in poles(op):
            bound = np.where((lo <= p) & (p <= hi), np.inf, bound)
        return [bound]

    return rule


monotone = between(lambda op: ())


def _periodic_poles(op: Op, x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Whether [x - e, x + e] meets a pole of tan (pi/2 + k pi)."""
    k_lo = np.floor((x - e) / math.pi - 0.5)
    k_hi = np.floor((x + e) / math.pi - 0.5)
    return k_lo != k_hi


def _tan(op, vals, errs, outs):
    bound = monotone(op, vals, errs, outs)[0]
    return [np.where(_periodic_poles(op, vals[0], errs[0]), np.inf, bound)]


def _lipschitz(constant: float, spread: float) -> Rule:
    """|f(y) - f(x)| <= constant |y - x|, and never more than the range of f (`spread`)."""

    def rule(op, vals, errs, outs):
        return [np.minimum(constant * np.asarray(errs[0], _F64), spread)]

    return rule


@cache
def _minimum_of(fn: Callable[[float], float], lo: float, hi: float) -> float:
    """Where a unimodal fn has its minimum on [lo, hi] (golden-section, to float precision)."""
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        lo, hi = (lo, b) if fn(a) < fn(b) else (a, hi)
    return (lo + hi) / 2


def _gelu_turn(op: Op) -> tuple[float, ...]:
    if op.attrs["approximate"] == "tanh":
        def fn(x):
            return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    else:
        def fn(x):
            return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))
    return (_minimum_of(fn, -3.0, 0.0),)


def _mish_turn(op: Op) -> tuple[float, ...]:
    return (_minimum_of(lambda x: x * math.tanh(math.log1p(math.exp(x))), -3.0, 0.0),)


def _flag(may_change: np.ndarray) -> np.ndarray:
    return np.asarray(may_change, _F64)


def _compare(op, vals, errs, outs):
    """A comparison may flip where the two intervals touch."""
    (a, b), (ea, eb) = vals, errs
    room = np.asarray(ea, _F64) + eb
    with np.errstate(invalid="ignore"):
        flip = (room > 0) & ~(np.abs(np.asarray(a, _F64) - b) > room)
    return [np.broadcast_to(_flag(flip), outs[0].shape)]


def _any_flag(op, vals, errs, outs):
    """Logic on flags: any operand that may flip may flip the result."""
    return [np.broadcast_to(_flag(np.maximum.reduce(np.broadcast_arrays(*errs)) > 0),
                            outs[0].shape)]


def _same_error(op, vals, errs, outs):
    """not, bitwise not (-x - 1), neg: the error moves through unchanged."""
    return [np.broadcast_to(errs[0], outs[0].shape)]


def _non_finite_test(op, vals, errs, outs):
    """isnan / isinf flip only where x +- e is not finite."""
    x, e = np.asarray(vals[0], _F64), np.asarray(errs[0], _F64)
    with np.errstate(all="ignore"):
        return [_flag(~(np.isfinite(x - e) & np.isfinite(x + e)) & (e > 0))]


def _where(op, vals, errs, outs):
    """where(c, a, b): with c certain, the chosen side's error; where c may flip, the other
    side is possible too, |b~ - a| <= |b - a| + e(b)."""
    (c, a, b), (ec, ea, eb) = vals, errs
    certain = np.where(c, ea, eb)
    with np.errstate(invalid="ignore"):
        flipped = np.abs(np.asarray(a, _F64) - b) + np.maximum(ea, eb)
    return [np.broadcast_to(np.where(np.asarray(ec) > 0, flipped, certain), outs[0].shape)]


def _pow(op, vals, errs, outs):
    """a^b: with b exact, f(a) = a^b is monotone (odd powers, a > 0) or convex (even powers)
    on an interval, so its ends bound it; 0 is a pole for b < 0, and a < 0 with a fractional
    power gives NaN (an infinite bound). With b uncertain too, a^b is monotone in each
    argument for a > 0, so the box's corners bound it."""
    (a, b), (ea, eb) = [np.broadcast_arrays(*(np.asarray(v, _F64) for v in p))
                        for p in (vals, errs)]
    with np.errstate(all="ignore"):
        fx = np.power(a, b)
        corners = [(np.power(a + sa * ea, b + sb * eb), True)
                   for sa in (-1, 1) for sb in (-1, 1)]
        bound = _worst(fx, corners)
    meets_zero = (a - ea <= 0) & (0 <= a + ea)
    bad = meets_zero & ((b - eb < 0) | (eb > 0)) | ((a - ea < 0) & (eb > 0))
    return [np.broadcast_to(np.where(bad, np.inf, bound), outs[0].shape)]


def _mod(op, vals, errs, outs):
    """fmod / mod by an exact b jump at the multiples of b: between jumps the error moves
    through; across one, anything within the result's range (|fmod| < |b|)."""
    (a, b), (ea, eb) = vals, errs
    a, b, ea = (np.asarray(v, _F64) for v in (a, b, ea))
    step = np.abs(b)
    with np.errstate(all="ignore"):
        # a multiple of b anywhere in the closed interval (at an end too: fmod's value at a
        # negative multiple is the limit from the other side)
        jumps = np.ceil((a - ea) / step) <= np.floor((a + ea) / step)
        bound = np.where(jumps, 2 * step, ea)
    return [np.broadcast_to(np.where(np.asarray(eb) > 0, np.inf, bound), outs[0].shape)]


def _prelu(op, vals, errs, outs):
    """x if x >= 0 else s x: piecewise linear in x (its two slopes meet at 0), plus the
    slope's error times how negative x can be."""
    (x, s), (ex, es) = vals, errs
    x, s, ex = np.broadcast_arrays(np.asarray(x, _F64), np.asarray(s, _F64),
                                   np.asarray(ex, _F64))

    def f(v):
        return np.where(v < 0, v * s, v)

    lo, hi = x - ex, x + ex
    bound = _worst(f(x), [(f(lo), True), (f(hi), True), (np.zeros_like(x), (lo <= 0) & (hi >= 0))])
    return [np.broadcast_to(bound + np.maximum(-lo, 0) * es, outs[0].shape)]


def _cast(op, vals, errs, outs):
    """Casts: to a float at least as wide, unchanged; to a narrower float, plus its rounding;
    to an integer, truncation (monotone, so the ends bound it); to bool, a flag."""
    to = np.dtype(outs[0].dtype)
    x, e = np.asarray(vals[0], _F64), np.asarray(errs[0], _F64)
    if to.kind == "b":
        return [_flag((e > 0) & (np.abs(x) <= e))]
    if to.kind == "f":
        ulp = 0.0 if to.itemsize >= np.dtype(vals[0].dtype).itemsize else \
            (np.abs(x) + e) * float(np.finfo(to).eps)  # both roundings, half an ulp each
        return [e + ulp]
    return monotone(op, vals, errs, outs)


MONOTONE = (nn.Relu, nn.Sigmoid, nn.Tanh, nn.Exp, nn.Log, nn.Sqrt, nn.Softplus, nn.Erf,
            nn.Neg, nn.Clip, nn.HardSigmoid, nn.Softsign, nn.Floor, nn.Ceil, nn.Round,
            nn.Sign, nn.Asin, nn.Acos, nn.Atan, nn.Sinh, nn.Asinh, nn.Acosh, nn.Atanh)

RULES: dict[type[Op], Rule] = {
    **{t: monotone for t in MONOTONE},
    # turning points (a kink or a minimum) and jumps
    nn.Abs: between(lambda op: (0.0,)), nn.Cosh: between(lambda op: (0.0,)),
    nn.LeakyRelu: between(lambda op: (0.0,)), nn.Elu: between(lambda op: (0.0,)),
    nn.Selu: between(lambda op: (0.0,)), nn.Celu: between(lambda op: (0.0,)),
    nn.HardSwish: between(lambda op: (-1.5,)), nn.Gelu: between(_gelu_turn),
    nn.Mish: between(_mish_turn),
    nn.ThresholdedRelu: between(lambda op: (0.0, op.attrs["alpha"])),
    nn.Shrink: between(lambda op: (-op.attrs["lambd"], op.attrs["lambd"])),
    nn.Reciprocal: between(lambda op: (), lambda op: (0.0,)),
    nn.Tan: _tan, nn.Sin: _lipschitz(1.0, 2.0), nn.Cos: _lipschitz(1.0, 2.0),
    nn.Pow: _pow, nn.Mod: _mod, nn.Fmod: _mod, nn.Prelu: _prelu, nn.Cast: _cast,
    nn.Where: _where,
    **{t: _compare for t in (nn.Equal, nn.Less, nn.Greater, nn.LessOrEqual,
                             nn.GreaterOrEqual)},
    nn.And: _any_flag, nn.Or: _any_flag, nn.Xor: _any_flag,
    nn.Not: _same_error, nn.BitwiseNot: _same_error,
    nn.IsNan: _non_finite_test, nn.IsInf: _non_finite_test,
}
