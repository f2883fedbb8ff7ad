"""Reference semantics of the `pim` dialect: integer crossbar arithmetic as the hardware
does it (bit-serial inputs, bit-sliced weights, ADC clipping and rounding, shift-and-add)."""

from __future__ import annotations

import math

import numpy as np

from ir.dialects import pim
from ir.interp import semantics
from ir.interp._fast_mvm import cached_plan, exact_enough, fast_crossbar_mvm

__all__ = ["quantize", "crossbar_mvm", "adc", "mvm"]


def quantize(v: np.ndarray, scale: float, bits: int) -> np.ndarray:
    """round(v / scale) clipped to the symmetric signed range of `bits` bits (as float64)."""
    q = 2 ** (bits - 1) - 1
    return np.clip(np.rint(np.asarray(v, np.float64) / scale), -q, q)


def adc(columns: np.ndarray, full_scale: int, bits: int) -> np.ndarray:
    """An ADC of `bits` reading column sums in 0..full_scale: exact when it resolves every
    level, else rounded to its step and clipped to its top code."""
    levels = 2 ** bits - 1
    if full_scale <= levels:
        return columns
    step = 2.0 ** (math.ceil(math.log2(full_scale + 1)) - bits)
    return np.minimum(np.rint(columns / step), levels) * step


def _slices(u: np.ndarray, bits: int, width: int) -> list[np.ndarray]:
    """Unsigned integers split into `width`-bit digits, least significant first."""
    return [np.floor(u / 2.0 ** (k * width)) % 2 ** width
            for k in range(math.ceil(bits / width))]


def _unsigned_mvm(x: np.ndarray, w: np.ndarray, a: dict) -> np.ndarray:
    """x (unsigned ints of a_bits-1 bits) times w (unsigned ints) through the crossbar."""
    w_mag_bits = a["w_mag_bits"]
    full = x.shape[-1] * (2 ** a["dac_bits"] - 1) * (2 ** a["cell_bits"] - 1)
    acc = np.zeros(x.shape[:-1] + (w.shape[1],))
    for i, xd in enumerate(_slices(x, a["a_bits"] - 1, a["dac_bits"])):
        for j, wd in enumerate(_slices(w, w_mag_bits, a["cell_bits"])):
            cols = adc(xd @ wd, full, a["adc_bits"])
            acc += cols * 2.0 ** (i * a["dac_bits"] + j * a["cell_bits"])
    return acc


def crossbar_mvm(xq: np.ndarray, wq: np.ndarray, attrs: dict) -> np.ndarray:
    """Integer x @ w on crossbars. Negative inputs take a second pass; signed weights use a
    differential pair of columns or an offset column, as the target says."""
    a = dict(attrs)
    xp, xn = np.maximum(xq, 0), np.maximum(-xq, 0)
    if a["signed"] == "differential":
        a["w_mag_bits"] = a["w_bits"] - 1
        wp, wn = np.maximum(wq, 0), np.maximum(-wq, 0)
        return sum(sx * sw * _unsigned_mvm(xs, ws, a)
                   for xs, sx in ((xp, 1), (xn, -1)) for ws, sw in ((wp, 1), (wn, -1)))
    # Offset: w + 2^(b-1) is unsigned in b bits; the offset column subtracts 2^(b-1) * sum(x).
    a["w_mag_bits"] = a["w_bits"]
    offset = 2.0 ** (a["w_bits"] - 1)
    wu = wq + offset
    ones = np.ones((wq.shape[0], 1))
    return sum(sx * (_unsigned_mvm(xs, wu, a) - offset * _unsigned_mvm(xs, ones, a))
               for xs, sx in ((xp, 1), (xn, -1)))


def mvm(op: pim.MVM, x: np.ndarray, w: np.ndarray, reference: bool = False) -> np.ndarray:
    """`pim.mvm` on arrays: the fast exact path (`_fast_mvm`) where it is exact, else (or
    with `reference`) the digit-by-digit loop above, which stays the oracle."""
    a = op.attrs
    r0, r1 = a["rows"]
    xq = quantize(x[..., r0:r1], a["x_scale"], a["a_bits"])
    flat = xq.reshape(-1, r1 - r0)
    if reference or not exact_enough(r1 - r0, a):
        acc = crossbar_mvm(flat, quantize(w, a["w_scale"], a["w_bits"]), a)
    else:
        plan = cached_plan(op, w, lambda v: quantize(v, a["w_scale"], a["w_bits"]), a)
        acc = fast_crossbar_mvm(flat, plan, a)
    acc = acc.reshape(x.shape[:-1] + (w.shape[1],))
    return (acc * (a["x_scale"] * a["w_scale"])).astype(x.dtype)


@semantics(pim.MVM)
def _mvm(op, x, w):
    return mvm(op, x, w)


def _pool(rows: np.ndarray, mode: str, axis: int) -> np.ndarray:
    return rows.max(axis=axis) if mode == "max" else rows.sum(axis=axis)


@semantics(pim.Gather)
def _gather(op, table, indices, offsets=None):
    r0, r1 = op.attrs["rows"]
    mode = op.attrs["mode"]
    inside = (indices >= r0) & (indices < r1)
    at = np.where(inside, indices - r0, table.shape[0])
    hot = np.asarray(op.attrs.get("hot") or (), np.int64)
    if hot.size:  # hot rows: served here only at this shard's turn of the flat positions
        is_hot = np.isin(indices, hot)
        turn = np.arange(indices.size).reshape(indices.shape) % op.attrs["turns"]
        mine = is_hot & (turn == op.attrs["shard"])
        copy = (r1 - r0) + np.searchsorted(hot, indices)
        at = np.where(is_hot, np.where(mine, copy, table.shape[0]), at)
    fill = -np.inf if mode == "max" else 0.0
    # only the looked-up rows are read (a table may be a memory-mapped production-size file):
    # positions served elsewhere (index table.shape[0]) take the fill
    away = at == table.shape[0]
    rows = np.asarray(table)[np.where(away, 0, at)] if table.shape[0] else \
        np.zeros(at.shape + table.shape[1:], table.dtype)
    rows[away] = fill
    if mode == "none":
        return rows
    if offsets is None:
        return _pool(rows, mode, indices.ndim - 1)
    bounds = [*offsets.tolist(), len(indices)]
    out = np.full((len(offsets), table.shape[1]), fill, table.dtype)
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        if hi > lo:
            out[i] = _pool(rows[lo:hi], mode, 0)
    return out


@semantics(pim.Combine)
def _combine(op, *parts):
    mode = op.attrs["mode"]
    if mode == "concat":
        out = np.concatenate(parts, axis=-1)
    elif mode == "max":  # a bag no shard saw (empty) pools to zero, as torch's does
        out = np.maximum.reduce(np.broadcast_arrays(*parts))
        out = np.where(np.isneginf(out), 0, out)
    else:
        out = sum(np.asarray(p, np.float64) for p in parts)
    return np.asarray(out * op.attrs["scale"], dtype=parts[0].dtype)


@semantics(pim.Transfer, pim.Load)
def _identity(op, x):
    return x
