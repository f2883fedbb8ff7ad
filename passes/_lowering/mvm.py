"""One weight matrix as `pim.mvm` tiles: a constant per tile (through a `pim.load` on streamed
targets), row tiles summed and column tiles concatenated by `pim.combine`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ir.core import Op, Value
from ir.dialects import pim
from ir.dialects.pim_attrs import UNIT
from ir.interp.quant import weight_scale
from passes._lowering.geometry import Geometry, spans
from passes.rewrite import new_const

__all__ = ["Crossbar", "tile_matrix"]


@dataclass(frozen=True)
class Crossbar:
    """How one op's matrices go onto crossbars."""

    geo: Geometry
    w_bits: int
    a_bits: int
    x_scale: float
    streamed: bool = False


def _weight(tile: np.ndarray, name: str, cb: Crossbar, ops: list[Op]) -> Value:
    const = new_const(np.ascontiguousarray(tile))
    UNIT.set(const, "none")
    ops.append(const)
    if not cb.streamed:
        return const.result
    load = pim.Load([const.result], {"op": name, "bytes": math.ceil(tile.size * cb.w_bits / 8),
                                     UNIT.name: "crossbar"})
    ops.append(load)
    return load.result


def _mvm(x: Value, w: Value, name: str, index: tuple[int, int], rows, cols, cb: Crossbar,
         w_scale: float) -> Op:
    g = cb.geo
    return pim.MVM([x, w], {
        "op": name, "tile": list(index), "rows": list(rows), "cols": list(cols),
        "w_bits": cb.w_bits, "a_bits": cb.a_bits, "cell_bits": g.cell_bits,
        "dac_bits": g.dac_bits, "adc_bits": g.adc_bits, "signed": g.signed,
        "x_scale": cb.x_scale, "w_scale": w_scale, UNIT.name: "crossbar"})


def _combine(parts: list[Value], name: str, mode: str, ops: list[Op]) -> Value:
    if len(parts) == 1:
        return parts[0]
    op = pim.Combine(parts, {"op": name, "mode": mode, UNIT.name: "digital"})
    ops.append(op)
    return op.result


def tile_matrix(x: Value, w: np.ndarray, name: str, cb: Crossbar) -> tuple[list[Op], Value]:
    """Ops computing x[..., :in] @ w ([in, out]) on crossbars, and the value they produce."""
    ops: list[Op] = []
    w_scale = weight_scale(w, cb.w_bits)
    columns = []
    for j, cols in enumerate(spans(w.shape[1], cb.geo.cols)):
        parts = []
        for i, rows in enumerate(spans(w.shape[0], cb.geo.rows)):
            wv = _weight(w[rows[0]:rows[1], cols[0]:cols[1]], name, cb, ops)
            mvm = _mvm(x, wv, name, (i, j), rows, cols, cb, w_scale)
            mvm.results[0].type = mvm.results[0].type.with_bits(cb.a_bits)
            ops.append(mvm)
            parts.append(mvm.result)
        columns.append(_combine(parts, name, "sum", ops))
    return ops, _combine(columns, name, "concat", ops)
