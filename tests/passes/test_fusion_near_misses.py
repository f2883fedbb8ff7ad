"""Fusion rules prove what they match: every near miss of tests/filecheck/fuse_near_misses.pir
stays unfused *and* keeps its numbers, each rule says why it refused, and every positive form
keeps the interpreter's outputs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.text import parse
from passes.canonicalize import Canonicalize
from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing

NEAR = Path(__file__).parents[1] / "filecheck" / "fuse_near_misses.pir"
RNG = np.random.default_rng(7)

# Per near miss: the rec op it imitates (None where a smaller fusion inside it is right and
# only the outer op must stay), the nn op that must survive, and the reason its rule gives.
EXPECTED = {
    "gram_of_two_tensors": ("rec.dot_interaction", "nn.matmul", "not the transpose of the left"),
    "gram_einsum_of_two_tensors": ("rec.dot_interaction", "nn.einsum", "is not a Gram matrix"),
    "gram_einsum_over_features": ("rec.dot_interaction", "nn.einsum", "is not a Gram matrix"),
    "gram_matmul_over_features": ("rec.dot_interaction", "nn.matmul", "right gram operand"),
    "dense_bias_on_rows": (None, "nn.add", "not a bias over the output axis"),
    "dense_einsum_over_rows": ("rec.dense", "nn.einsum", "is not x @ w over the last axis"),
    "dense_gemm_transposed_input": ("rec.dense", "nn.gemm", "gemm transposes its input"),
    "embedding_sum_over_dim": (None, "nn.reduce_sum", "are not the bag axis"),
    "fm_wrong_axis": ("rec.fm", "nn.sub", "not over the feature axis"),
    "fm_two_tensors": ("rec.fm", "nn.sub", "over different tensors"),
    "fm_reversed_difference": ("rec.fm", "nn.sub", "squared term"),
    "fm_not_a_square": ("rec.fm", "nn.sub", "mul is not a square"),
    "cross_bias_on_rows": ("rec.cross", "nn.mul", "bias differs between rows"),
    "cross_scalar_per_column": ("rec.cross", "nn.mul", "not laid out per row"),
    "cross_other_residual": ("rec.cross", "nn.mul", "L reads another tensor"),
    "gating_tanh": ("rec.gating", "nn.mul", "no operand is a sigmoid"),
    "efc_tokens_last": ("rec.efc", "nn.einsum", "is not 'bfd,fg->bgd'"),
    "efc_bias_per_batch_row": (None, "nn.add", "not a bias per token"),
    "efc_not_swapped_back": ("rec.efc", "nn.transpose", "transpose is not [0, 2, 1]"),
}


def _cases() -> dict[str, str]:
    chunks = NEAR.read_text().split("// -----")
    return {re.search(r"^module @(\w+)", c, re.M).group(1): c for c in chunks}


def _fuse(module) -> bool:
    changed = FuseInteractions().apply(module)
    Canonicalize().apply(module)
    return changed


def test_every_near_miss_of_the_text_file_is_listed():
    assert sorted(_cases()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_near_miss_stays_unfused_keeps_its_numbers_and_says_why(name):
    module = parse(_cases()[name])
    imitated, kept, reason = EXPECTED[name]
    with tracing() as trace:
        assert_equivalent(module, _fuse, seed=3, high=4)
    names = op_names(module)
    assert kept in names and (imitated is None or imitated not in names), names
    assert any(reason in t.reason for t in trace), sorted({t.reason for t in trace})


def _w(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _positive(build, want: str, count: int = 1):
    b = Builder()
    m = b.module(build(b))
    assert assert_equivalent(m, _fuse, seed=5, high=6)
    assert op_names(m).count(want) == count, op_names(m)
    return m


# -- positive forms without a numerical test elsewhere -----------------------------------------
def test_einsum_dense_and_transposed_constant_weight_keep_the_numbers():
    def build(b):
        y = b.op("nn.einsum", b.arg("x", (4, 3)), b.const(_w(3, 2)), equation="ij,jk->ik")
        return b.op("nn.matmul", y, b.op("nn.transpose", b.const(_w(6, 2)), perm=[1, 0]))
    _positive(build, "rec.dense", 2)


def test_vector_cross_on_rows_keeps_the_numbers():
    def build(b):
        x = b.arg("x", (3, 3))  # B = D: the layout check, not the shapes, decides
        s = b.op("nn.matmul", x, b.const(_w(3, 1)))
        return b.op("nn.add", b.op("nn.add", b.op("nn.mul", x, s), b.const(_w(3))), x)
    _positive(build, "rec.cross")


def test_efc_left_matmul_and_its_bias_keep_the_numbers():
    def build(b):
        y = b.op("nn.matmul", b.const(_w(4, 5)), b.arg("x", (2, 5, 3)))  # w^T @ x
        return b.op("nn.add", y, b.const(_w(1, 4, 1)))
    m = _positive(build, "rec.efc")
    (efc,) = [o for o in m.main.ops if o.name == "rec.efc"]
    assert len(efc.operands) == 3


def test_pooled_bag_with_keepdims_keeps_the_numbers():
    def build(b):
        rows = b.op("nn.gather", b.const(_w(7, 2)), b.arg("ids", (3, 4), "i64"))
        return b.op("nn.reduce_mean", rows, axes=[1], keepdims=True)
    m = _positive(build, "rec.embedding_bag")
    assert m.main.ops[-1].name == "nn.unsqueeze" or m.main.outputs[0].type.shape == (3, 1, 2)


def test_fm_scaled_then_summed_keeps_the_numbers():
    def build(b):
        x = b.arg("x", (2, 4, 3))
        s = b.op("nn.reduce_sum", x, axes=[1], keepdims=False)
        core = b.op("nn.sub", b.op("nn.mul", s, s),
                    b.op("nn.reduce_sum_square", x, axes=[1], keepdims=False))
        half = b.op("nn.mul", core, b.const(np.float32(0.5)))
        return b.op("nn.reduce_sum", half, axes=[1], keepdims=True)
    m = _positive(build, "rec.fm")
    assert [o.attrs["reduce"] for o in m.main.ops if o.name == "rec.fm"] == [True]


def test_gating_by_a_broadcast_gate_keeps_the_numbers():
    def build(b):
        g = b.op("nn.sigmoid", b.arg("g", (2, 3, 1)))
        return b.op("nn.mul", g, b.arg("x", (2, 3, 4)))
    _positive(build, "rec.gating")
