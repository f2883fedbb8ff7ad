"""The importer's check asks onnx for each distinct (op, domain) of a model once; the answer is
the one a question per node gives: strict type inference only where every op has a schema in
the model's opsets."""

from __future__ import annotations

import onnx
import pytest
from onnx import helper

from frontend.onnx._load import _all_have_schemas


def _model(nodes: list[tuple[str, str]], opset: int = 13) -> onnx.ModelProto:
    made = [helper.make_node(op, ["x"], [f"y{i}"], domain=domain)
            for i, (op, domain) in enumerate(nodes)]
    graph = helper.make_graph(made, "g", [helper.make_tensor_value_info("x", 1, [2])], [])
    imports = [helper.make_opsetid("", opset), helper.make_opsetid("my.ops", 1)]
    return helper.make_model(graph, opset_imports=imports)


def _per_node(proto: onnx.ModelProto) -> bool:
    opsets = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    return all(onnx.defs.has(n.op_type, opsets.get(n.domain or "ai.onnx", 0), n.domain)
               for n in proto.graph.node)


@pytest.mark.parametrize("nodes, opset, want", [
    ([("Relu", ""), ("Relu", ""), ("Sigmoid", "")], 13, True),
    ([("Relu", ""), ("Relu", "my.ops")], 13, False),  # one op name in two domains
    ([("Relu", "my.ops"), ("Relu", "")], 13, False),
    ([("Relu", ""), ("Gelu", "")], 13, False),  # not yet in opset 13
    ([("Relu", ""), ("Gelu", "")], 20, True),
    ([("Relu", ""), ("Relu", "ai.onnx")], 13, False),  # (onnx names the default domain "")
    ([], 13, True),
])
def test_one_question_per_distinct_op_gives_the_per_node_answer(nodes, opset, want):
    proto = _model(nodes, opset)
    assert _all_have_schemas(proto) is want
    assert _per_node(proto) is want
