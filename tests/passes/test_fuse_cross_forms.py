"""cross rule, the forms beyond the textbook layer: a vector cross built without a bias (its
bias is zero), in the [B, D] and DeepCTR [B, D, 1] layouts; x0 * s formed transposed
(transpose(mul(transpose(x0), s^T))); and their near misses, which stay unfused and say why."""

from __future__ import annotations

import numpy as np
import pytest
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.dialects import rec
from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions()
RNG = np.random.default_rng(11)


def _w(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _flat_layer(b, x0, x, near=""):
    """x0 * (x @ w) + x on [B, D], w [D, 1]: a per-row scalar times x0, no bias."""
    s = b.op("nn.matmul", x, b.const(_w(6, 1)))
    if near == "bias_inside":
        s = b.op("nn.add", s, b.const(_w(1)))
    if near == "per_column":  # s^T [1, B] broadcast on [B, D] with B = D: a column per row
        s = b.op("nn.transpose", s, perm=[1, 0])
    return b.op("nn.add", b.op("nn.mul", x0, s), x)


def _deepctr_layer(b, x0, xl):
    """DeepCTR CrossNet 'vector' on [B, D, 1] (tensordot by reshapes), without its bias."""
    t = b.op("nn.reshape", b.op("nn.transpose", xl, perm=[0, 2, 1]), shape=[6, 6])
    s = b.op("nn.reshape", b.op("nn.matmul", t, b.const(_w(6, 1))), shape=[6, 1, 1])
    return b.op("nn.add", b.op("nn.matmul", x0, s), xl)


def _stays(m, reason: str) -> None:
    assert_stays(m, "cross", "rec.cross", reason)


def _crosses(m):
    return [o for o in m.main.ops if isinstance(o, rec.Cross)]


def test_unbiased_vector_cross_layers_fuse_with_a_zero_bias():
    b = Builder()
    x0 = b.arg("x", (6, 6))
    m = b.module(_flat_layer(b, x0, _flat_layer(b, x0, x0)))
    assert assert_equivalent(m, FUSE.apply)
    crosses = _crosses(m)
    assert [o.attrs["kind"] for o in crosses] == ["vector", "vector"]
    assert all(not o.operands[3].owner.attrs["value"].any() for o in crosses)
    assert not {"nn.matmul", "nn.mul", "nn.add"} & set(op_names(m))


def test_unbiased_deepctr_layout_fuses():
    b = Builder()
    x0 = b.op("nn.unsqueeze", b.arg("x", (6, 6)), axes=[2])
    y = _deepctr_layer(b, x0, _deepctr_layer(b, x0, x0))
    m = b.module(b.op("nn.squeeze", y, axes=[2]))
    assert assert_equivalent(m, FUSE.apply)
    assert [o.attrs["kind"] for o in _crosses(m)] == ["vector", "vector"]
    assert "nn.matmul" not in op_names(m)


@pytest.mark.parametrize("near, reason", [
    ("bias_inside", "vector cross has its bias inside the product"),
    ("per_column", "not laid out per row"),
    ("other_residual", "L reads another tensor"),
])
def test_unbiased_near_misses_stay_and_say_why(near, reason):
    b = Builder()
    x0, x = b.arg("x0", (6, 6)), b.arg("x", (6, 6))
    if near == "other_residual":  # L reads x0, the residual is x
        s = b.op("nn.matmul", x0, b.const(_w(6, 1)))
        y = b.op("nn.add", b.op("nn.mul", x0, s), x)
    else:
        y = _flat_layer(b, x0, x, near)
    _stays(b.module(y), reason)


def _transposed_layer(b, x0, x, near="", bias=True):
    """transpose(transpose(x0) * (x @ w)^T) [+ b] + x on [B, D]."""
    s = b.op("nn.transpose", b.op("nn.matmul", x, b.const(_w(6, 1))), perm=[1, 0])  # [1, B]
    if near == "per_column":  # [B, 1] on the [D, B] frame: row i of x0^T, i.e. column i
        s = b.op("nn.matmul", x, b.const(_w(6, 1)))
    x0t = x0 if near == "not_transposed" else b.op("nn.transpose", x0, perm=[1, 0])
    y = b.op("nn.transpose", b.op("nn.mul", s, x0t), perm=[1, 0])
    if bias:
        y = b.op("nn.add", y, b.const(_w(6, 1) if near == "bias_on_rows" else _w(6)))
    return b.op("nn.add", y, x)


@pytest.mark.parametrize("bias", [True, False])
def test_transposed_vector_cross_fuses(bias):
    b = Builder()
    x0 = b.arg("x", (6, 6))
    m = b.module(_transposed_layer(b, x0, _transposed_layer(b, x0, x0, bias=bias), bias=bias))
    assert assert_equivalent(m, FUSE.apply)
    assert [o.attrs["kind"] for o in _crosses(m)] == ["vector", "vector"]
    assert not {"nn.transpose", "nn.mul", "nn.matmul"} & set(op_names(m))


@pytest.mark.parametrize("near, reason", [
    ("per_column", "not laid out per row"),
    ("not_transposed", "not the transpose of x0 times a factor"),
    ("bias_on_rows", "bias differs between rows"),
])
def test_transposed_near_misses_stay_and_say_why(near, reason):
    b = Builder()
    x0, x = b.arg("x0", (6, 6)), b.arg("x", (6, 6))
    _stays(b.module(_transposed_layer(b, x0, x, near)), reason)
