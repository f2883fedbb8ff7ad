"""The importer's ONNX check (onnx.checker with strict type inference) serialises the model
once: inference runs inside the checker where the graph outputs are typed, and after it on the
outputs as they were where the checker needed them retyped. Either way a type error is
refused, and an untyped integer output is not judged by the FLOAT the checker was shown."""

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
