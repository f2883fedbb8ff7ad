"""The verifier: dominance, dangling uses, results, and each op's own type rule."""

import pytest

from ir.core import Graph, Module, Value
from ir.dialects import lookup
from ir.errors import PimcError
from ir.text import parse
from ir.types import TensorType
from ir.verify import verify

F = TensorType((2, 3), "f32")


def _graph():
    x = Value(F, name="x")
    relu = lookup("nn.relu")([x])
    neg = lookup("nn.neg")([relu.result])
    return Graph("main", [x], [relu, neg], [neg.result], ["y"]), x, relu, neg


def test_a_well_formed_graph_verifies():
    g, *_ = _graph()
    verify(Module("m", [g]))


def test_use_before_definition_is_named():
    g, _, relu, neg = _graph()
    g.ops = [neg, relu]
    with pytest.raises(PimcError, match=r"op #0 \(nn.neg\).*used before it is defined"):
        verify(Module("m", [g]))


def test_dangling_operand_is_named():
    g, _, relu, neg = _graph()
    neg.operands = [Value(F, name="ghost")]
    with pytest.raises(PimcError, match="ghost.*not defined in this graph"):
        verify(Module("m", [g]))


def test_undefined_output_is_named():
    g, *_ = _graph()
    g.outputs = [Value(F, name="lost")]
    with pytest.raises(PimcError, match="output 0 .lost. is not defined"):
        verify(Module("m", [g]))


def test_wrong_result_type_is_named():
    text = ("module @m { graph @g(%a: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {\n"
            " %0 = nn.transpose(%a) {perm = [1, 0]} : tensor<2x3xf32>\n return %a } }")
    with pytest.raises(PimcError, match=r"does not match the inferred tensor<3x2xf32>"):
        verify(parse(text))


def test_bad_shapes_are_refused_when_built():
    a = Value(TensorType((2, 3), "f32"))
    b = Value(TensorType((4, 5), "f32"))
    with pytest.raises(PimcError, match="inner dimensions differ"):
        lookup("nn.matmul")([a, b])
    with pytest.raises(PimcError, match="do not broadcast"):
        lookup("nn.add")([a, b])


def test_rec_ops_check_their_weights():
    x = Value(TensorType((8, 16), "f32"))
    w = Value(TensorType((32, 4), "f32"))
    with pytest.raises(PimcError, match=r"weights are \[in, out\]"):
        lookup("rec.dense")([x, w])
    feats = Value(TensorType((8, 5, 4), "f32"))
    dot = lookup("rec.dot_interaction")([feats])
    assert dot.result.type.shape == (8, 10)
