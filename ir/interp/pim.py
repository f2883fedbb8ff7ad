"""Reference semantics of the `pim` dialect: integer crossbar arithmetic as the hardware
does it (bit-serial inputs, bit-sliced weights, ADC clipping and rounding, shift-and-add)."""

from __future__ import annotations

import math

import numpy as np

from ir.dialects import pim
from ir.interp import _conform, evaluate, semantics, together
from ir.interp._blocks import TOGETHER, row_blocks, weight_constant
from ir.interp._fast_mvm import cached_block_plan, cached_plan, exact_enough, fast_crossbar_mvm

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


@together(pim.MVM)
def _row_blocks(graph) -> dict[int, object]:
    """The tiles of each row block (``_blocks.row_blocks``) with constant weights, on the fast
    path, worked out as one: the input quantised once, one product against the block's weight
    plan (the tiles' plans side by side), each tile's columns scaled by its own step. Every
    number on the fast path is an exact integer until that scaling, so each tile's result is
    the one `mvm` gives it alone, bit for bit."""
    keys = row_blocks(graph, TOGETHER)
    blocks: dict[tuple, list] = {}
    for op in graph.ops:
        if id(op) in keys:
            blocks.setdefault(keys[id(op)], []).append(op)
    out: dict[int, object] = {}
    for ops in blocks.values():
        consts = [weight_constant(op) for op in ops]
        a = ops[0].attrs
        if None in consts or not exact_enough(a["rows"][1] - a["rows"][0], a):
            continue
        block = _Block(tuple(ops), consts)
        out.update((id(op), block.result) for op in ops)
    return out


class _Block:
    """One row block's tiles: the first to be evaluated works out all of them (their weights
    are constants, there whatever the order), the others take theirs."""

    def __init__(self, ops: tuple, consts: list) -> None:
        self.ops, self.consts = ops, consts
        self.done: dict[int, np.ndarray] | None = None

    def result(self, op: pim.MVM, arrays: list) -> list[np.ndarray]:
        if self.done is None:
            self.done = self._all(arrays[0])
        return [_conform(op, op.results[0], self.done.pop(id(op)))]

    def _all(self, x: np.ndarray) -> dict[int, np.ndarray]:
        a = self.ops[0].attrs
        r0, r1 = a["rows"]
        xq = quantize(x[..., r0:r1], a["x_scale"], a["a_bits"])
        ws = tuple(evaluate(c, [])[0] for c in self.consts)
        cols = [w.shape[1] for w in ws]

        def per_column(values: list[float]) -> np.ndarray:  # each tile's value on its columns
            return np.repeat(np.array(values, np.float64), cols)

        steps = [op.attrs["w_scale"] for op in self.ops]
        plan = cached_block_plan(self.ops, ws, lambda: quantize(
            np.concatenate(ws, axis=1), per_column(steps), a["w_bits"]), a)
        acc = fast_crossbar_mvm(xq.reshape(-1, r1 - r0), plan, a)
        # x_scale * w_scale per tile, as `mvm` takes it, then on that tile's columns
        out = (acc * per_column([a["x_scale"] * s for s in steps])).astype(x.dtype)
        ends = np.cumsum(cols)
        return {id(op): out[:, end - n:end].reshape(x.shape[:-1] + (n,))
                for op, n, end in zip(self.ops, cols, ends.tolist())}


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
