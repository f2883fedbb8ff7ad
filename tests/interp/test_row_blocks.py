"""The interpreter works the tiles of a row block out as one (``ir.interp.pim._row_blocks``):
every tile's result is the one it gives alone, bit for bit, on compiled programs and on
hand-built ones with lossy ADCs, both signed schemes, a step of its own per tile, and tiles
that read the same rows at another precision or geometry; a changed step is a new plan."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import ir.interp as interp
from compiler.driver import compile as compile_model
from ir.core import Graph, Value
from ir.dialects import pim
from ir.types import TensorType
from passes._lowering.geometry import Geometry
from passes._lowering.mvm import Crossbar, tile_matrix

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


def _both(graph: Graph, feed: dict, monkeypatch) -> tuple[list, list]:
    """The outputs with row blocks worked out as one, and with every tile on its own."""
    together = interp.run(graph, feed)
    with monkeypatch.context() as m:
        m.setattr(interp, "_TOGETHER", {})
        alone = interp.run(graph, feed)
    return together, alone


def _same(a: list, b: list) -> bool:
    return all(x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
               for x, y in zip(a, b, strict=True))


def _blocked(graph: Graph) -> int:
    """How many tiles are worked out with others."""
    return len(interp._together(graph))


# a resident target's matrix is one tile per row block: blocks of several tiles are matrices
# that read the same rows (cross layers, attention's projections, experts)
@pytest.mark.parametrize("fixture, target", [("deepctr_dcnmix_legacy", "isaac"),
                                             ("deepctr_autoint_legacy", "hetero"),
                                             ("rechub_ple_legacy", "puma")])
def test_a_compiled_program_runs_as_tile_by_tile(fixture, target, monkeypatch):
    out = compile_model(str(ONNX / f"{fixture}.onnx"), target, batch=8, check="none")
    assert _blocked(out.module.main) > 2
    together, alone = _both(out.module.main, out.inputs, monkeypatch)
    assert _same(together, alone)


GEO = Geometry(8, 6, 2, 1, 4, "offset")  # 8 rows of 2-bit cells: 4 ADC bits clip and round


def _tiles(x: Value, w: np.ndarray, name: str, geo: Geometry = GEO, w_bits: int = 6,
           a_bits: int = 6, x_scale: float = 0.05) -> tuple[list, Value]:
    return tile_matrix(x, w, name, Crossbar(geo, w_bits, a_bits, x_scale), per_crossbar=True)


def _feed(shape: tuple, seed: int = 0) -> dict:
    return {"x": np.random.default_rng(seed).normal(size=shape).astype(np.float32)}


def _matrix(rows: int, cols: int, seed: int, **crossbar) -> tuple[Graph, list, dict]:
    """One rows x cols matrix's tiles on an input x [3, rows]: the graph, its ops, a feed."""
    x = Value(TensorType((3, rows), "f32"), name="x")
    w = np.random.default_rng(seed).normal(size=(rows, cols)).astype(np.float32)
    ops, y = _tiles(x, w, "d0", **crossbar)
    return Graph("main", [x], ops, [y]), ops, _feed((3, rows), seed + 1)


@pytest.mark.parametrize("signed", ["offset", "differential"])
@pytest.mark.parametrize("adc_bits", [4, 8], ids=["lossy", "lossless"])
def test_a_row_block_behind_any_adc_gives_each_tile_its_own_result(signed, adc_bits,
                                                                   monkeypatch):
    x = Value(TensorType((3, 16), "f32"), name="x")
    w = np.random.default_rng(1).normal(size=(16, 18)).astype(np.float32)
    ops, y = _tiles(x, w, "d0", replace(GEO, adc_bits=adc_bits, signed=signed))
    tiles = [op for op in ops if isinstance(op, pim.MVM)]
    for k, op in enumerate(tiles):  # a step of its own per tile
        op.attrs["w_scale"] *= 1 + k / 7
    graph = Graph("main", [x], ops, [y])
    assert _blocked(graph) == len(tiles) == 6  # two row blocks of three column blocks
    together, alone = _both(graph, _feed((3, 16)), monkeypatch)
    assert _same(together, alone)


