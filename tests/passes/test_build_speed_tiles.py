"""A matrix's tiles, built as variants of its first tile, are the ops the op-by-op construction
builds: same classes, attributes (values, types, order), operands, weights and result types."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ir.core import Op, Value
from ir.dialects import nn, pim
from ir.dialects.pim_attrs import UNIT
from ir.interp.quant import weight_scale
from ir.types import TensorType
from passes._lowering.geometry import Geometry, spans
from passes._lowering.mvm import Crossbar, tile_matrix


def _reference(x: Value, w: np.ndarray, name: str, cb: Crossbar) -> tuple[list[Op], Value]:
    """Every op constructed in full, one tile after another."""
    ops: list[Op] = []
    g, w_scale = cb.geo, weight_scale(w, cb.w_bits)

    def combine(parts: list[Value], mode: str) -> Value:
        if len(parts) == 1:
            return parts[0]
        ops.append(pim.Combine(parts, {"op": name, "mode": mode, UNIT.name: "digital"}))
        return ops[-1].result

    # a row block's crossbars are one tile; on streamed targets each crossbar is its own
    width = g.cols if cb.streamed else w.shape[1]
    columns = []
    for j, cols in enumerate(spans(w.shape[1], width)):
        parts = []
        for i, rows in enumerate(spans(w.shape[0], g.rows)):
            tile = w[rows[0]:rows[1], cols[0]:cols[1]]
            const = nn.Constant(attrs={"value": tile})  # a view of the matrix, as tiled
            UNIT.set(const, "none")
            ops.append(const)
            wv = const.result
            if cb.streamed:
                ops.append(pim.Load([wv], {"op": name, "bytes": math.ceil(tile.size * cb.w_bits
                                                                          / 8),
                                           UNIT.name: "crossbar"}))
                wv = ops[-1].result
            mvm = pim.MVM([x, wv], {
                "op": name, "tile": [i, j], "rows": list(rows), "cols": list(cols),
                "w_bits": cb.w_bits, "a_bits": cb.a_bits, "cell_bits": g.cell_bits,
                "dac_bits": g.dac_bits, "adc_bits": g.adc_bits, "signed": g.signed,
                "x_scale": cb.x_scale, "w_scale": w_scale, UNIT.name: "crossbar",
                "crossbar_cols": g.cols if cols[1] - cols[0] > g.cols else 0})
            mvm.results[0].type = mvm.results[0].type.with_bits(cb.a_bits)
            ops.append(mvm)
            parts.append(mvm.result)
        columns.append(combine(parts, "sum"))
    return ops, combine(columns, "concat")


def _attr(value):
    if isinstance(value, np.ndarray):
        return value.dtype, value.shape, value.tobytes(), value.flags.c_contiguous
    return repr(value), type(value), tuple(type(v) for v in value) \
        if isinstance(value, tuple) else None


def _assert_same(x: Value, got: tuple[list[Op], Value], want: tuple[list[Op], Value]) -> None:
    (ops, out), (ref, ref_out) = got, want
    assert [type(o) for o in ops] == [type(o) for o in ref]
    index = {id(x): "x"}
    for k, (a, b) in enumerate(zip(ops, ref)):
        assert list(a.attrs) == list(b.attrs)
        assert [_attr(v) for v in a.attrs.values()] == [_attr(v) for v in b.attrs.values()]
        assert [index[id(v)] for v in a.operands] == [index[id(v)] for v in b.operands]
        assert [r.type for r in a.results] == [r.type for r in b.results]
        assert [r.owner for r in a.results] == [a] and a.meta == {}
        index[id(a.results[0])] = index[id(b.results[0])] = k
    assert index[id(out)] == index[id(ref_out)] and out.type == ref_out.type


@pytest.mark.parametrize("shape, geo_rows, geo_cols", [
    ((7, 5), 3, 2), ((64, 64), 64, 64), ((130, 70), 16, 32), ((1, 9), 4, 4), ((9, 1), 2, 8),
])
@pytest.mark.parametrize("streamed", [False, True])
def test_tiles_are_the_op_by_op_construction(shape, geo_rows, geo_cols, streamed):
    x = Value(TensorType((3, shape[0] + 2), "f32"), name="x")
    w = np.random.default_rng(shape[0]).normal(size=shape).astype(np.float32)
    cb = Crossbar(Geometry(geo_rows, geo_cols, 2, 1, 8, "offset"), 8, 6, np.float64(0.02),
                  streamed)
    _assert_same(x, tile_matrix(x, w, "dense1", cb), _reference(x, w, "dense1", cb))


@pytest.mark.parametrize("streamed", [False, True])
def test_every_tile_is_a_view_of_the_matrix_not_a_copy(streamed):
    x = Value(TensorType((2, 40), "f32"), name="x")
    w = np.random.default_rng(1).normal(size=(30, 40)).astype(np.float32).T  # [40, 30], F order
    cb = Crossbar(Geometry(16, 8, 2, 1, 8, "offset"), 8, 6, np.float64(0.02), streamed)
    ops, _ = tile_matrix(x, w, "dense1", cb)
    tiles = [o.attrs["value"] for o in ops if isinstance(o, nn.Constant)]
    assert len(tiles) == (3 * 4 if streamed else 3)
    assert all(np.shares_memory(t, w) for t in tiles)
    mvms = [o for o in ops if isinstance(o, pim.MVM)]
    for t, mvm in zip(tiles, mvms):
        (r0, r1), (c0, c1) = mvm.attrs["rows"], mvm.attrs["cols"]
        assert np.array_equal(t, w[r0:r1, c0:c1])


def test_a_matrix_tiled_after_another_takes_nothing_from_it():
    x = Value(TensorType((2, 8), "f32"), name="x")
    a = np.arange(64, dtype=np.float32).reshape(8, 8)
    tile_matrix(x, a, "m0", Crossbar(Geometry(4, 4, 2, 1, 8, "differential"), 8, 8, 0.5))
    cb = Crossbar(Geometry(3, 3, 1, 2, 6, "offset"), 4, 6, 0.25, True)
    got = tile_matrix(x, a[::-1] / 3, "m1", cb)
    _assert_same(x, got, _reference(x, a[::-1] / 3, "m1", cb))
    assert {o.attrs["w_bits"] for o in got[0] if isinstance(o, pim.MVM)} == {4}
