"""rec.bilinear on crossbars: its distinct weights become blocks of pim.mvm tiles (per-pair
weights one block per left field, a shared weight one block for every left field), the
products with the right fields stay digital; the lowered program computes the op within its
error bound, calibration covers every operand with left fields, and a weight that is no
constant keeps the op digital."""

from __future__ import annotations

import numpy as np
import pytest

from ir.core import Graph, Module, Value
from ir.dialects import nn, nn_shape, pim, rec
from ir.dialects.pim_attrs import UNIT, X_SCALE
from ir.interp import run
from ir.interp.rec import bilinear_left
from ir.types import TensorType
from ir.verify import verify
from passes._costing.op_primitives import primitives
from passes._lowering._bilinear import blocks
from passes._lowering.kinds import kind_of, matrices
from passes._lowering.quantise import scale_for
from passes.error_bound import error_bound
from passes.manager import PassManager
from passes.pipeline import parse_pipeline
from targets import load_target
from targets.primitives import CrossbarMVM, VectorOp

from .conftest import compile_fixture, real_inputs

B, F, D = 3, 4, 4  # two operands of F fields each
LEFT = [0, 0, 1, 2, 4, 4, 5, 6]
RIGHT = [1, 2, 3, 3, 5, 6, 6, 7]
LOWER = "assign-precision{default=16},partition{target=%s},tile"


def _weight(kind: str) -> np.ndarray:
    rng = np.random.default_rng(1)
    if kind == "shared":
        return rng.standard_normal((D, D)).astype(np.float32)
    w = rng.standard_normal((len(LEFT), D, D)).astype(np.float32)
    if kind == "tied":  # the pairs of the second operand reuse the first's (FiBiNET's layer)
        w[4:] = w[:4]
    return w


def _module(kind: str, weight_is_input: bool = False, scale2: float = 1.0,
            reduce: bool = False) -> Module:
    w_value = _weight(kind)
    xs = [Value(TensorType((B, F, D), "f32"), name=f"x{i}") for i in range(2)]
    g = Graph("main", list(xs))
    if weight_is_input:
        w = Value(TensorType(w_value.shape, "f32"), name="w")
        g.args.append(w)
    else:
        w = g.append(nn.Constant([], {"value": w_value})).result
    x2 = xs[1]
    if scale2 != 1.0:
        x2 = g.append(nn.Mul([x2, g.append(nn.Constant(
            [], {"value": np.asarray(scale2, np.float32)})).result])).result
    op = g.append(rec.Bilinear([w, xs[0], x2], {"left": LEFT, "right": RIGHT,
                                                 "reduce": reduce}))
    g.outputs, g.output_names = [op.result], ["y"]
    m = Module("m", [g])
    verify(m)
    return m


