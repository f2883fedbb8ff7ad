"""The built-in default model: a small DLRM written as ONNX with onnx.helper (no torch).

It has the structure of the reference DLRM export: a bottom MLP over the dense features,
one embedding lookup per categorical field, the pairwise dot-product interaction (batched
matmul of the stacked features with their transpose, then the strict lower triangle picked
by a Gather), and a top MLP ending in a sigmoid. The batch dimension is symbolic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DLRMSpec", "DEMO_TABLES", "dlrm_onnx"]

# Small tables for the demo (the synthetic generator's power law still applies).
DEMO_TABLES: tuple[int, ...] = (
    1460, 583, 4000, 3000, 305, 24, 1251, 633, 3, 930, 568, 3500, 319, 27, 1499, 2000, 10,
    565, 217, 4, 2500, 18, 15, 2861, 105, 1425,
)


@dataclass(frozen=True)
class DLRMSpec:
    table_sizes: tuple[int, ...] = DEMO_TABLES
    num_dense: int = 13
    dim: int = 16
    bottom: tuple[int, ...] = (64, 16)
    top: tuple[int, ...] = (64, 32, 1)
    seed: int = 0


class _Graph:
    """Collects nodes and initializers with unique names."""

    def __init__(self, seed: int) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.rng = np.random.default_rng(seed)
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(base)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], base: str | None = None, **attrs) -> str:
        from onnx import helper

        out = self.name(base or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_node", **attrs))
        return out

    def mlp(self, x: str, sizes: tuple[int, ...], fan_in: int, prefix: str,
            last_act: str | None = "Relu") -> str:
        for i, n in enumerate(sizes):
            scale = np.sqrt(2.0 / (fan_in + n))
            w = self.const(f"{prefix}.{i}.weight",
                           self.rng.normal(0, scale, (n, fan_in)).astype(np.float32))
            b = self.const(f"{prefix}.{i}.bias",
                           self.rng.normal(0, 0.1, n).astype(np.float32))
            x = self.node("Gemm", [x, w, b], transB=1)
            act = "Relu" if i < len(sizes) - 1 else last_act
            if act:
                x = self.node(act, [x])
            fan_in = n
        return x


def _interaction(g: _Graph, features: list[str], f: int) -> str:
    t = g.node("Concat", features, axis=1)
    tt = g.node("Transpose", [t], perm=[0, 2, 1])
    z = g.node("MatMul", [t, tt])
    flat = g.node("Reshape", [z, g.const("flat_shape", np.array([-1, f * f], np.int64))])
    li, lj = np.tril_indices(f, -1)
    return g.node("Gather", [flat, g.const("tril", (li * f + lj).astype(np.int64))], axis=1)


def dlrm_onnx(spec: DLRMSpec = DLRMSpec()):
    """The DLRM of `spec` as an onnx.ModelProto (opset 17, inputs dense and sparse)."""
    from onnx import TensorProto, helper

    g = _Graph(spec.seed)
    x = g.mlp("dense", spec.bottom, spec.num_dense, "bot")
    features = [g.node("Unsqueeze", [x, g.const("axes", np.array([1], np.int64))])]
    for j, size in enumerate(spec.table_sizes):
        table = g.const(f"emb.{j}.weight",
                        g.rng.uniform(-0.05, 0.05, (size, spec.dim)).astype(np.float32))
        ids = g.node("Gather", ["sparse", g.const("field", np.array([j], np.int64))], axis=1)
        features.append(g.node("Gather", [table, ids], base=f"emb{j}"))
    z = _interaction(g, features, len(features))
    top_in = g.node("Concat", [x, z], axis=1)
    f = len(features)
    y = g.mlp(top_in, spec.top, spec.bottom[-1] + f * (f - 1) // 2, "top", last_act="Sigmoid")
    g.nodes.append(helper.make_node("Identity", [y], ["prob"], name="prob_node"))
    graph = helper.make_graph(
        g.nodes, "dlrm",
        [helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["batch", spec.num_dense]),
         helper.make_tensor_value_info("sparse", TensorProto.INT64,
                                       ["batch", len(spec.table_sizes)])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["batch", 1])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="pimc-builtin")
    model.ir_version = 8
    return model
