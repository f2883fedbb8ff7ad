"""The crossbar tiles of a row block share their input's part of the error bound
(``passes.error_bound._row_blocks``): the walk gives the bound each tile's own rule gives, bit
for bit, on compiled programs and on hand-built ones where tiles read the same value at other
rows, other input precisions, or once directly and once through a copy."""

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
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("fixture, target", [("deepctr_dcnmix_legacy", "isaac"),
                                             ("deepctr_fibinet_legacy", "hetero")])
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
    ops, y = tile_matrix(x, w, "d0", _crossbar())  # rows 0:4 and 4:8, two column blocks each
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
