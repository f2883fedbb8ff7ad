"""pairwise rules and the rec.pairwise / rec.bilinear / rec.moe semantics: every rewrite keeps
the interpreter's outputs, both exporter forms of a field gather fuse, near misses say why."""

from __future__ import annotations

import numpy as np
import pytest
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.errors import PimcError
from ir.interp import evaluate
from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing

FUSE = FuseInteractions()
PAIRS = (np.array([0, 0, 1, 2]), np.array([1, 2, 2, 3]))


def _dynamo_gather(b: Builder, x, idx):
    t = b.op("nn.transpose", x, perm=[1, 0, 2])
    nd = b.op("nn.gather_nd", t, b.const(idx.reshape(-1, 1).astype(np.int64)))
    return b.op("nn.transpose", nd, perm=[1, 0, 2])


@pytest.mark.parametrize("form", ["legacy", "dynamo"])
def test_inner_product_of_pairs_is_one_op(form):
    b = Builder()
    x = b.arg("x", (3, 4, 5))
    if form == "legacy":
        left, right = (b.op("nn.gather", x, b.const(i), axis=1) for i in PAIRS)
    else:
        left, right = (_dynamo_gather(b, x, i) for i in PAIRS)
    m = b.module(b.op("nn.reduce_sum", b.op("nn.mul", left, right), axes=[2], keepdims=False))
    assert assert_equivalent(m, FUSE.apply)
    assert op_names(m) == ["rec.pairwise"]
    op = m.main.ops[0]
    assert list(op.attrs["left"]) == PAIRS[0].tolist() and op.attrs["reduce"]


def test_field_aware_pairs_over_three_spaces_merge_in_order():
    b = Builder()
    xs = [b.arg(f"x{s}", (2, 3, 4)) for s in range(3)]
    blocks = []
    for i, j in ((0, 1), (0, 2), (1, 2)):
        p = b.op("nn.mul", b.op("nn.gather", xs[j], b.const(np.int64(i)), axis=1),
                 b.op("nn.gather", xs[i], b.const(np.int64(j)), axis=1))
        blocks.append(b.op("nn.unsqueeze", p, axes=[1]))
    m = b.module(b.op("nn.concat", *blocks, axis=1))
    assert assert_equivalent(m, FUSE.apply)
    assert op_names(m) == ["rec.pairwise"]
    assert len(m.main.ops[0].operands) == 3


def test_near_misses_say_why():
    b = Builder()
    x = b.arg("x", (2, 3, 4))
    one = b.op("nn.gather", x, b.const(np.array([0], np.int64)), axis=1)
    two = b.op("nn.gather", x, b.const(np.array([1, 2], np.int64)), axis=1)
    m = b.module(b.op("nn.mul", one, two))
    with tracing() as records:
        FUSE.apply(m)
    assert "nn.mul" in op_names(m)
    assert any(r.rule == "pairwise" and "different numbers of pairs" in r.reason
               for r in records)


def test_semantics_by_hand():
    b = Builder()
    x = b.arg("x", (1, 2, 2))
    w = b.const(np.array([[[2.0, 0.0], [0.0, 1.0]]], np.float32))  # one pair's [D, D]
    bil = b.op("rec.bilinear", w, x, left=[0], right=[1], reduce=True)
    g = b.arg("g", (1, 2))
    e = b.arg("e", (1, 2, 3))
    moe = b.op("rec.moe", g, e)
    b.module(bil, moe)
    xv = np.array([[[1.0, 2.0], [3.0, 4.0]]], np.float32)
    # (x0 @ W) * x1 summed: [2, 2] . [3, 4] = 14
    assert evaluate(bil.owner, [w.owner.attrs["value"], xv])[0].tolist() == [[14.0]]
    ev = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    got = evaluate(moe.owner, [np.zeros((1, 2), np.float32), ev])[0]
    np.testing.assert_allclose(got, [[1.5, 2.5, 3.5]])  # equal gates: the mean of experts


def test_ops_refuse_bad_shapes():
    b = Builder()
    x = b.arg("x", (2, 3, 4))
    with pytest.raises(PimcError, match="left and right must be equally long"):
        b.op("rec.pairwise", x, left=[0, 1], right=[2])
    with pytest.raises(PimcError, match=r"rows in \[0, 3\)"):
        b.op("rec.pairwise", x, left=[3], right=[0])
    with pytest.raises(PimcError, match=r"weight must be \[4, 4\] or \[1, 4, 4\]"):
        b.op("rec.bilinear", b.const(np.ones((4, 3), np.float32)), x, left=[0], right=[1])
    with pytest.raises(PimcError, match="does not weigh experts"):
        b.op("rec.moe", b.arg("g", (2, 2)), x)
