"""attention-pool rule: AFM's attention pooling, reduce_sum(softmax(a, 1) * x, 1) over items,
becomes rec.moe with the items as experts, numerically the same; near misses stay and say
why; the AFM exports of DeepCTR and pytorch-fm lose their softmax."""

from __future__ import annotations

import numpy as np
import pytest
from fixture_fusion import entries_of, fused
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.dialects import rec
from passes.fuse_interactions import FuseInteractions

B, P, D = 3, 6, 4


def _pool(order: str = "wx", softmax_axis: int = 1, sum_axis: int = 1, keepdims=False,
          scores=(B, P, 1)):
    b = Builder()
    a, x = b.arg("a", scores), b.arg("x", (B, P, D))
    w = b.op("nn.softmax", a, axis=softmax_axis)
    mul = b.op("nn.mul", *((w, x) if order == "wx" else (x, w)))
    return b.module(b.op("nn.reduce_sum", mul, axes=[sum_axis], keepdims=keepdims))


@pytest.mark.parametrize("order, keepdims", [("wx", False), ("xw", False), ("wx", True)])
def test_pooling_is_one_moe(order, keepdims):
    m = _pool(order, keepdims=keepdims)
    assert assert_equivalent(m, FuseInteractions().apply)
    (op,) = [o for o in m.main.ops if isinstance(o, rec.MoE)]
    assert op.attrs["softmax"] and op.operands[0].type.shape == (B, P)
    assert not {"nn.softmax", "nn.mul", "nn.reduce_sum"} & set(op_names(m))


@pytest.mark.parametrize("kw, reason", [
    ({"softmax_axis": 2, "scores": (B, P, D)}, "softmax is not over the items"),
    ({"sum_axis": 2}, "reduce_sum is not over the item axis (1)"),
    ({"scores": (B, 1, 1)}, "are not [B, P, D] for scores [3, 1, 1]"),
])
def test_near_misses_stay_and_say_why(kw, reason):
    assert_stays(_pool(**kw), "attention-pool", "rec.moe", reason)


@pytest.mark.parametrize("entry", entries_of("afm"), ids=lambda e: e["file"])
def test_afm_exports_pool_with_rec_moe(entry):
    names = op_names(fused(entry))
    assert names.count("rec.moe") == 1 and "nn.softmax" not in names


def _pool_matmul(queries: int = 1, softmax_axis: int = -1, items=(B, P, D), mask=False):
    b = Builder()
    a, x = b.arg("a", (B, queries, P)), b.arg("x", items)
    if mask:  # DIEN: padded steps' scores set to -inf before the softmax
        keep = b.arg("keep", (B, queries, P), dtype="bool")
        a = b.op("nn.where", keep, a, b.const(np.full((), -np.inf, np.float32)))
    w = b.op("nn.softmax", a, axis=softmax_axis)
    return b.module(b.op("nn.matmul", w, x))


@pytest.mark.parametrize("mask", [False, True])
def test_matmul_pooling_is_one_moe(mask):
    m = _pool_matmul(mask=mask)
    assert assert_equivalent(m, FuseInteractions().apply)
    (op,) = [o for o in m.main.ops if isinstance(o, rec.MoE)]
    assert op.operands[0].type.shape == (B, P) and op.result.type.shape == (B, D)
    assert not {"nn.softmax", "nn.matmul"} & set(op_names(m))


@pytest.mark.parametrize("kw, reason", [
    ({"queries": 2}, "are not one query per row ([B, 1, P])"),
    ({"softmax_axis": 1}, "softmax is not over the items (the last axis)"),
    ({"items": (P, D)}, "items [6, 4] are not [B, P, D] for weights [3, 1, 6]"),
])
def test_matmul_near_misses_stay_and_say_why(kw, reason):
    assert_stays(_pool_matmul(**kw), "attention-pool-matmul", "rec.moe", reason)


@pytest.mark.parametrize("entry", entries_of("dien"), ids=lambda e: e["file"])
def test_dien_target_attention_pools_with_rec_moe(entry):
    names = op_names(fused(entry))
    assert names.count("rec.moe") == 1 and "nn.softmax" not in names
