"""One-node ONNX models of `nn` semantics cases, and their check against ONNX Runtime."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

from frontend.onnx import import_onnx
from ir.interp import run


@dataclass
class Case:
    op: str
    expect: type
    inputs: list  # arrays (graph inputs) or ("c", array) (initializers) or None (absent)
    attrs: dict = field(default_factory=dict)
    outputs: int = 1
    opset: int = 18
    rtol: float = 1e-6
    atol: float = 1e-7


def c(array):
    return ("c", np.asarray(array))


def build_model(case: Case) -> onnx.ModelProto:
    names, inputs, inits = [], [], []
    for k, item in enumerate(case.inputs):
        if item is None:
            names.append("")
            continue
        name = f"in{k}"
        names.append(name)
        if isinstance(item, tuple):
            inits.append(numpy_helper.from_array(item[1], name))
        else:
            elem = helper.np_dtype_to_tensor_dtype(item.dtype)
            inputs.append(helper.make_tensor_value_info(name, elem, item.shape))
    outs = [f"out{k}" for k in range(case.outputs)]
    node = helper.make_node(case.op, names, outs, name="n0", **case.attrs)
    graph = helper.make_graph([node], "g", inputs,
                              [helper.make_value_info(o, onnx.TypeProto()) for o in outs],
                              inits)
    model = helper.make_model(graph, ir_version=9,
                              opset_imports=[helper.make_opsetid("", case.opset)])
    return onnx.shape_inference.infer_shapes(model)  # typed outputs, as the checker wants


def feed(case: Case) -> dict:
    return {f"in{k}": a for k, a in enumerate(case.inputs)
            if a is not None and not isinstance(a, tuple)}


def assert_matches_onnxruntime(case: Case) -> None:
    """Import with fold=False (the op itself runs in the interpreter), check that the
    expected op is there, run it and compare every output with ONNX Runtime."""
    model = build_model(case)
    module = import_onnx(model, fold=False)
    assert any(isinstance(op, case.expect) for op in module.main.ops)
    got = run(module.main, feed(case))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, feed(case))
    assert len(got) == len(want) == case.outputs
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=case.rtol, atol=case.atol)
