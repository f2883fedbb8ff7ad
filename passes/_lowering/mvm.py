"""One weight matrix as `pim.mvm` tiles: one tile per row block (the rows one crossbar takes),
over as many crossbars side by side as its columns need, the row tiles summed by
`pim.combine`; a constant per tile. On streamed targets every tile is one crossbar, loaded by a
`pim.load`, and the column tiles are concatenated by `pim.combine`.

A row block's crossbars read the same input rows at the same time, so they are one op: a
matrix of R x C crossbars is R ops, not R x C (nasrec-float candidates on isaac: 1k-15k ops
of one crossbar each, against 67-225 row blocks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, pim
from ir.dialects.pim_attrs import UNIT
from ir.interp.quant import weight_scale
from passes._lowering.geometry import Geometry, spans

__all__ = ["Crossbar", "tile_matrix"]


@dataclass(frozen=True)
class Crossbar:
    """How one op's matrices go onto crossbars."""

    geo: Geometry
    w_bits: int
    a_bits: int
    x_scale: float
    streamed: bool = False


class _Tiles:
    """The ops of one matrix's tiles. Tiles share every attribute but their place (and a weight
    its data, a load its bytes), so the first op of each class is built in full and the others
    as its variants (`Op.variant`), which normalise only what differs."""

    def __init__(self, name: str, cb: Crossbar, w_scale: float) -> None:
        self.name, self.cb, self.w_scale = name, cb, w_scale
        self.ops: list[Op] = []
        self.first: dict[type[Op], Op] = {}

    def _add(self, cls: type[Op], operands: list[Value], attrs: dict, changes: tuple) -> Op:
        first = self.first.get(cls)
        if first is None:
            op = self.first[cls] = cls(operands, attrs)
        else:
            op = first.variant(operands, {key: attrs[key] for key in changes})
        self.ops.append(op)
        return op

    def weight(self, tile: np.ndarray) -> Value:
        cb = self.cb
        const = self._add(nn.Constant, [], {"value": tile,  # a view of the matrix, no copy
                                            UNIT.name: "none"}, ("value",))
        if not cb.streamed:
            return const.result
        return self._add(pim.Load, [const.result], {
            "op": self.name, "bytes": math.ceil(tile.size * cb.w_bits / 8),
            UNIT.name: "crossbar"}, ("bytes",)).result

    def mvm(self, x: Value, w: Value, index: tuple[int, int], rows: tuple[int, int],
            cols: tuple[int, int]) -> Value:
        cb, g = self.cb, self.cb.geo
        op = self._add(pim.MVM, [x, w], {
            "op": self.name, "tile": index, "rows": rows, "cols": cols,
            "w_bits": cb.w_bits, "a_bits": cb.a_bits, "cell_bits": g.cell_bits,
            "dac_bits": g.dac_bits, "adc_bits": g.adc_bits, "signed": g.signed,
            "x_scale": cb.x_scale, "w_scale": self.w_scale, UNIT.name: "crossbar",
            "crossbar_cols": g.cols if cols[1] - cols[0] > g.cols else 0},
            ("tile", "rows", "cols", "crossbar_cols"))
        op.results[0].type = op.results[0].type.with_bits(cb.a_bits)
        return op.result

    def combine(self, parts: list[Value], mode: str) -> Value:
        if len(parts) == 1:
            return parts[0]
        op = pim.Combine(parts, {"op": self.name, "mode": mode, UNIT.name: "digital"})
        self.ops.append(op)
        return op.result


def tile_matrix(x: Value, w: np.ndarray, name: str, cb: Crossbar,
                per_crossbar: bool = False) -> tuple[list[Op], Value]:
    """Ops computing x[..., :in] @ w ([in, out]) on crossbars, and the value they produce;
    with `per_crossbar` (always on streamed targets) one tile per crossbar."""
    tiles = _Tiles(name, cb, weight_scale(w, cb.w_bits))
    # column blocks: the whole width, or one crossbar's on streamed targets, where tiles take
    # turns in the crossbars (a row block may need more at once than the chip has)
    width = cb.geo.cols if cb.streamed or per_crossbar else w.shape[1]
    columns = []
    for j, cols in enumerate(spans(w.shape[1], width)):
        parts = [tiles.mvm(x, tiles.weight(w[rows[0]:rows[1], cols[0]:cols[1]]), (i, j), rows,
                           cols)
                 for i, rows in enumerate(spans(w.shape[0], cb.geo.rows))]
        columns.append(tiles.combine(parts, "sum"))
    return tiles.ops, tiles.combine(columns, "concat")
