"""GRUs on crossbars: compiled from ONNX, a GRU's W and R are `pim.mvm` tiles (R once per step
that has a state to multiply) and nothing of the GRU is left for the digital units but its gate
arithmetic and, with sequence lengths given at run time, the step mask; the functional check
against ONNX Runtime passes (lengths 0 and full among them, both directions); latency grows
with the sequence; a GRU whose weights are computed stays digital, priced one step after
another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.driver import compile as compile_model
from ir.dialects import nn, nn_seq, pim, rec
from ir.dialects.pim_attrs import LATENCY, UNIT

BATCH, IN, H = 2, 3, 4
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


def _gru_onnx(seq: int, *, lbr: int = 1, direction: str = "forward", h0: bool = False,
              w_input: bool = False, lens: bool = False, batch: int = BATCH
              ) -> onnx.ModelProto:
    """X [seq, batch, in] -> GRU -> Y [seq, dirs, batch, H], Y_h [dirs, batch, H]; `w_input`
    makes W a graph input instead of an initializer (a computed weight, to the compiler),
    `lens` adds sequence_lens as an int32 graph input L [batch]."""
    rng = np.random.default_rng(seq)
    dirs = 2 if direction == "bidirectional" else 1

    def init(name, *shape):
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.5).astype(np.float32),
                                       name)

    inits = [init("R", dirs, 3 * H, H), init("B", dirs, 6 * H)]
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [seq, batch, IN])]
    if w_input:
        inputs.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, [dirs, 3 * H, IN]))
    else:
        inits.append(init("W", dirs, 3 * H, IN))
    if lens:
        inputs.append(helper.make_tensor_value_info("L", TensorProto.INT32, [batch]))
    if h0:
        inits.append(init("H0", dirs, batch, H))
    node = helper.make_node("GRU", ["X", "W", "R", "B", "L" if lens else "", "H0" if h0 else ""],
                            ["Y", "Y_h"], hidden_size=H, linear_before_reset=lbr,
                            direction=direction)
    outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [seq, dirs, batch, H]),
               helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [dirs, batch, H])]
    graph = helper.make_graph([node], "gru", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


# the default stages, partition without an objective: every GRU with constant weights on
# crossbars (partition's cost-based choice keeps small ones whole on the digital units)
_ON_CROSSBARS = ("canonicalize,fuse-interactions,assign-precision,partition{{target={target}}},"
                 "tile,place{{time-limit=0.2}},schedule,lower-bound")


def _compile(model, target: str = "isaac", check: str = "full", inputs=None,
             crossbars: bool = False):
    """`crossbars`: partition without an objective (see `_ON_CROSSBARS`)."""
    pipeline = _ON_CROSSBARS.format(target=target) if crossbars else None
    out = compile_model(model, target, batch=4, time_limit=0.2, check=check, inputs=inputs,
                        pipeline=pipeline)
    if check != "none":
        assert out.functional["passed"], out.functional
    return out


def _tile_names(module) -> set[str]:
    return {op.attrs["op"] for op in module.main.ops if isinstance(op, pim.MVM)}


@pytest.mark.parametrize("lbr, direction, h0", [(1, "forward", False), (0, "reverse", True)])
def test_w_and_r_are_on_crossbars_and_no_gru_is_left(lbr, direction, h0):
    seq = 4
    out = _compile(_gru_onnx(seq, lbr=lbr, direction=direction, h0=h0), crossbars=True)
    ops = out.module.main.ops
    assert not [op for op in ops if isinstance(op, (nn_seq.Gru, rec.Gru))]
    first = 0 if h0 else 1  # from a zero state, step 0 multiplies nothing
    steps = [f"gru0.r{t}" for t in range(first, seq)]
    if not lbr:  # the candidate's columns read reset * h: a matrix of their own
        steps += [f"gru0.c{t}" for t in range(first, seq)]
    assert _tile_names(out.module) == {"gru0.w", *steps}
    assert all(UNIT.of(op) == "crossbar" and op.attrs["pim.loc"]
               for op in ops if isinstance(op, pim.MVM))
    # W runs once over every step; each R tile takes one step's batch rows
    by_name = {op.attrs["op"]: op for op in ops if isinstance(op, pim.MVM)}
    assert by_name["gru0.w"].operands[0].type.shape == (seq, BATCH, IN)
    assert by_name[f"gru0.r{first + 1}"].operands[0].type.shape == (BATCH, H)


@pytest.mark.parametrize("lbr, direction, h0", [(1, "forward", False), (0, "reverse", True),
                                                 (1, "bidirectional", True)])
def test_runtime_lengths_are_a_digital_mask_and_match_onnx_runtime(lbr, direction, h0):
    """Lengths 0, full, and between, given at run time: the functional check against ONNX
    Runtime passes (y zero past each row's end, y_h its last state, zero for length 0); W and
    R on crossbars, the mask (t < length) and its products on the digital units."""
    seq, batch = 4, 4
    rng = np.random.default_rng(7)
    feed = {"X": rng.standard_normal((seq, batch, IN)).astype(np.float32),
            "L": np.array([0, seq, 2, 1], np.int32)}
    out = _compile(_gru_onnx(seq, lbr=lbr, direction=direction, h0=h0, lens=True, batch=batch),
                   inputs=feed, crossbars=True)
    ops = out.module.main.ops
    assert not [op for op in ops if isinstance(op, (nn_seq.Gru, rec.Gru))]
    names = _tile_names(out.module)
    for g in ("gru0", "gru1") if direction == "bidirectional" else ("gru0",):
        assert {f"{g}.w", f"{g}.r1", f"{g}.r{seq - 1}"} <= names
    assert all(UNIT.of(op) == "crossbar" for op in ops if isinstance(op, pim.MVM))
    (less,) = [op for op in ops if isinstance(op, nn.Less)]
    assert UNIT.of(less) == "digital" and less.operands[1].name == "L"
    assert out.functional["max_abs_error"][1] <= out.functional["bound"][1]


def test_latency_grows_with_the_sequence():
    lat = {seq: LATENCY.of(_compile(_gru_onnx(seq), check="none", crossbars=True).module)
           for seq in (2, 4, 8)}
    assert lat[2] < lat[4] < lat[8]
    # every step waits for the one before: 4 more steps cost at least 2 more steps' worth
    assert lat[8] - lat[4] >= 2 * (lat[4] - lat[2]) * 0.9


def test_a_gru_with_computed_weights_stays_digital():
    out = _compile(_gru_onnx(4, w_input=True), target="hetero")
    grus = [op for op in out.module.main.ops if isinstance(op, nn_seq.Gru)]
    assert len(grus) == 1 and UNIT.of(grus[0]) == "digital"
    assert not _tile_names(out.module)


def test_a_gru_with_computed_weights_is_priced_per_step():
    from passes._costing.op_primitives import primitives
    from targets import load_target

    target = load_target("hetero")
    costs = {}
    for seq in (2, 8):
        out = _compile(_gru_onnx(seq, w_input=True), target="hetero", check="none")
        (gru,) = [op for op in out.module.main.ops if isinstance(op, nn_seq.Gru)]
        costs[seq] = primitives(gru, target)
    assert (len(costs[2]), len(costs[8])) == (2, 8)
    assert costs[2][0] == costs[8][0]  # the same work a step, whatever the length


def _gru_forms(module, seq: int) -> dict[str, str]:
    """Each raised GRU's form: "crossbar" (W and R for steps 1.. as tiles, nothing whole left)
    or "digital" (one whole rec.gru on the digital units), as partition chose; no nn.gru."""
    ops = module.main.ops
    assert not [op for op in ops if isinstance(op, nn_seq.Gru)]
    names = _tile_names(module)
    whole = [op for op in ops if isinstance(op, rec.Gru)]
    assert all(UNIT.of(op) == "digital" for op in whole)
    tiled = sorted({n.split(".")[0] for n in names if n.startswith("gru")})
    for g in tiled:
        assert {f"{g}.w", *(f"{g}.r{t}" for t in range(1, seq))} <= names
    return {**{g: "crossbar" for g in tiled}, **{f"whole{i}": "digital" for i in range(len(whole))}}


@pytest.mark.parametrize("target", ["isaac", "hetero"])
@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_gru4rec_raises_both_grus_and_matches_onnx_runtime(exporter, target):
    """Both GRUs become rec.grus; partition's cost model puts each on crossbars or keeps it
    whole on the digital units (GRU4Rec's hidden size 4 favours the vector units)."""
    out = _compile(FIXTURES / f"rechub_gru4rec_{exporter}.onnx", target=target)
    assert len(_gru_forms(out.module, 8)) == 2


@pytest.mark.parametrize("target", ["isaac", "hetero"])
def test_dien_with_padded_histories_matches_onnx_runtime(target):
    """RecBole's DIEN, histories padded to lengths 0 (a length of 1 after its clip) to full:
    both GRUs read their lengths as a mask and the functional check against ONNX Runtime
    passes whichever form partition chooses."""
    from frontend.onnx import import_onnx
    from ir.sample_inputs import sample_inputs

    model = FIXTURES / "recbole_dien_legacy.onnx"
    feed = sample_inputs(import_onnx(model, batch=8).main)
    feed["hist"] = np.maximum(feed["hist"], 1)
    for row, n in enumerate([0, 8, 3, 1, 5, 2, 7, 4]):
        feed["hist"][row, n:] = 0
    out = compile_model(model, target, batch=8, time_limit=0.2, inputs=feed)
    assert out.functional["passed"], out.functional
    assert len(_gru_forms(out.module, 8)) == 2


def test_a_rec_gru_is_a_crossbar_op_only_with_constant_weights_and_state():
    from ir.core import Value
    from ir.types import TensorType
    from passes._lowering.kinds import kind_of, matrices
    from passes.rewrite import new_const

    seq = 3
    shapes = [(seq, BATCH, IN), (IN, 3 * H), (H, 3 * H), (3 * H,), (3 * H,), (BATCH, H)]
    arrays = [np.full(s, 0.5 if i < 5 else 0.0, np.float32) for i, s in enumerate(shapes)]

    def gru(computed: set[int]):
        vals = [Value(TensorType(s, "f32")) if i in computed or i == 0
                else new_const(a).result for i, (s, a) in enumerate(zip(shapes, arrays))]
        return rec.Gru(vals, {"linear_before_reset": True})

    whole = gru(set())
    assert kind_of(whole) == "crossbar"
    # W, then R for steps 1 and 2 (from a zero h0, step 0 multiplies nothing)
    assert [m.suffix for m in matrices(whole)] == [".w", ".r1", ".r2"]
    for computed in ({1}, {2}, {5}):  # W, R, or the state that fixes R's input scale
        assert kind_of(gru(computed)) == "digital" and matrices(gru(computed)) is None
