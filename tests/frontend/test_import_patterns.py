"""Embedding-bag loops of both torch exporters, and folding of shape sub-graphs.

tests/frontend/data/embedding_bag_*.onnx are torch 2.13 exports of nn.EmbeddingBag(10, 4,
mode=...) with dynamo=False (opset 17) and dynamo=True (opset 20), indices [n], offsets [b].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from frontend.onnx import import_onnx
from ir.dialects import nn, nn_shape, rec
from ir.interp import run

DATA = Path(__file__).resolve().parent / "data"
IDX = np.array([1, 2, 3, 4, 5, 6, 0, 9, 9], np.int64)
OFF = np.array([0, 2, 3, 7], np.int64)


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_loop_becomes_one_op(exporter: str, mode: str) -> None:
    path = DATA / f"embedding_bag_{exporter}_{mode}.onnx"
    module = import_onnx(path, dims={"n": len(IDX), "b": len(OFF)})
    (bag,) = module.main.find(rec.EmbeddingBag)
    assert bag.attrs["mode"] == mode and bag.operands[0].name == "e.weight"
    assert not module.main.find(nn.ReduceSum)
    feed = {"idx": IDX, "off": OFF}
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)
    np.testing.assert_allclose(run(module.main, feed)[0], want[0], rtol=1e-6, atol=1e-7)


def _shape_chain_model() -> onnx.ModelProto:
    """y = Reshape(x @ W^T, concat(shape(x)[0], [-1])) with W transposed by a node."""
    w = numpy_helper.from_array(np.arange(80, dtype=np.float32).reshape(10, 8) / 80, "w")
    nodes = [
        helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]),
        helper.make_node("MatMul", ["x", "wt"], ["h"]),
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["b"], axis=0),
        helper.make_node("Unsqueeze", ["b", "zero1"], ["b1"]),
        helper.make_node("Concat", ["b1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["h", "target"], ["y"], name="reshape"),
    ]
    inits = [w, numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "zero1"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", onnx.TensorProto.FLOAT, ["batch", 8])], [helper.make_tensor_value_info(
            "y", onnx.TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("fold", [True, False])
def test_shape_subgraph_folds_but_large_weight_transpose_stays(fold: bool) -> None:
    module = import_onnx(_shape_chain_model(), batch=3, fold=fold)
    (reshape,) = module.main.find(nn_shape.Reshape)
    assert reshape.attrs["shape"] == (3, 10)
    assert len(module.main.find(nn_shape.Transpose)) == 1  # 80 floats: left to canonicalize
    assert not module.main.find(nn_shape.Concat) and not module.main.find(nn_shape.Gather)
    assert module.main.find(nn.Constant)[0].result.name == "w"
    x = np.ones((3, 8), np.float32)
    want = np.ones((3, 8), np.float32) @ (np.arange(80, dtype=np.float32).reshape(10, 8) / 80).T
    np.testing.assert_allclose(run(module.main, {"x": x})[0], want, rtol=1e-6)
