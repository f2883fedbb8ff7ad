"""The crossbar tiles of a row block share their input's part of the error bound
(``passes.error_bound._row_blocks``), and those whose weights are constants are worked out
together (``_block``: their weights side by side): the walk gives the bound each tile's own
rule gives, on compiled programs and on hand-built ones where tiles read the same value at
other rows, other input precisions, or once directly and once through a copy. A product of
the weights side by side may sum in another order than a tile's alone, so values and bounds
agree to the last bits (relative 1e-12), with infinities and NaNs in the same places."""

from pathlib import Path

import numpy as np
import pytest

import passes.error_bound as eb
from compiler.driver import compile as compile_model
from ir.core import Graph, Module, Value
from ir.dialects import pim
from ir.types import TensorType
from passes._lowering.geometry import Geometry
from passes._lowering.mvm import Crossbar, tile_matrix

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


def _both(module: Module, feed: dict, monkeypatch) -> tuple[list, list]:
    """The bound with row blocks shared, and with every tile through its own rule."""
    shared = eb.error_bound(module, feed)
    with monkeypatch.context() as m:
        m.setattr(eb, "_row_blocks", lambda graph: {})
        alone = eb.error_bound(module, feed)
    return shared, alone


def _same(a: list, b: list) -> bool:
    return all(x.shape == y.shape and np.array_equal(np.isfinite(x), np.isfinite(y)) and
               np.allclose(x, y, rtol=1e-12, atol=0.0, equal_nan=True)
               for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("fixture, target", [("deepctr_dcnmix_legacy", "isaac"),
                                             ("deepctr_autoint_legacy", "hetero")])
def test_a_compiled_program_is_bounded_as_tile_by_tile(fixture, target, monkeypatch):
    out = compile_model(str(ONNX / f"{fixture}.onnx"), target, batch=8, check="none")
    blocks = eb._row_blocks(out.module.main)
    assert len(blocks) > len(set(blocks.values())) > 1  # several blocks of several tiles
    reads: dict[tuple, set] = {}
    for op in out.module.main.ops:
        if id(op) in blocks:
            reads.setdefault(blocks[id(op)], set()).add(op.operands[0])
    assert any(len(r) > 1 for r in reads.values())  # blocks whose tiles read through copies
    shared, alone = _both(out.module, out.inputs, monkeypatch)
    assert _same(shared, alone)


def _crossbar(a_bits: int = 8, x_scale: float = 0.02) -> Crossbar:
    return Crossbar(Geometry(4, 3, 2, 1, 8, "offset"), 8, a_bits, x_scale)


def _feed(shape, seed=0):
    return {"x": np.random.default_rng(seed).normal(size=shape).astype(np.float32)}


@pytest.mark.parametrize("other", [_crossbar(a_bits=4), _crossbar(x_scale=0.03)],
                         ids=["a_bits", "x_scale"])
def test_tiles_of_the_same_rows_at_another_input_precision_do_not_share(other, monkeypatch):
    x = Value(TensorType((2, 8), "f32"), name="x")
    rng = np.random.default_rng(1)
    ops1, y1 = tile_matrix(x, rng.normal(size=(8, 6)).astype(np.float32), "d0", _crossbar())
    ops2, y2 = tile_matrix(x, rng.normal(size=(8, 6)).astype(np.float32), "d1", other)
    module = Module("m", [Graph("main", [x], ops1 + ops2, [y1, y2])])
    shared, alone = _both(module, _feed((2, 8)), monkeypatch)
    assert _same(shared, alone)


def test_tiles_of_other_rows_do_not_share(monkeypatch):
    x = Value(TensorType((2, 8), "f32"), name="x")
    w = np.random.default_rng(2).normal(size=(8, 6)).astype(np.float32)
    # rows 0:4 and 4:8, two tiles of one crossbar each
    ops, y = tile_matrix(x, w, "d0", _crossbar(), per_crossbar=True)
    module = Module("m", [Graph("main", [x], ops, [y])])
    assert len(set(eb._row_blocks(module.main).values())) == 2
    feed = _feed((2, 8))
    feed["x"][:, :4] *= 40  # the first row block clips, the second does not
    shared, alone = _both(module, feed, monkeypatch)
    assert _same(shared, alone)


def test_a_tile_reading_a_value_directly_and_one_through_a_copy_do_not_share(monkeypatch):
    # the float program keeps a tile's result in float64; a copy casts it to its type
    x = Value(TensorType((2, 4), "f32"), name="x")
    rng = np.random.default_rng(3)
    first, _ = tile_matrix(x, rng.normal(size=(4, 3)).astype(np.float32), "d0", _crossbar())
    tile = next(op for op in first if isinstance(op, pim.MVM))
    ops = [op for op in first if op is tile or op.results[0] in tile.operands]
    copy = pim.Transfer([tile.result], {"src": 0, "dst": 1, "bytes": 24, "hops": 1})
    w = rng.normal(size=(3, 3)).astype(np.float32)
    direct, y1 = tile_matrix(tile.result, w, "d1", _crossbar(x_scale=0.05))
    moved, y2 = tile_matrix(copy.result, w, "d2", _crossbar(x_scale=0.05))
    module = Module("m", [Graph("main", [x], ops + [copy] + direct + moved, [y1, y2])])
    assert eb._row_blocks(module.main) == {}  # one tile each: same rows, same precision
    shared, alone = _both(module, _feed((2, 4)), monkeypatch)
    assert _same(shared, alone)


def _tiles(module: Module) -> dict[tuple, list]:
    blocks = eb._row_blocks(module.main)
    out: dict[tuple, list] = {}
    for op in module.main.ops:
        if id(op) in blocks:
            out.setdefault(blocks[id(op)], []).append(op)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_a_row_block_worked_out_together_is_each_tile_by_its_rule(seed, monkeypatch):
    """`_block` against the `pim.mvm` rule of each tile alone, on random inputs and errors
    (inputs past the clipping range too): the tiles of three matrices that read the same
    rows of one input (as attention's projections do), each at its own weight step, one at
    other weight bits at a step that clips its largest weights (its own blocks: one rounding
    of them all would not clip it), on crossbars whose ADC does not resolve every column
    sum."""
    import passes._lowering.mvm as lowering
    from passes._lowering.error_bound_rules import adc_error, tile_bound

    rng = np.random.default_rng(seed)
    x = Value(TensorType((3, 8), "f32"), name="x")
    ops, outs = [], []
    for name, size, bits, step in (("q", 0.5, 8, 1.0), ("k", 4.0, 8, 1.0), ("v", 1.0, 4, 0.4)):
        w = (rng.normal(size=(8, 7)) * size).astype(np.float32)
        cb = Crossbar(Geometry(4, 3, 2, 1, 3, "offset"), bits, 8, 0.02)
        with monkeypatch.context() as m:
            m.setattr(lowering, "weight_scale", lambda w, bits, real=lowering.weight_scale,
                      step=step: real(w, bits) * step)
            made, y = tile_matrix(x, w, name, cb, per_crossbar=True)
        ops += made
        outs.append(y)
    module = Module("m", [Graph("main", [x], ops, outs)])
    checked = 0
    blocks = _tiles(module).values()
    # q and k share their row blocks; v, at other weight bits, is a block of its own
    assert sorted((len(t), len({op.attrs["w_scale"] for op in t})) for t in blocks) == \
        [(3, 1), (3, 1), (6, 2), (6, 2)]
    for tiles in blocks:
        assert adc_error(tiles[0].attrs, 4) > 0
        value = rng.normal(size=(3, 8)) * 3
        err = np.abs(rng.normal(size=(3, 8))) * 0.05 * (rng.uniform(size=(3, 8)) < 0.7)
        side = eb._block_input(tiles[0], value, err)
        got = eb._block(tiles, side)
        for op in tiles:
            weights = op.operands[1].owner.attrs["value"]
            want_value = side.x @ np.asarray(weights, np.float64)
            want_bound = tile_bound(op, side, weights)
            assert _same([got[id(op)][0], got[id(op)][1]], [want_value, want_bound])
            checked += 1
    assert checked == 18  # each of the 3 matrices' 6 tiles (2 row blocks x 3 columns)


def test_a_tile_that_reads_its_weights_through_a_load_is_left_to_itself():
    """On a target that streams weights, a tile reads them through a `pim.load`: `_block`
    leaves it out (the walk bounds it by its own rule)."""
    x = Value(TensorType((2, 8), "f32"), name="x")
    w = np.random.default_rng(5).normal(size=(8, 6)).astype(np.float32)
    streamed = Crossbar(Geometry(4, 3, 2, 1, 8, "offset"), 8, 8, 0.02, streamed=True)
    ops, y = tile_matrix(x, w, "d0", streamed)
    module = Module("m", [Graph("main", [x], ops, [y])])
    tiles = next(iter(_tiles(module).values()))
    side = eb._block_input(tiles[0], np.ones((2, 8)), np.zeros((2, 8)))
    assert eb._block(tiles, side) == {}
