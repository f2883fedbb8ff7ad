"""Tiles cover every weight matrix exactly once, fit the arrays, and compute x @ w."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ir.core import Graph, Module, Value
from ir.dialects import pim
from ir.interp import run
from ir.types import TensorType
from passes._lowering.geometry import Geometry, geometry, lossless_rows, spans
from passes._lowering.mvm import Crossbar, tile_matrix
from passes.error_bound import error_bound
from targets import load_target
from targets._geometry import columns_per_weight


def _tiles(shape, geo, w_bits=8, streamed=False):
    x = Value(TensorType((2, shape[0]), "f32"), name="x")
    w = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    ops, out = tile_matrix(x, w, "dense0", Crossbar(geo, w_bits, 8, 0.01, streamed))
    return x, w, ops, out


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 300), cols=st.integers(1, 300),
       tile_rows=st.sampled_from([1, 7, 64, 128]), tile_cols=st.sampled_from([1, 5, 16, 64]))
def test_tiles_cover_the_matrix_exactly_once(rows, cols, tile_rows, tile_cols):
    geo = Geometry(tile_rows, tile_cols, 2, 1, 8, "offset")
    _, w, ops, _ = _tiles((rows, cols), geo)
    seen = np.zeros((rows, cols), int)
    crossbars = set()
    for op in ops:
        if isinstance(op, pim.MVM):
            (r0, r1), (c0, c1) = op.attrs["rows"], op.attrs["cols"]
            per = op.attrs["crossbar_cols"] or c1 - c0
            assert r1 - r0 <= tile_rows and per <= tile_cols
            assert op.crossbars == -(-(c1 - c0) // per)
            np.testing.assert_array_equal(op.operands[1].owner.attrs["value"], w[r0:r1, c0:c1])
            seen[r0:r1, c0:c1] += 1
            i, j = op.attrs["tile"]
            crossbars |= {(i, j + x) for x in range(op.crossbars)}
    assert (seen == 1).all()
    # one tile per row block, over the crossbars its columns need
    assert sum(isinstance(op, pim.MVM) for op in ops) == len(spans(rows, tile_rows))
    assert len(crossbars) == len(spans(rows, tile_rows)) * len(spans(cols, tile_cols))


@settings(max_examples=30, deadline=None)
@given(target=st.sampled_from(["isaac", "puma", "hetero", "zigzag-aimc", "zigzag-dimc"]),
       w_bits=st.sampled_from([4, 8, 16]), rows=st.sampled_from(["lossless", "full", "3"]))
def test_tile_geometry_fits_the_arrays(target, w_bits, rows):
    t = load_target(target)
    array, pe = t.chip.tile.pe.array, t.chip.tile.pe
    geo = geometry(t, w_bits, rows)
    extra = 0 if array.signed_weights == "differential_pair" else 1
    assert geo.cols * columns_per_weight(array, w_bits) + extra <= array.columns
    assert 1 <= geo.rows <= array.rows
    if rows == "lossless" and pe.adc is not None:
        assert geo.rows * (2 ** geo.dac_bits - 1) * (2 ** geo.cell_bits - 1) <= 2 ** geo.adc_bits - 1
        assert geo.rows == min(array.rows, lossless_rows(geo.dac_bits, geo.cell_bits, geo.adc_bits))


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 20), signed=st.sampled_from(["offset", "differential"]),
       adc=st.sampled_from([4, 8]))
def test_tiles_compute_x_times_w_within_the_bound(rows, cols, signed, adc):
    geo = Geometry(8, 6, 2, 1, adc, signed)
    x, w, ops, out = _tiles((rows, cols), geo)
    graph = Graph("main", [x], ops, [out])
    feed = {"x": np.random.default_rng(1).normal(size=(2, rows)).astype(np.float32)}
    for op in ops:  # a calibrated scale for this input
        if isinstance(op, pim.MVM):
            op.attrs["x_scale"] = float(np.abs(feed["x"]).max()) / 127
    got = run(graph, feed)[0]
    bound = error_bound(Module("m", [graph]), feed)[0]
    assert (np.abs(got - feed["x"] @ w) <= bound).all()


def test_shards_balance_expected_lookups():
    from passes._lowering.embedding import bounds

    assert bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    profile = np.array([90, 5, 5, 0, 0, 0, 0, 0, 0, 0])  # one hot row: it gets a shard alone
    assert bounds(10, 2, profile) == [(0, 1), (1, 10)]
    assert bounds(2, 5) == [(0, 1), (1, 2)]  # never more shards than rows
