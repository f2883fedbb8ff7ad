"""The importer's ONNX check (onnx.checker with strict type inference) serialises the model
once: inference runs inside the checker where the graph outputs are typed, and after it on the
outputs as they were where the checker needed them retyped. Either way a type error is
refused, and an untyped integer output is not judged by the FLOAT the checker was shown.
Large initializers are shown to the checker without their bytes, only where those are exactly
as long as their shape and type need."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from google.protobuf.message import EncodeError
from onnx import helper, numpy_helper

import frontend.onnx._load as load
from frontend.onnx import import_onnx
from ir.errors import PimcError

F, I64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64


def _model(nodes, outputs, inits=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [8, 4])],
                              outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _typed(name, elem, shape=(8, 4)):
    return helper.make_tensor_value_info(name, elem, list(shape))


def _untyped(name):
    return onnx.ValueInfoProto(name=name)


def _float_plus_int(output) -> onnx.ModelProto:
    """x (float) + c (int64): the checker's schema pass accepts it, type inference does not."""
    c = numpy_helper.from_array(np.ones((8, 4), np.int64), "c")
    return _model([helper.make_node("Add", ["x", "c"], ["y"])], [output], [c])


@pytest.mark.parametrize("output", [_typed("y", F), _untyped("y")], ids=["typed", "untyped"])
def test_a_type_error_is_refused_with_typed_or_untyped_outputs(output):
    with pytest.raises(PimcError, match="not a valid ONNX model"):
        import_onnx(_float_plus_int(output), batch=8)


def test_an_output_declared_with_the_wrong_type_is_refused():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [_typed("y", I64)])
    with pytest.raises(PimcError, match="not a valid ONNX model"):
        import_onnx(model, batch=8)



def test_an_output_of_the_wrong_type_and_no_shape_is_refused():
    """Retyped for the checker (it has no shape); inference afterwards sees it as declared."""
    model = _model([helper.make_node("Relu", ["x"], ["y"])],
                   [helper.make_tensor_value_info("y", I64, None)])
    with pytest.raises(PimcError, match="not a valid ONNX model"):
        import_onnx(model, batch=8)

def test_an_untyped_integer_output_imports():
    """The near miss: the checker is shown this output as FLOAT; inference that saw it so
    would refuse the ArgMax's INT64."""
    model = _model([helper.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=1)],
                   [_untyped("y")])
    import_onnx(model, batch=8)
    assert model.graph.output[0].type.WhichOneof("value") is None  # given back as it was


def test_a_typed_model_is_serialised_once(monkeypatch):
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [_typed("y", F)])
    calls = []
    real = load._serialised
    monkeypatch.setattr(load, "_serialised", lambda p: calls.append(1) or real(p))
    monkeypatch.setattr(onnx.shape_inference, "infer_shapes",
                        lambda *a, **k: pytest.fail("inference ran apart from the checker"))
    import_onnx(model, batch=8)
    assert calls == [1]


def test_past_the_protobuf_limit_the_checker_is_skipped(monkeypatch):
    monkeypatch.setattr(load, "_PROTOBUF_LIMIT", 16)  # every model is "too large" now
    monkeypatch.setattr(onnx.checker, "check_model",
                        lambda *a, **k: pytest.fail("the checker ran on a model past the limit"))
    import_onnx(_model([helper.make_node("Relu", ["x"], ["y"])], [_typed("y", F)]), batch=8)


class _TooLarge:
    """A model protobuf cannot encode (2 GiB or more), as each backend reports it."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def SerializeToString(self):  # noqa: N802 - protobuf's name
        raise self.error


@pytest.mark.parametrize("error", [EncodeError("Failed to serialize proto"),
                                   ValueError("Message onnx.ModelProto exceeds maximum "
                                              "protobuf size of 2GB")])
def test_a_model_protobuf_cannot_encode_is_not_checked(error):
    assert load._serialised(_TooLarge(error)) is None


def _big_matmul(cut: int = 0, x_cols: int = 1024):
    """x [8, x_cols] @ w [1024, 512] (2 MiB of float32, past `load._ASIDE_BYTES`) + b [512]
    (2 KiB, below it); `cut` bytes taken off w's raw data."""
    w = numpy_helper.from_array(np.arange(1024 * 512, dtype=np.float32).reshape(1024, 512), "w")
    if cut:
        w.raw_data = w.raw_data[:-cut]
    b = numpy_helper.from_array(np.ones(512, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])],
        "g", [helper.make_tensor_value_info("x", F, [8, x_cols])], [_typed("y", F, (8, 512))],
        [w, b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_large_weight_is_checked_without_its_bytes_and_the_model_is_not_changed():
    model = _big_matmul()
    before = model.SerializeToString()
    shown = load._without_weights(model)
    w, b = shown.graph.initializer
    assert w.name == "w" and not w.HasField("raw_data") and list(w.dims) == [1024, 512]
    assert w.data_location == onnx.TensorProto.EXTERNAL
    assert b.raw_data == model.graph.initializer[1].raw_data  # a small one: whole
    assert shown.graph.node == model.graph.node and shown.opset_import == model.opset_import
    assert len(shown.SerializeToString()) < 8192
    module = import_onnx(model, batch=8)
    assert model.SerializeToString() == before
    assert module.main.ops


def test_a_large_weight_is_read_out_of_the_model_once(monkeypatch):
    """The bytes the check reads of a large weight are its array; a small one (checked whole)
    is read by onnx's own conversion."""
    converted = []
    real = numpy_helper.to_array
    monkeypatch.setattr(numpy_helper, "to_array",
                        lambda t, *a, **k: converted.append(t.name) or real(t, *a, **k))
    model = _big_matmul()
    assert set(load.check_model(model, "m")) == {"w"}
    module = import_onnx(model, batch=8)
    assert converted == ["b"]
    w = next(op.attrs["value"] for op in module.main.ops
             if op.name == "nn.constant" and op.attrs["value"].shape == (1024, 512))
    assert w.dtype == np.float32
    assert np.array_equal(w, np.arange(1024 * 512, dtype=np.float32).reshape(1024, 512))


def test_near_miss_a_large_weight_short_of_bytes_is_checked_whole():
    with pytest.raises(PimcError, match="raw_data size .* too small for the declared shape"):
        import_onnx(_big_matmul(cut=4), batch=8)


def test_near_miss_a_large_weight_of_the_wrong_shape_is_still_refused():
    """Its dims stay: strict inference still sees [1024, 512] against x's 512 columns."""
    with pytest.raises(PimcError, match="not a valid ONNX model"):
        import_onnx(_big_matmul(x_cols=512), batch=8)


def test_just_below_the_size_a_weight_is_checked_whole(monkeypatch):
    model = _big_matmul()
    monkeypatch.setattr(load, "_ASIDE_BYTES", 4 * 1024 * 512 + 1)
    assert load._without_weights(model).graph.initializer[0].HasField("raw_data")
    monkeypatch.setattr(load, "_ASIDE_BYTES", 4 * 1024 * 512)
    assert not load._without_weights(model).graph.initializer[0].HasField("raw_data")
