"""Every printed module parses back (odd names are quoted), deep attributes are one-line errors,
and the weights sidecar is written without keyword collisions and read only where referenced."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from frontend.onnx import import_onnx
from ir.core import Graph, Module, Value
from ir.dialects import lookup
from ir.errors import PimcError
from ir.io import load, save, sidecar_path
from ir.text import parse, print_module
from ir.types import TensorType

T = TensorType((4, 8), "f32")  # 32 elements: above the inline limit, so in the sidecar


def _module(name: str = "m", weights: dict[str, np.ndarray] | None = None,
            attrs: dict | None = None) -> Module:
    x = Value(T, name="x")
    ops, last = [], x
    for wname, array in (weights or {}).items():
        const = lookup("nn.constant")([], {"value": array})
        const.result.name = wname
        add = lookup("nn.add")([last, const.result], {})
        ops += [const, add]
        last = add.result
    return Module(name, [Graph("main", [x], ops, [last], ["y"])], attrs)


def test_a_model_file_named_my_model_prints_ir_that_parses_back(tmp_path: Path) -> None:
    """The finding: `my-model.onnx` gave `module @my-model`, a syntax error for every reader."""
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])])
    path = tmp_path / "my-model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    module = import_onnx(path)
    text = print_module(module)
    assert text.startswith('module @"my-model" {')
    again = parse(text)
    assert again.name == module.name and print_module(again) == text


@pytest.mark.parametrize("name", ["my-model", "", "a b\"c\\d", "1st", "ünï"])
def test_odd_module_graph_and_attribute_names_round_trip(name: str) -> None:
    module = _module(name, attrs={name or "k": 1, "ok.key": 2})
    module.graphs[0].name = name
    text = print_module(module)
    again = parse(text)
    assert again.name == name and again.graphs[0].name == name
    assert again.attrs == module.attrs and print_module(again) == text


def test_an_identifier_is_printed_unquoted() -> None:
    """Near miss of the quoting: plain names keep the plain form."""
    assert print_module(_module("m_1.v2")).startswith("module @m_1.v2 {")


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_an_attribute_nested_2000_deep_is_a_located_error_not_a_recursion_error() -> None:
    text = f"module @m attributes {{deep = {_nested(2000)}}} {{\n}}\n"
    with pytest.raises(PimcError) as exc:
        print_module(parse(text, file="deep.pir"))
    assert str(exc.value).startswith("deep.pir:1:23: attribute value nested deeper than 64")


def test_nesting_at_the_limit_round_trips() -> None:
    text = f"module @m attributes {{deep = {_nested(64)}}} {{\n}}\n"
    assert print_module(parse(text)) == text


def test_the_printer_refuses_a_deep_attribute_built_through_the_api() -> None:
    value: list = [1]
    for _ in range(2000):
        value = [value]
    with pytest.raises(PimcError, match="nested deeper than 64 lists"):
        print_module(_module(attrs={"deep": value}))


def test_a_lone_surrogate_in_a_string_is_a_located_error() -> None:
    text = 'module @m attributes {s = "\\ud800"} {\n}\n'
    with pytest.raises(PimcError, match=r"^x.pir:1:27: bad string literal \(a lone surrogate"):
        parse(text, file="x.pir")


@pytest.mark.parametrize("names", [["file", "allow_pickle"], ["args", "kwds"], ["w"]])
def test_weights_named_like_savez_parameters_are_saved_and_loaded(tmp_path: Path,
                                                                  names: list[str]) -> None:
    """The finding: `np.savez(f, **weights)` raised TypeError for `file`, and an array called
    `allow_pickle` was silently swallowed as the keyword."""
    weights = {n: np.full((4, 8), i + 1.5, np.float32) for i, n in enumerate(names)}
    path = tmp_path / "m.pir"
    save(_module(weights=weights), path)
    with np.load(sidecar_path(path), allow_pickle=False) as data:
        assert sorted(data.files) == sorted(names)
    loaded = load(path)
    got = {op.result.name: op.attrs["value"] for op in loaded.main.ops if op.name == "nn.constant"}
    assert got.keys() == weights.keys()
    for n in names:
        np.testing.assert_array_equal(got[n], weights[n])


def _sidecar_with(path: Path, arrays: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in arrays.items():
            archive.writestr(f"{name}.npy", data)


def test_an_unreferenced_sidecar_array_is_never_read(tmp_path: Path) -> None:
    """The finding: every array was loaded eagerly (a 4 GB unreferenced one too). An array that
    cannot be read at all proves it: loading succeeds while nothing refers to it."""
    weights = {"w": np.arange(32, dtype=np.float32).reshape(4, 8)}
    path = tmp_path / "m.pir"
    save(_module(weights=weights), path)
    with zipfile.ZipFile(sidecar_path(path)) as archive:
        kept = archive.read("w.npy")
    _sidecar_with(sidecar_path(path), {"w": kept, "huge": b"\x93NUMPY" + b"\xff" * 64})
    module = load(path)
    np.testing.assert_array_equal(module.main.ops[0].attrs["value"], weights["w"])


def test_a_referenced_array_that_cannot_be_read_is_a_one_line_error(tmp_path: Path) -> None:
    """Near miss of the lazy read: the same bad array, now referenced, is reported."""
    path = tmp_path / "m.pir"
    save(_module(weights={"w": np.zeros((4, 8), np.float32)}), path)
    _sidecar_with(sidecar_path(path), {"w": b"\x93NUMPY" + b"\xff" * 64})
    with pytest.raises(PimcError) as exc:
        load(path)
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"{sidecar_path(path)}: array 'w' of the weights")


def test_a_pickled_sidecar_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.pir"
    save(_module(weights={"w": np.zeros((4, 8), np.float32)}), path)
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _sidecar_with(sidecar_path(path), {"w": buf.getvalue()})
    with pytest.raises(PimcError, match="array 'w' of the weights sidecar cannot be read"):
        load(path)


def test_a_dimension_beyond_int64_is_a_located_error() -> None:
    """Found by bench/fuzz.py: `dense<3x1000...0xf32, ...>` overflowed np.prod (OverflowError)."""
    huge = "1" + "0" * 400
    with pytest.raises(PimcError, match=r"^f.pir:1:33: a dimension has more than 18 digits"):
        parse(f"module @m attributes {{v = dense<3x{huge}xf32, [1.0]>}} {{\n}}\n", file="f.pir")
    with pytest.raises(PimcError, match="needs 999999999999999999 values, got 1"):
        parse("module @m attributes {v = dense<999999999999999999xf32, [1.0]>} {\n}\n")


def test_a_value_beyond_its_element_type_is_a_located_error() -> None:
    """Found by bench/fuzz.py: 1e300 in an f16 became inf with only a warning."""
    with pytest.raises(PimcError, match=r"^<string>:1:33: values do not fit f16"):
        parse("module @m attributes {v = dense<f16, [1e300]>} {\n}\n")
    assert parse("module @m attributes {v = dense<f16, [65504.0]>} {\n}\n").attrs["v"] == 65504
