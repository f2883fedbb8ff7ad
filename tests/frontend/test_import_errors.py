"""User errors of the ONNX importer: one line naming what was wrong, where, and what is accepted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from frontend.onnx import import_onnx
from ir.errors import PimcError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


def _model(nodes, inputs, outputs, inits=(), opset=17, domains=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, 1) for d in domains)]
    return helper.make_model(graph, opset_imports=opsets)


def _vi(name, shape, elem=onnx.TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def _relu(shape=("batch", 4), opset=17) -> onnx.ModelProto:
    return _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", shape)],
                  [_vi("y", shape)], opset=opset)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_truncated_file(tmp_path: Path) -> None:
    source = next(iter(sorted(FIXTURES.glob("*.onnx"))), None)
    data = source.read_bytes() if source else _relu().SerializeToString()
    bad = tmp_path / "half.onnx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(PimcError) as exc:
        import_onnx(bad, batch=8)
    assert _one_line(exc).startswith(f"{bad}: not a valid ONNX model")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PimcError, match="no such file; accepted: a path to an .onnx model"):
        import_onnx(tmp_path / "nope.onnx")


def test_unsupported_op_lists_supported_ones() -> None:
    model = _model([helper.make_node("Col2Im", ["x", "s", "b"], ["y"], name="fold")],
                   [_vi("x", [1, 4, 9])], [_vi("y", [1, 1, 4, 4])],
                   [numpy_helper.from_array(np.array([4, 4], np.int64), "s"),
                    numpy_helper.from_array(np.array([2, 2], np.int64), "b")], opset=18)
    with pytest.raises(PimcError) as exc:
        import_onnx(model)
    text = _one_line(exc)
    assert text.startswith("unsupported ONNX op 'Col2Im' (node 'fold'); supported: Abs, Acos, ")
    assert ", Gemm, " in text and ", Loop, " in text


def test_custom_domain_op() -> None:
    node = helper.make_node("FancyPool", ["x"], ["y"], name="fp", domain="com.example")
    model = _model([node], [_vi("x", [2, 4])], [_vi("y", [2, 4])], domains=["com.example"])
    with pytest.raises(PimcError) as exc:
        import_onnx(model)
    assert _one_line(exc).startswith(
        "unsupported ONNX op 'com.example.FancyPool' (node 'fp'); supported: Abs, ")


def test_symbolic_dimension_without_batch() -> None:
    with pytest.raises(PimcError) as exc:
        import_onnx(_relu())
    assert _one_line(exc) == ("g: input 'x' axis 0 has the symbolic dimension 'batch'; "
                              "pass --batch N (or --dim batch=N)")


def test_symbolic_dimension_off_axis_zero_needs_dims() -> None:
    with pytest.raises(PimcError, match=r"input 'x' axis 1 has the symbolic dimension 'k'; "
                                        r"pass --batch N \(or --dim k=N\)"):
        import_onnx(_relu(shape=("batch", "k")), batch=2)
    module = import_onnx(_relu(shape=("batch", "k")), batch=2, dims={"k": 5})
    assert module.main.args[0].type.shape == (2, 5)
    assert module.main.args[0].name == "x" and module.main.output_names == ["y"]


@pytest.mark.parametrize("opset", [12, 22])
def test_opset_out_of_range(opset: int) -> None:
    with pytest.raises(PimcError) as exc:
        import_onnx(_relu(shape=(2, 4), opset=opset))
    assert _one_line(exc) == (f"g: ONNX opset {opset} is not supported; "
                              "accepted: opsets 13 to 21")


def test_shape_input_that_does_not_fold() -> None:
    node = helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")
    model = _model([node], [_vi("x", [2, 4]), _vi("s", [2], onnx.TensorProto.INT64)],
                   [_vi("y", [4, 2])])
    with pytest.raises(PimcError) as exc:
        import_onnx(model)
    assert _one_line(exc) == (
        "Reshape node 'rs': input 1 ('s', the target shape) is not a constant at import time: "
        "it depends on the values of graph input(s) 's', not only on their shapes; "
        "accepted: values computed from initializers and shapes only")


def test_loop_that_is_not_an_embedding_bag() -> None:
    source = FIXTURES / "torchrec_dlrm_legacy.onnx"
    if not source.exists():
        pytest.skip("torchrec fixture not built")
    model = onnx.load(str(source))
    loop = next(n for n in model.graph.node if n.op_type == "Loop")
    body = loop.attribute[0].g
    red = next(n for n in body.node if n.op_type == "ReduceSum")
    red.op_type = "ReduceMin"  # schema-valid at opset 17 (axes an attribute), yet not a pooling
    del red.input[1:], red.attribute[1:]
    red.attribute.append(helper.make_attribute("axes", [0]))
    with pytest.raises(PimcError) as exc:
        import_onnx(model, batch=8)
    assert _one_line(exc) == (
        f"Loop node '{loop.name}': Loop is not an embedding-bag loop: the scan output is not "
        "a pooling; pimc imports only the torch exporters' nn.EmbeddingBag loops")


def test_unsupported_attribute_value_names_the_node() -> None:
    node = helper.make_node("Pad", ["x", "p"], ["y"], name="pw", mode="wrap")
    model = _model([node], [_vi("x", [2, 4])], [_vi("y", [2, 6])],
                   [numpy_helper.from_array(np.array([0, 1, 0, 1], np.int64), "p")], opset=19)
    with pytest.raises(PimcError, match=r"^Pad node 'pw': attribute 'mode' of nn.pad is "
                                        r"'wrap'; accepted: 'constant', 'reflect', 'edge'$"):
        import_onnx(model)