@pytest.mark.parametrize("other", [
    {"geo": replace(GEO, adc_bits=5)}, {"geo": replace(GEO, cell_bits=1)},
    {"geo": replace(GEO, dac_bits=2)}, {"geo": replace(GEO, signed="differential")},
    {"w_bits": 5}, {"a_bits": 5}, {"x_scale": 0.07},
], ids=["adc_bits", "cell_bits", "dac_bits", "signed", "w_bits", "a_bits", "x_scale"])
def test_tiles_of_the_same_rows_that_differ_otherwise_are_not_one_block(other, monkeypatch):
    x = Value(TensorType((3, 8), "f32"), name="x")
    rng = np.random.default_rng(2)
    ops1, y1 = _tiles(x, rng.normal(size=(8, 6)).astype(np.float32), "d0")
    ops2, y2 = _tiles(x, rng.normal(size=(8, 6)).astype(np.float32), "d1", **other)
    graph = Graph("main", [x], ops1 + ops2, [y1, y2])
    assert _blocked(graph) == 0  # one tile each way: nothing shared
    together, alone = _both(graph, _feed((3, 8), 3), monkeypatch)
    assert _same(together, alone)


def test_tiles_of_other_rows_are_other_blocks(monkeypatch):
    graph, _, feed = _matrix(16, 12, 4)
    feed["x"][:, :8] *= 30  # the first row block clips, the second does not
    together, alone = _both(graph, feed, monkeypatch)
    assert _same(together, alone)


def test_a_changed_step_is_a_new_plan_on_the_next_run(monkeypatch):
    graph, ops, feed = _matrix(8, 12, 6)
    first = interp.run(graph, feed)
    tile = [op for op in ops if isinstance(op, pim.MVM)][-1]  # not the block's first
    tile.attrs["w_scale"] *= 3
    together, alone = _both(graph, feed, monkeypatch)
    assert _same(together, alone) and not _same(together, first)


def test_tiles_past_the_fast_paths_exact_range_are_not_one_block(monkeypatch):
    # 24-bit inputs and weights: the fast path could pass 2^53, so each tile takes the
    # digit-by-digit reference on its own
    graph, _, feed = _matrix(8, 12, 8, w_bits=24, a_bits=24, x_scale=1e-6)
    assert _blocked(graph) == 0
    together, alone = _both(graph, feed, monkeypatch)
    assert _same(together, alone)


def test_a_block_with_computed_weights_runs_tile_by_tile(monkeypatch):
    graph, ops, feed = _matrix(8, 12, 10)
    tile = [op for op in ops if isinstance(op, pim.MVM)][1]
    given = Value(tile.operands[1].type, name="w1")  # this tile's weights come as an input
    feed["w1"] = interp.evaluate(tile.operands[1].owner, [])[0]
    tile.operands[1] = given
    graph = Graph("main", [*graph.args, given], ops, graph.outputs)
    assert _blocked(graph) == 0
    together, alone = _both(graph, feed, monkeypatch)
    assert _same(together, alone)


def test_streamed_weights_are_followed_through_their_loads(monkeypatch):
    x = Value(TensorType((3, 8), "f32"), name="x")
    w = np.random.default_rng(12).normal(size=(8, 12)).astype(np.float32)
    ops, y = tile_matrix(x, w, "d0", Crossbar(GEO, 6, 6, 0.05, True))
    assert any(isinstance(op, pim.Load) for op in ops)
    graph, feed = Graph("main", [x], ops, [y]), _feed((3, 8), 13)
    assert _blocked(graph) == 2  # one row block of two tiles, their weights loaded
    together, alone = _both(graph, feed, monkeypatch)
    assert _same(together, alone)
