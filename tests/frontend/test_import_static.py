"""Values that must be known at import time: NonZero folded or refused naming its
data-dependent shape, error hints that fit the case, and the converter registry's layout."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from frontend.onnx import import_onnx
from frontend.onnx.converters import CONVERTERS
from frontend.onnx.converters._registry import register
from ir.errors import PimcError
from ir.interp import run

ROOT = Path(__file__).resolve().parents[2]
I64, F32 = onnx.TensorProto.INT64, onnx.TensorProto.FLOAT


def _model(nodes, inputs, outputs, inits=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    model = helper.make_model(graph, ir_version=9, opset_imports=[helper.make_opsetid("", 17)])
    return onnx.shape_inference.infer_shapes(model)


def _error(model: onnx.ModelProto, **kw) -> str:
    with pytest.raises(PimcError) as exc:
        import_onnx(model, **kw)
    text = str(exc.value)
    assert "\n" not in text
    return text


def _nonzero_model(source: str) -> onnx.ModelProto:
    """y = GatherND(x, transpose(NonZero(m))) with m a constant mask or the input x."""
    mask = numpy_helper.from_array(np.array([[0, 1, 0], [2, 0, 3]], np.float32), "mask")
    nodes = [helper.make_node("NonZero", [source], ["idx"], name="nz"),
             helper.make_node("Transpose", ["idx"], ["coords"], perm=[1, 0]),
             helper.make_node("GatherND", ["x", "coords"], ["y"])]
    return _model(nodes, [helper.make_tensor_value_info("x", F32, [2, 3])],
                  [helper.make_tensor_value_info("y", F32, None)], [mask])


def test_nonzero_of_a_constant_folds() -> None:
    model = _nonzero_model("mask")
    module = import_onnx(model)
    assert not any("nonzero" in op.name for op in module.main.ops)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    want = ort.InferenceSession(model.SerializeToString(),
                                providers=["CPUExecutionProvider"]).run(None, {"x": x})
    got = run(module.main, {"x": x})
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[0], [1.0, 3.0, 5.0])


def test_nonzero_of_data_is_refused_naming_its_shape() -> None:
    assert _error(_nonzero_model("x")) == (
        "NonZero node 'nz': output 'idx' has the data-dependent shape [2, number of nonzero "
        "elements of 'x'], which depends on the values of graph input(s) 'x'; accepted: "
        "NonZero of a tensor computed from initializers and shapes (folded)")


def _split_model(batch) -> onnx.ModelProto:
    """values split by sizes = lengths (data), or by sizes computed from the shape of x."""
    nodes = [helper.make_node("Split", ["values", "lengths"], ["a", "b"], name="by_lengths"),
             helper.make_node("ReduceSum", ["a"], ["y"], keepdims=0)]
    return _model(nodes, [helper.make_tensor_value_info("values", F32, [batch, 4]),
                          helper.make_tensor_value_info("lengths", I64, [2])],
                  [helper.make_tensor_value_info("y", F32, None)])


def test_data_dependent_split_names_the_input_and_never_suggests_batch() -> None:
    text = _error(_split_model(6))
    assert text == (
        "Split node 'by_lengths': input 1 ('lengths', the split sizes) is not a constant at "
        "import time: it depends on the values of graph input(s) 'lengths', not only on their "
        "shapes; accepted: values computed from initializers and shapes only")
    assert "--batch" not in text and "symbolic" not in text


def test_symbolic_dimension_is_where_batch_is_suggested() -> None:
    text = _error(_split_model("n"))
    assert "has the symbolic dimension 'n'; pass --batch N" in text


def test_split_sizes_from_shapes_fold() -> None:
    """The near miss: sizes computed from Shape(values) fold once the batch is bound."""
    nodes = [helper.make_node("Shape", ["values"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Sub", ["n", "one"], ["rest"]),
             helper.make_node("Unsqueeze", ["rest", "zero1"], ["rest1"]),
             helper.make_node("Concat", ["one1", "rest1"], ["sizes"], axis=0),
             helper.make_node("Split", ["values", "sizes"], ["a", "b"], name="by_shape"),
             helper.make_node("ReduceSum", ["b"], ["y"], keepdims=0)]  # over every axis
    inits = [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in
             (("zero", 0), ("one", 1), ("one1", [1]), ("zero1", [0]))]
    model = _model(nodes, [helper.make_tensor_value_info("values", F32, ["n", 4])],
                   [helper.make_tensor_value_info("y", F32, None)], inits)
    module = import_onnx(model, batch=5)
    values = np.arange(20, dtype=np.float32).reshape(5, 4)
    np.testing.assert_allclose(run(module.main, {"values": values})[0], values[1:].sum())


# -- the converter registry -------------------------------------------------------------
def _imports(path: Path) -> set[str]:
    """Every frontend.onnx module `path` imports, at any depth of its code."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            out |= {f"{base}.{a.name}" for a in node.names} | {base}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m.startswith("frontend.onnx")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycle_among_the_importer_modules() -> None:
    paths = sorted((ROOT / "frontend" / "onnx").rglob("*.py"))
    graph = {_module_name(p): _imports(p) for p in paths}
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in graph[m]:
            assert state.get(d) != 1, f"import cycle: {' -> '.join(stack + [m, d])}"
            if d not in state:
                visit(d, stack + [m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])
    assert "frontend.onnx.converters._registry" in graph["frontend.onnx.converters.control"]


def test_registry_refuses_a_second_converter_for_an_op() -> None:
    with pytest.raises(ValueError, match="ONNX op type.s. GRU converted twice"):
        register({"GRU": lambda ctx, node: []})
    assert register({"GRU": CONVERTERS["GRU"]}) == {"GRU": CONVERTERS["GRU"]}
