"""batch-norm rules: BatchNorm folded into the dense before or after it, numerically equal
(interpreter before and after, random statistics), and the near misses left alone."""

from __future__ import annotations

import numpy as np
import pytest
from rec_pass_helpers import Builder, assert_equivalent, op_names

from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions()


def _bn(b: Builder, x, n: int, rng):
    stats = [rng.uniform(0.5, 2.0, n), rng.uniform(-1, 1, n), rng.uniform(-1, 1, n),
             rng.uniform(0.1, 3.0, n)]
    return b.op("nn.batch_norm", x, *(b.const(s.astype(np.float32)) for s in stats),
                epsilon=1e-3)


@pytest.mark.parametrize("bias", [False, True])
def test_after_dense_folds_and_the_relu_fuses(bias):
    rng = np.random.default_rng(1)
    b = Builder()
    x = b.arg("x", (5, 4))
    w = b.const(rng.standard_normal((4, 3)).astype(np.float32))
    y = b.op("nn.matmul", x, w)
    if bias:
        y = b.op("nn.add", y, b.const(rng.standard_normal(3).astype(np.float32)))
    m = b.module(b.op("nn.relu", _bn(b, y, 3, rng)))
    assert assert_equivalent(m, FUSE.apply)
    assert op_names(m) == ["nn.constant", "nn.constant", "rec.dense"]
    assert m.main.ops[-1].attrs["activation"] == "relu"


def test_before_dense_folds_into_rows_and_bias():
    rng = np.random.default_rng(2)
    b = Builder()
    x = b.arg("x", (5, 4))
    w = b.const(rng.standard_normal((4, 3)).astype(np.float32))
    m = b.module(b.op("nn.tanh", b.op("nn.matmul", _bn(b, x, 4, rng), w)))
    assert assert_equivalent(m, FUSE.apply)
    assert "nn.batch_norm" not in op_names(m)
    assert m.main.ops[-1].attrs["activation"] == "tanh"


def test_shared_batch_norm_stays():
    """A BatchNorm whose result is also returned is computed anyway: folding it into the
    dense would compute it twice."""
    rng = np.random.default_rng(3)
    b = Builder()
    x = b.arg("x", (5, 4))
    w = b.const(rng.standard_normal((4, 3)).astype(np.float32))
    n = _bn(b, x, 4, rng)
    m = b.module(b.op("nn.matmul", n, w), n)
    assert_equivalent(m, FUSE.apply)
    assert op_names(m).count("nn.batch_norm") == 1


def test_rank3_token_axis_stays():
    rng = np.random.default_rng(4)
    b = Builder()
    x = b.arg("x", (5, 3, 4))
    w = b.const(rng.standard_normal((4, 3)).astype(np.float32))
    m = b.module(_bn(b, b.op("nn.matmul", x, w), 3, rng))
    assert_equivalent(m, FUSE.apply)
    assert op_names(m)[-1] == "nn.batch_norm"


def test_near_misses_say_why():
    from passes.rewrite import tracing

    rng = np.random.default_rng(5)
    b = Builder()
    x = b.arg("x", (5, 3, 4))
    w = b.const(rng.standard_normal((4, 3)).astype(np.float32))
    act = b.op("nn.relu", b.op("nn.matmul", b.arg("z", (5, 4)), w))
    m = b.module(_bn(b, b.op("nn.matmul", x, w), 3, rng), _bn(b, act, 3, rng))
    with tracing() as records:
        FUSE.apply(m)
    reasons = {r.reason for r in records if r.rule == "dense-batch-norm"}
    assert any("over a rank-3 value normalises axis 1" in r for r in reasons), reasons
    assert any("dense applies relu before the batch_norm" in r for r in reasons), reasons
