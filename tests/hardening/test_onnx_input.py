"""ONNX input: external data only from the model's own folder, and a malformed graph is a one-line
error before any conversion (never accepted and left for ONNX Runtime to trip over)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data

from frontend.onnx import import_onnx, load_onnx
from ir.errors import PimcError

SECRET = b"PRIVATE-KEY-BYTES-0123456789abcd"  # 32 bytes: the data of a 2x4 float tensor
WEIGHT = np.arange(8, dtype=np.float32).reshape(2, 4)


def _vi(name, shape=(2, 4), elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, list(shape))


def _external(name: str, location: str, offset: int = 0) -> TensorProto:
    tensor = numpy_helper.from_array(np.zeros((2, 4), np.float32), name)
    set_external_data(tensor, location, offset=offset, length=32)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    return tensor


def _add_model(weight: TensorProto) -> onnx.ModelProto:
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")], "g",
                              [_vi("x")], [_vi("y")], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def layout(tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """A model folder with its data file, and a home folder (the current one) with a secret."""
    model, home = tmp_path / "model", tmp_path / "home"
    model.mkdir()
    home.mkdir()
    (model / "w.bin").write_bytes(WEIGHT.tobytes())
    (home / "w.bin").write_bytes(SECRET)
    (home / "id_rsa").write_bytes(SECRET)
    monkeypatch.chdir(home)
    return {"model": model, "home": home}


def _save(model: onnx.ModelProto, folder: Path) -> Path:
    path = folder / "m.onnx"
    onnx.save(model, str(path))
    return path


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and SECRET.decode() not in text
    return text


def _weight_of(module) -> np.ndarray:
    return next(op.attrs["value"] for op in module.main.ops if "value" in op.attrs)


def test_external_data_comes_from_the_model_folder_not_the_current_one(layout) -> None:
    path = _save(_add_model(_external("w", "w.bin")), layout["model"])
    np.testing.assert_array_equal(_weight_of(import_onnx(path)), WEIGHT)
    np.testing.assert_array_equal(numpy_helper.to_array(load_onnx(path).graph.initializer[0]),
                                  WEIGHT)


def test_a_model_proto_never_reads_external_data_from_the_current_folder(layout) -> None:
    """The finding: `pimc compile` loads the proto without external data and the importer then
    read `w.bin` (or `.ssh/id_rsa`) relative to the current folder into the weights."""
    path = _save(_add_model(_external("w", "w.bin")), layout["model"])
    proto = onnx.load(str(path), load_external_data=False)
    with pytest.raises(PimcError) as exc:
        import_onnx(proto)
    assert "tensor 'w' keeps its data in an external file" in _one_line(exc)


@pytest.mark.parametrize("location,expected", [
    ("ABSOLUTE", "accepted: a relative path inside the model's folder"),
    ("../home/id_rsa", "accepted: a relative path inside the model's folder"),
    ("link/id_rsa", "leads out of the model's folder (a symbolic link)"),
    ("missing.bin", "no such file in the model's folder"),
])
def test_external_data_that_leaves_the_folder_is_refused(layout, location, expected) -> None:
    os.symlink(layout["home"], layout["model"] / "link")
    if location == "ABSOLUTE":
        location = str(layout["home"] / "id_rsa")
    path = _save(_add_model(_external("w", location)), layout["model"])
    for load in (import_onnx, load_onnx):
        with pytest.raises(PimcError) as exc:
            load(path)
        text = _one_line(exc)
        assert text.startswith(f"{path}: the external data of tensor 'w'") and expected in text


def test_external_data_past_the_end_of_its_file_is_refused(layout) -> None:
    path = _save(_add_model(_external("w", "w.bin", offset=16)), layout["model"])
    with pytest.raises(PimcError) as exc:
        import_onnx(path)
    assert "asks for bytes 16 to 48 of a 32-byte file" in _one_line(exc)


def test_a_constant_node_with_external_data_is_resolved_the_same_way(layout) -> None:
    def model(location):
        const = helper.make_node("Constant", [], ["w"], name="c", value=_external("cw", location))
        graph = helper.make_graph([const, helper.make_node("Add", ["x", "w"], ["y"])], "g",
                                  [_vi("x")], [_vi("y")])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    module = import_onnx(_save(model("w.bin"), layout["model"]))
    np.testing.assert_array_equal(_weight_of(module), WEIGHT)
    with pytest.raises(PimcError) as exc:
        import_onnx(_save(model("../home/w.bin"), layout["model"]))
    assert "tensor 'cw'" in _one_line(exc)


def _graph(nodes, inputs=None, outputs=None, inits=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs or [_vi("x")], outputs or [_vi("y")],
                              list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _w(name="w", value=1.0):
    return numpy_helper.from_array(np.full((2, 4), value, np.float32), name)


MALFORMED = {
    "Relu with 2 inputs": (_graph([helper.make_node("Relu", ["x", "x"], ["y"], name="r")]),
                           "has input size 2 not in range [min=1, max=1]"),
    "Sigmoid with 2 outputs": (_graph([helper.make_node("Sigmoid", ["x"], ["y", "z"])]),
                               "has output size 2 not in range [min=1, max=1]"),
    "a value defined twice": (_graph([helper.make_node("Relu", ["x"], ["y"], name="a"),
                                      helper.make_node("Neg", ["x"], ["y"], name="b")]),
                              "value 'y' is defined twice (again by Neg node 'b')"),
    "an initializer redefined": (_graph([helper.make_node("Relu", ["x"], ["w"]),
                                         helper.make_node("Add", ["x", "w"], ["y"])],
                                        inits=[_w()]), "value 'w' is defined twice"),
    "an initializer given twice": (_graph([helper.make_node("Add", ["x", "w"], ["y"])],
                                          inits=[_w(), _w(value=2.0)]),
                                   "initializer 'w' is defined twice"),
    "a cycle": (_graph([helper.make_node("Relu", ["b"], ["a"], name="r"),
                        helper.make_node("Neg", ["a"], ["b"]),
                        helper.make_node("Add", ["x", "a"], ["y"])]),
                "input 'b' of Relu node 'r' is not defined before it"),
    "mixed element types": (_graph([helper.make_node("Add", ["x", "i"], ["y"])],
                                   [_vi("x"), _vi("i", elem=TensorProto.INT64)]),
                            "B has inconsistent type tensor(int64)"),
    "an attribute of the wrong type": (
        _graph([helper.make_node("LeakyRelu", ["x"], ["y"], alpha="high")]),
        "Mismatched attribute type"),
    "a table declared without data": (
        _graph([helper.make_node("Gather", ["t", "i"], ["y"])],
               [_vi("i", (2,), TensorProto.INT64)], [_vi("y", (2, 16))],
               [TensorProto(name="t", data_type=TensorProto.FLOAT, dims=[100_000_000, 16])]),
        "tensor name: t"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_graphs_are_one_line_errors(case: str) -> None:
    model, expected = MALFORMED[case]
    with pytest.raises(PimcError) as exc:
        import_onnx(model)
    text = _one_line(exc)
    assert text.startswith("g: ") and expected in text


def test_the_near_miss_of_each_malformed_graph_imports() -> None:
    model = _graph([helper.make_node("Relu", ["x"], ["a"], name="r"),
                    helper.make_node("Sigmoid", ["a"], ["b"]),
                    helper.make_node("Add", ["b", "w"], ["y"])], inits=[_w()])
    module = import_onnx(model)
    assert [op.name for op in module.main.ops] == ["nn.constant", "nn.relu", "nn.sigmoid",
                                                   "nn.add"]


def _shaped(op: str, dims: list[int]) -> onnx.ModelProto:
    shape = numpy_helper.from_array(np.array(dims, np.int64), "s")
    seven = numpy_helper.from_array(np.array([7], np.int64), "seven")
    node = (helper.make_node(op, ["s"], ["c"], name="big", value=helper.make_tensor(
        "v", TensorProto.INT64, [1], [7])) if op == "ConstantOfShape"
        else helper.make_node(op, ["seven", "s"], ["c"], name="big"))
    graph = helper.make_graph([node, helper.make_node("Add", ["x", "c"], ["y"])], "g",
                              [_vi("x", (1,), TensorProto.INT64)],
                              [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
                              [shape, seven])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_an_absurd_integer_shape_is_never_materialised() -> None:
    """Integer constants were folded whatever their size: Expand to 1e12 elements raised
    MemoryError. Now it stays an op; the small near miss still folds to a constant."""
    module = import_onnx(_shaped("Expand", [10**12]))
    assert module.main.outputs[0].type.shape == (10**12,)
    assert "nn.constant" not in [op.name for op in module.main.ops[1:]]
    small = import_onnx(_shaped("Expand", [3]))
    assert [op.name for op in small.main.ops] == ["nn.constant", "nn.add"]


@pytest.mark.parametrize("dims", [[10**12], [2**62, 4]])  # MemoryError; numpy's "too big"
def test_a_constant_of_shape_beyond_memory_is_a_one_line_error(dims) -> None:
    with pytest.raises(PimcError) as exc:
        import_onnx(_shaped("ConstantOfShape", dims))
    assert _one_line(exc) == ("g: a constant computed at import time does not fit in memory "
                              "(at big); accepted: shapes that fit the machine")