def _feed(m: Module, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {a.name: rng.standard_normal(a.type.shape).astype(np.float32) for a in m.main.args}


def _lower(m: Module, target: str) -> Module:
    PassManager(parse_pipeline(LOWER % target)).run(m)
    return m


@pytest.mark.parametrize("kind, count", [("shared", 1), ("per_pair", 6), ("tied", 3)])
def test_blocks_stack_the_weights_that_read_the_same_left_fields(kind, count):
    w = _weight(kind)
    got, rows = blocks(w, LEFT)
    assert len(got) == count
    distinct = 1 if kind == "shared" else 4 if kind == "tied" else len(LEFT)
    assert sum(b.w.shape[1] for b in got) == distinct * D  # each distinct weight once
    if kind == "shared":
        assert got[0].fields == tuple(sorted(set(LEFT)))
    if kind == "tied":  # fields 0 and 4 read the same two weights: one block
        assert got[0].fields == (0, 4) and got[0].w.shape == (D, 2 * D)
    x = np.random.default_rng(2).standard_normal((B, 2 * F, D))
    stacked = np.concatenate([(x[:, list(b.fields)] @ b.w).reshape(B, -1, D) for b in got],
                             axis=1)
    want = bilinear_left(x[:, LEFT], w.astype(np.float64))
    np.testing.assert_allclose(stacked[:, rows], want, rtol=1e-12)


@pytest.mark.parametrize("target", ["isaac", "hetero"])
@pytest.mark.parametrize("kind", ["shared", "per_pair", "tied"])
@pytest.mark.parametrize("reduce", [False, True])
def test_lowered_bilinear_runs_its_weights_on_crossbars_within_the_bound(kind, target,
                                                                         reduce):
    m = _module(kind, reduce=reduce)
    feed = _feed(m)
    want = run(m.main, feed)[0]
    ms = matrices(m.main.ops[-1])
    _lower(m, target)
    ops = m.main.ops
    assert not [op for op in ops if isinstance(op, rec.Bilinear)]
    mvms = [op for op in ops if isinstance(op, pim.MVM)]
    assert {op.attrs["op"] for op in mvms} == {f"bilinear0{mat.suffix}" for mat in ms}
    assert all(UNIT.of(op) == "crossbar" for op in mvms)
    for mat in ms:  # the tiles of each block hold exactly its weights
        seen = np.zeros_like(mat.w)
        for op in mvms:
            if op.attrs["op"] == f"bilinear0{mat.suffix}":
                (r0, r1), (c0, c1) = op.attrs["rows"], op.attrs["cols"]
                seen[r0:r1, c0:c1] = op.operands[1].owner.attrs["value"]
        np.testing.assert_array_equal(seen, mat.w)
    pairs = [op for op in ops if isinstance(op, rec.Pairwise)]
    assert len(pairs) == 1 and UNIT.of(pairs[0]) == "digital"
    got = run(m.main, feed)[0]
    bound = error_bound(m, feed)[0]
    assert got.shape == want.shape and (np.abs(got - want) <= bound).all()
    assert float(np.max(bound)) < 1e-2 * float(np.max(np.abs(want)))  # 16 bits: tight


def _tiles_and_vectors(kind: str) -> tuple[int, list[int]]:
    m = _lower(_module(kind), "isaac")
    target = load_target("isaac")
    prims = [primitives(op, target)[0] for op in m.main.ops if isinstance(op, pim.MVM)]
    assert all(isinstance(p, CrossbarMVM) for p in prims)
    return len(prims), sorted({p.vectors for p in prims})


def test_per_pair_weights_take_more_crossbars_than_a_shared_weight():
    shared, tied, per_pair = (_tiles_and_vectors(k) for k in ("shared", "tied", "per_pair"))
    assert shared == (1, [B * len(set(LEFT))])  # one D x D matrix, a vector per left field
    assert tied[1] == [2 * B] and per_pair[1] == [B]  # one vector per field a block reads
    assert shared[0] < tied[0] < per_pair[0]


def test_a_weight_that_is_no_constant_keeps_the_op_digital():
    m = _module("per_pair", weight_is_input=True)
    op = next(o for o in m.main.ops if isinstance(o, rec.Bilinear))
    assert matrices(op) is None and kind_of(op) == "digital"
    _lower(m, "isaac")
    ops = m.main.ops
    assert not [o for o in ops if isinstance(o, pim.MVM)]
    assert [UNIT.of(o) for o in ops if isinstance(o, rec.Bilinear)] == ["digital"]


def test_calibration_covers_every_operand_with_left_fields(tmp_path):
    m = _module("tied", scale2=10.0)  # the second operand's left fields are 10x larger
    feed = _feed(m)
    np.savez(tmp_path / "feed.npz", **feed)
    PassManager(parse_pipeline(f"assign-precision{{default=8,inputs={tmp_path / 'feed.npz'}}}")
                ).run(m)
    op = next(o for o in m.main.ops if isinstance(o, rec.Bilinear))
    top = max(float(np.abs(feed["x0"]).max()), 10.0 * float(np.abs(feed["x1"]).max()))
    assert X_SCALE.of(op) == pytest.approx(scale_for(top, 8), rel=1e-6)


def test_crossbar_bound_before_tile_covers_the_lowered_program():
    """The pre-tile rule of a crossbar-marked op bounds what its tiles compute; the float
    rule (the same op without pim.x_scale) does not."""
    m = _module("per_pair")
    feed = _feed(m)
    want = run(m.main, feed)[0]
    PassManager(parse_pipeline("assign-precision{default=6},partition{target=isaac}")).run(m)
    before = error_bound(m, feed)[0]
    op = next(o for o in m.main.ops if isinstance(o, rec.Bilinear))
    scale = X_SCALE.of(op)
    X_SCALE.drop(op)
    float_rule = error_bound(m, feed)[0]
    X_SCALE.set(op, scale)
    PassManager(parse_pipeline("tile")).run(m)
    err = np.abs(run(m.main, feed)[0] - want)
    assert (err <= before).all()
    assert not (err <= float_rule).all()


def test_a_bank_target_keeps_the_op_whole_and_prices_its_products():
    m = _lower(_module("per_pair"), "hbm-pim")
    op = next(o for o in m.main.ops if isinstance(o, rec.Bilinear))
    assert UNIT.of(op) == "bank"
    (prim,) = primitives(op, load_target("hbm-pim"))
    assert isinstance(prim, VectorOp) and prim.elements == B * len(LEFT) * D * (1 + D)


FIXTURES = {"deepctr_fibinet_legacy.onnx": 18, "torchfm_opnn_legacy.onnx": 38}


@pytest.mark.parametrize("file, count", FIXTURES.items())
def test_fixture_bilinear_maps_to_crossbar_blocks(file, count, tmp_path):
    entry = next(e for e in real_inputs.entries() if e["file"] == file)
    feed = real_inputs.make_inputs(entry, 8)
    want = run(compile_fixture(file, "canonicalize").main, feed)
    m = compile_fixture(file, "assign-precision{default=16,{inputs}},partition{target=hetero},"
                        "tile", feed, tmp_path)
    ops = m.main.ops
    assert not [op for op in ops if isinstance(op, rec.Bilinear)]
    names = {op.attrs["op"] for op in ops if isinstance(op, pim.MVM)}
    assert len({n for n in names if n.startswith("bilinear0.b")}) == count
    for g, w, b in zip(run(m.main, feed), want, error_bound(m, feed)):
        assert (np.abs(g - w) <= b).all()


def test_the_lowered_pairwise_reads_the_blocks_then_the_operands():
    m = _lower(_module("per_pair"), "isaac")
    pair = next(o for o in m.main.ops if isinstance(o, rec.Pairwise))
    top = sum(v.type.shape[1] for v in pair.operands[:-2])
    assert list(pair.attrs["right"]) == [top + r for r in RIGHT]
    assert pair.operands[-2:] == m.main.args[:2]


def test_a_shared_weight_over_every_field_of_an_operand_reads_it_whole():
    xs = [Value(TensorType((B, F, D), "f32"), name=f"x{i}") for i in range(2)]
    g = Graph("main", list(xs))
    w = g.append(nn.Constant([], {"value": _weight("shared")})).result
    op = g.append(rec.Bilinear([w, *xs], {"left": [0, 1, 2, 3], "right": [4, 5, 6, 7]}))
    g.outputs, g.output_names = [op.result], ["y"]
    m = Module("m", [g])
    feed = _feed(m)
    want = run(g, feed)[0]
    _lower(m, "isaac")
    (mvm,) = [o for o in m.main.ops if isinstance(o, pim.MVM)]
    assert mvm.operands[0] is xs[0]  # no slice: B x F vectors straight from the operand
    assert not [o for o in m.main.ops if isinstance(o, (nn_shape.Slice, nn_shape.Concat))]
    assert (np.abs(run(m.main, feed)[0] - want) <= error_bound(m, feed)[0]).all()
