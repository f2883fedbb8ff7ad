"""The crossbar MVM of `ir.interp.pim` folded into a few matrix multiplies, exactly.

The reference (`crossbar_mvm`) loops over input digits, weight digits and signs, and converts
every digit-by-digit column sum through the ADC. Here every input digit plane (both signs)
is stacked into the rows of one matrix and every weight digit plane (both signs, or the offset
column) into the columns of another, so one BLAS product gives every column sum at once; the
ADC is applied elementwise, and the shifted, signed planes are summed with their weights.
Where the ADC resolves every level it is the identity, and the whole sum collapses to
`xq @ wq`.

Exact, not close: every number on the way is an integer, and `exact_enough` admits a tile
only when the largest of them stays below 2^53, where float64 adds integers without rounding in
any order. Tiles beyond that (wide operands at 32 bits) take the reference path. The
plan of the weight side (digit planes and their weights) depends only on the weights and the
attributes, so it is built once per op and kept in a small cache.
"""

from __future__ import annotations

import math
import operator
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

__all__ = ["WeightPlan", "cached_block_plan", "cached_plan", "exact_enough",
           "fast_crossbar_mvm", "weight_plan"]

_EXACT_BITS = 53  # float64 holds every integer below 2^53 exactly
_CHUNK = 1 << 22  # column sums held at once (32 MiB of float64); larger batches go in chunks
_CACHE_BYTES = 64 << 20  # weight plans kept across calls
_WEIGHT_KEYS = ("w_bits", "w_scale", "cell_bits", "signed", "dac_bits", "adc_bits")


def _digits(u: np.ndarray, bits: int, width: int) -> list[np.ndarray]:
    """Unsigned integers split into `width`-bit digits, least significant first."""
    return [np.floor(u / 2.0 ** (k * width)) % 2 ** width
            for k in range(math.ceil(bits / width))]


def _full_scale(rows: int, a: dict) -> int:
    return rows * (2 ** a["dac_bits"] - 1) * (2 ** a["cell_bits"] - 1)


def lossless(rows: int, a: dict) -> bool:
    """Whether the ADC resolves every level a column of `rows` rows can reach."""
    return _full_scale(rows, a) <= 2 ** a["adc_bits"] - 1


def exact_enough(rows: int, a: dict) -> bool:
    """Whether every integer of the reference and of this path stays below 2^53: an ADC code
    is at most 2 * (full + 1), the shifted digits multiply it by at most 2^(a-1) * 2^w, and
    four signed passes and the offset add three more bits."""
    n_x = math.ceil((a["a_bits"] - 1) / a["dac_bits"]) * a["dac_bits"]
    n_w = math.ceil(a["w_bits"] / a["cell_bits"]) * a["cell_bits"]
    top = math.log2(2 * (_full_scale(rows, a) + 1)) + n_x + n_w + 3
    return top < _EXACT_BITS


@dataclass(frozen=True)
class WeightPlan:
    """The weight side of one tile: quantised weights, stacked digit planes and their weights."""

    wq: np.ndarray  # [rows, cols] quantised weights (integers as float64)
    planes: np.ndarray  # [rows, n_planes * cols (+ 1 offset column)] digits, side by side
    weights: np.ndarray  # [n_planes] signed shift of each plane
    offset: float  # the offset column's weight (0 for differential pairs)
    lossless: bool  # the ADC resolves every level: no planes, the product is xq @ wq

    @property
    def nbytes(self) -> int:
        return self.wq.nbytes + self.planes.nbytes


def weight_plan(wq: np.ndarray, a: dict) -> WeightPlan:
    """Digit planes of the crossbar columns that hold `wq` under the target's signed scheme
    (none where the ADC is lossless: the product needs only `wq` there)."""
    if lossless(wq.shape[0], a):
        return WeightPlan(wq, wq[:, :0], np.zeros(0), 0.0, True)
    cell = a["cell_bits"]
    if a["signed"] == "differential":
        sides = ((np.maximum(wq, 0), 1.0), (np.maximum(-wq, 0), -1.0))
        mag_bits, extra, offset = a["w_bits"] - 1, [], 0.0
    else:  # offset: w + 2^(b-1) is unsigned in b bits; one column of ones subtracts it back
        offset = 2.0 ** (a["w_bits"] - 1)
        sides = ((wq + offset, 1.0),)
        mag_bits, extra = a["w_bits"], [np.ones((wq.shape[0], 1))]
    planes, weights = [], []
    for w, sign in sides:
        for j, digit in enumerate(_digits(w, mag_bits, cell)):
            planes.append(digit)
            weights.append(sign * 2.0 ** (j * cell))
    stacked = np.concatenate(planes + extra, axis=1) if planes or extra else wq[:, :0]
    return WeightPlan(wq, stacked, np.array(weights), offset, False)


