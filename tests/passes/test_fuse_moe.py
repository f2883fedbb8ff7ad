"""moe rule: a softmax gate over stacked experts is one rec.moe, numerically the same; the
near misses (softmax over the batch, sum over the features) say why they stay."""

from __future__ import annotations

import pytest
from rec_pass_helpers import Builder, assert_equivalent, op_names

from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing

FUSE = FuseInteractions()


def _gate(softmax_axis: int, sum_axis: int, experts_first: bool):
    b = Builder()
    g, x = b.arg("g", (4, 3)), b.arg("x", (4, 3, 5))
    w = b.op("nn.unsqueeze", b.op("nn.softmax", g, axis=softmax_axis), axes=[2])
    mul = b.op("nn.mul", x, w) if experts_first else b.op("nn.mul", w, x)
    return b.module(b.op("nn.reduce_sum", mul, axes=[sum_axis], keepdims=False))


@pytest.mark.parametrize("experts_first", [True, False])
def test_gate_is_one_op(experts_first):
    m = _gate(-1, 1, experts_first)
    assert assert_equivalent(m, FUSE.apply)
    assert op_names(m) == ["rec.moe"]


@pytest.mark.parametrize("softmax_axis, sum_axis, reason", [
    (0, 1, "softmax is not over the experts"),
    (1, 2, "not over the expert axis"),
])
def test_near_misses_say_why(softmax_axis, sum_axis, reason):
    m = _gate(softmax_axis, sum_axis, True)
    with tracing() as records:
        assert_equivalent(m, FUSE.apply)
    assert "rec.moe" not in op_names(m)
    assert any(r.rule == "moe" and reason in r.reason for r in records), \
        [r.reason for r in records if r.rule == "moe"]
