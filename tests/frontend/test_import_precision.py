"""Fake-quantisation chains (frontend.precision) become `bits` on the imported IR types.

The model is two quantised linear layers, y = q8(q8(x) @ q4(w1)^T) @ q4(w2)^T, with the clamp
in either exporter's form: w1 (80 elements) is larger than FOLD_LIMIT and stays a chain until
canonicalize, w2 (40) folds during import.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from frontend.onnx import import_onnx
from ir.core import Value
from ir.dialects import nn, nn_shape, rec
from ir.interp import run
from ir.types import TensorType
from passes.pipeline import parse_pipeline

X = np.linspace(-2, 2, 24, dtype=np.float32).reshape(3, 8)


def _clamp(src: str, out: str, bits: int, form: str) -> list[onnx.NodeProto]:
    lo, hi = f"lo{bits}", f"hi{bits}"
    if form == "clip":
        return [helper.make_node("Clip", [src, lo, hi], [out])]
    return [helper.make_node("Max", [src, lo], [out + "_max"]),
            helper.make_node("Min", [out + "_max", hi], [out])]


def _chain(x: str, scale: str, bits: int, out: str, form: str) -> list[onnx.NodeProto]:
    return [helper.make_node("Div", [x, scale], [out + "_d"]),
            helper.make_node("Round", [out + "_d"], [out + "_r"]),
            *_clamp(out + "_r", out + "_c", bits, form),
            helper.make_node("Mul", [out + "_c", scale], [out])]


def _model(form: str) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    arrays = {"w1": rng.normal(size=(10, 8)), "w2": rng.normal(size=(4, 10)),
              "s1": 0.2, "s2": 0.3, "sw1": 0.4, "sw2": 0.5,
              "lo8": -128, "hi8": 127, "lo4": -8, "hi4": 7}
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in arrays.items()]
    nodes = [*_chain("x", "s1", 8, "qx", form), *_chain("w1", "sw1", 4, "qw1", form),
             helper.make_node("Transpose", ["qw1"], ["qw1t"], perm=[1, 0]),
             helper.make_node("MatMul", ["qx", "qw1t"], ["h"]),
             *_chain("h", "s2", 8, "qh", form),
             helper.make_node("Identity", ["qh"], ["qh_id"]),
             *_chain("w2", "sw2", 4, "qw2", form),
             helper.make_node("Transpose", ["qw2"], ["qw2t"], perm=[1, 0]),
             helper.make_node("MatMul", ["qh_id", "qw2t"], ["y"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3, 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("form", ["clip", "max-min"])
def test_chain_outputs_and_their_views_carry_bits(form: str) -> None:
    proto = _model(form)
    module = import_onnx(proto)
    mul_bits = sorted(op.result.type.bits for op in module.main.find(nn.Mul))
    assert mul_bits == [4, 8, 8]  # w2's chain folded at import, the others are left
    folded = [op.result for op in module.main.find(nn.Constant) if op.result.type.bits]
    assert [(v.type.shape, v.type.bits) for v in folded] == [((10, 4), 4)]  # transposed
    assert {t.result.type.bits for t in module.main.find(nn_shape.Transpose)} == {4}
    matmuls = module.main.find(nn.MatMul)
    assert [m.result.type.bits for m in matmuls] == [None, None]  # arithmetic drops bits
    assert matmuls[1].operands[0].type.bits == 8  # through the Identity
    want = ort.InferenceSession(proto.SerializeToString(),
                                providers=["CPUExecutionProvider"]).run(None, {"x": X})[0]
    np.testing.assert_allclose(run(module.main, {"x": X})[0], want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("form", ["clip", "max-min"])
def test_fused_dense_gets_the_chain_precisions(form: str) -> None:
    module = import_onnx(_model(form))
    before = run(module.main, {"x": X})[0]
    for p in parse_pipeline("canonicalize,fuse-interactions,assign-precision{mode=model}"):
        p.apply(module)
    denses = module.main.find(rec.Dense)
    assert [d.operands[1].type.bits for d in denses] == [4, 4]
    assert [(d.attrs["pim.w_bits"], d.attrs["pim.a_bits"]) for d in denses] == [(4, 8)] * 2
    np.testing.assert_allclose(run(module.main, {"x": X})[0], before, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("op_type", [nn.Identity, nn.Dropout, nn_shape.Transpose])
def test_views_keep_bits_and_arithmetic_drops_them(op_type) -> None:
    x = Value(TensorType((2, 3), "f32", 4))
    attrs = {"perm": [1, 0]} if op_type is nn_shape.Transpose else {}
    assert op_type([x], attrs).result.type.bits == 4
    assert nn.Relu([x]).result.type.bits is None