def _input_planes(xq: np.ndarray, a: dict) -> tuple[np.ndarray, np.ndarray]:
    """Input digit planes of both signs stacked on a new first axis, and their weights."""
    dac = a["dac_bits"]
    planes, weights = [], []
    for x, sign in ((np.maximum(xq, 0), 1.0), (np.maximum(-xq, 0), -1.0)):
        for i, digit in enumerate(_digits(x, a["a_bits"] - 1, dac)):
            planes.append(digit)
            weights.append(sign * 2.0 ** (i * dac))
    return np.stack(planes), np.array(weights)


def _adc(sums: np.ndarray, full: int, bits: int) -> np.ndarray:
    """The reference ADC (`ir.interp.pim.adc`) for a lossy converter, in place."""
    levels = 2 ** bits - 1
    step = 2.0 ** (math.ceil(math.log2(full + 1)) - bits)
    np.rint(np.divide(sums, step, out=sums), out=sums)
    np.minimum(sums, levels, out=sums)
    return np.multiply(sums, step, out=sums)


def _lossy(xq: np.ndarray, plan: WeightPlan, a: dict) -> np.ndarray:
    """Every (input plane, weight plane) column sum through the ADC, shifted and summed."""
    xs, xw = _input_planes(xq, a)
    rows, cols = plan.wq.shape
    n_w = len(plan.weights)
    sums = np.matmul(xs.reshape(-1, rows), plan.planes)  # one product, not one per plane
    sums = sums.reshape(len(xw), len(xq), -1)  # [input planes, batch, n_w * cols (+ 1)]
    _adc(sums, _full_scale(rows, a), a["adc_bits"])
    body = sums[..., :n_w * cols].reshape(len(xw), len(xq), n_w, cols)
    out = np.tensordot(plan.weights, np.tensordot(xw, body, axes=(0, 0)), axes=(0, 1))
    if plan.offset:
        out -= plan.offset * (xw @ sums[..., -1])[:, None]
    return out


def _input_digits(a: dict) -> int:
    return math.ceil((a["a_bits"] - 1) / a["dac_bits"])


def fast_crossbar_mvm(xq: np.ndarray, plan: WeightPlan, a: dict) -> np.ndarray:
    """Integer `xq [batch, rows] @ wq` as `crossbar_mvm` computes it, bit for bit, for a
    tile `exact_enough` admits."""
    cols = plan.wq.shape[1]
    if plan.lossless:
        return np.matmul(xq, plan.wq) + 0.0  # + 0.0: no negative zeros, as the reference
    if not _input_digits(a) or not plan.planes.shape[1]:  # nothing reaches a column
        return np.zeros((len(xq), cols))
    step = max(1, _CHUNK // (2 * _input_digits(a) * plan.planes.shape[1]))
    parts = [_lossy(xq[s:s + step], plan, a) for s in range(0, len(xq), step)]
    return np.concatenate(parts) + 0.0 if parts else np.zeros((0, cols))


_PLANS: OrderedDict[tuple, tuple[object, np.ndarray, WeightPlan]] = OrderedDict()
_HELD = [0]  # bytes of the plans in _PLANS


def cached_plan(op: object, w: np.ndarray, wq_of, a: dict) -> WeightPlan:
    """The weight plan of `op` on weights `w`, built once (`wq_of(w)` quantises) and kept
    while the cache's byte budget allows; a different array or attributes is a new plan."""
    return _cached((op,), (w,), (a,), lambda: weight_plan(wq_of(w), a))


def cached_block_plan(ops: tuple, ws: tuple, wq_of, a: dict) -> WeightPlan:
    """The weight plan of tiles `ops` (one row block, sharing `a` but their `w_scale`) on
    their weights `ws` side by side, as `cached_plan` keeps one; `wq_of()` gives their
    quantised weights side by side. A column of it is the column of its tile's own plan:
    every digit plane is worked out per weight, and the offset column (a row's sum) is the
    same for each tile."""
    return _cached(ops, ws, tuple(op.attrs for op in ops), lambda: weight_plan(wq_of(), a))


def _cached(ops: tuple, ws: tuple, attrs: tuple, build) -> WeightPlan:
    key = tuple(map(id, ops)) + tuple(map(id, ws)) + tuple(
        at[k] for at in attrs for k in _WEIGHT_KEYS)
    hit = _PLANS.get(key)  # ids are reused after collection: the objects themselves must match
    if hit is not None and all(map(operator.is_, hit[0], ops)) and all(
            map(operator.is_, hit[1], ws)):
        _PLANS.move_to_end(key)
        return hit[2]
    plan = build()
    if hit is not None:
        _HELD[0] -= hit[2].nbytes
    _PLANS[key] = (ops, ws, plan)
    _HELD[0] += plan.nbytes
    while _HELD[0] > _CACHE_BYTES and len(_PLANS) > 1:
        _, (_, _, old) = _PLANS.popitem(last=False)
        _HELD[0] -= old.nbytes
    return plan
