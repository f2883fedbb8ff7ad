"""bilinear rules: FiBiNET's split-and-dense pairs and PNN's kernel product become one
rec.bilinear, numerically the same; shared weights stay [D, D]; near misses say why."""

from __future__ import annotations

import numpy as np
import pytest
from rec_pass_helpers import Builder, assert_equivalent, op_names

from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing

FUSE = FuseInteractions()
RNG = np.random.default_rng(0)
PAIRS = ((0, 1), (0, 2), (1, 2))


def _w(d=4):
    return RNG.standard_normal((d, d)).astype(np.float32)


def _fibinet(b: Builder, x, weights, bias=False):
    """DeepCTR's bilinear 'interaction'/'all' layer: split, dense per pair, mul, concat."""
    fields = b.op("nn.split", x, axis=1, sizes=[1, 1, 1])
    out = []
    for (i, j), w in zip(PAIRS, weights):
        y = b.op("nn.matmul", fields[i], b.const(w))
        if bias:
            y = b.op("nn.add", y, b.const(np.ones(4, np.float32)))
        out.append(b.op("nn.mul", y, fields[j]))
    return b.op("nn.concat", *out, axis=1)


@pytest.mark.parametrize("shared", [False, True])
def test_fibinet_pairs_are_one_op(shared):
    b = Builder()
    x = b.arg("x", (2, 3, 4))
    weights = [_w()] * 3 if shared else [_w() for _ in PAIRS]
    m = b.module(_fibinet(b, x, weights))
    assert assert_equivalent(m, FUSE.apply)
    assert op_names(m) == ["nn.constant", "rec.bilinear"]
    op = m.main.ops[1]
    assert list(op.attrs["left"]) == [0, 0, 1] and list(op.attrs["right"]) == [1, 2, 2]
    w = m.main.ops[0].attrs["value"]
    assert w.shape == ((4, 4) if shared else (3, 4, 4))


def _kernel_product(b: Builder, x, kernel, axes=(1,)):
    rows, cols = (b.op("nn.gather", x, b.const(np.array(i)), axis=1) for i in zip(*PAIRS))
    p = b.op("nn.unsqueeze", rows, axes=list(axes))
    kp = b.op("nn.reduce_sum", b.op("nn.mul", p, b.const(kernel)), axes=[-1], keepdims=False)
    t = b.op("nn.transpose", kp, perm=[0, 2, 1])
    return b.op("nn.reduce_sum", b.op("nn.mul", t, cols), axes=[-1], keepdims=False)


def test_pnn_kernel_product_is_one_summed_op():
    b = Builder()
    x = b.arg("x", (2, 3, 4))
    kernel = RNG.standard_normal((4, 3, 4)).astype(np.float32)  # [D, pairs, D]
    m = b.module(_kernel_product(b, x, kernel))
    assert assert_equivalent(m, FUSE.apply)
    assert op_names(m) == ["nn.constant", "rec.bilinear"]
    assert m.main.ops[1].attrs["reduce"]
    np.testing.assert_array_equal(m.main.ops[0].attrs["value"][1], kernel[:, 1, :].T)


def _reasons(m, rule):
    with tracing() as records:
        FUSE.apply(m)
    return [r.reason for r in records if r.rule == rule]


def test_a_dense_with_a_bias_stays_unfused():
    b = Builder()
    x = b.arg("x", (2, 3, 4))
    m = b.module(_fibinet(b, x, [_w() for _ in PAIRS], bias=True))
    reasons = _reasons(m, "bilinear")
    assert "rec.bilinear" not in op_names(m)
    assert any("dense has a bias" in r for r in reasons), reasons


def test_a_split_over_the_embedding_axis_stays_unfused():
    b = Builder()
    x = b.arg("x", (2, 4, 4))
    parts = b.op("nn.split", x, axis=2, sizes=[2, 2])
    y = b.op("nn.matmul", parts[0], b.const(np.ones((2, 2), np.float32)))
    m = b.module(b.op("nn.mul", y, parts[1]))
    reasons = _reasons(m, "bilinear")
    assert "rec.bilinear" not in op_names(m)
    assert any("split is not over the field axis" in r for r in reasons), reasons


def test_a_kernel_of_the_wrong_layout_stays_unfused():
    b = Builder()
    x = b.arg("x", (2, 3, 4))
    kernel = RNG.standard_normal((4, 1, 4)).astype(np.float32)  # broadcast over the pairs
    m = b.module(_kernel_product(b, x, kernel))
    reasons = _reasons(m, "bilinear-kernel")
    assert "rec.bilinear" not in op_names(m)
    assert any("is not [4, 3, 4]" in r for r in reasons), reasons
