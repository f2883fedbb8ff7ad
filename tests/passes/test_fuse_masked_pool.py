"""masked-sum rule: a mask-weighted sum of a padded lookup is a summed rec.embedding_bag over
a table whose padding row is zero, numerically the same (a non-zero padding row included);
near misses say why."""

from __future__ import annotations

import numpy as np
from rec_pass_helpers import Builder, op_names, random_inputs

from ir.interp import run
from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing

FUSE = FuseInteractions()
TABLE = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)  # row 0 non-zero


def _masked_sum(pad=0, mask_ids=None):
    b = Builder()
    ids = b.arg("ids", (4, 5), "i64")
    other = b.arg("other", (4, 5), "i64")
    eq = b.op("nn.equal", mask_ids(ids, other) if mask_ids else ids, b.const(np.int64(pad)))
    mask = b.op("nn.cast", b.op("nn.unsqueeze", b.op("nn.not", eq), axes=[1]), to="f32")
    rows = b.op("nn.gather", b.const(TABLE), ids, axis=0)
    return b.module(b.op("nn.matmul", mask, rows))


def test_masked_sum_is_one_bag_with_the_padding_row_zeroed():
    m = _masked_sum()
    feed = random_inputs(m, high=6)
    feed["ids"][:, 3:] = 0  # padded tails, one row all padding
    feed["ids"][1] = 0
    before = run(m.main, feed)
    FUSE.apply(m)
    np.testing.assert_array_equal(run(m.main, feed)[0], before[0])
    assert "rec.embedding_bag" in op_names(m) and "nn.matmul" not in op_names(m)
    bag = next(o for o in m.main.ops if o.name == "rec.embedding_bag")
    assert bag.attrs["mode"] == "sum"
    table = bag.operands[0].owner.attrs["value"]
    assert not table[0].any() and np.array_equal(table[1:], TABLE[1:])


def _reasons(m):
    with tracing() as records:
        FUSE.apply(m)
    assert "nn.matmul" in op_names(m)
    return [r.reason for r in records if r.rule == "masked-sum"]


def test_a_mask_over_other_ids_stays_unfused():
    reasons = _reasons(_masked_sum(mask_ids=lambda ids, other: other))
    assert any("not over the looked-up ids" in r for r in reasons), reasons


def test_a_padding_id_outside_the_table_stays_unfused():
    reasons = _reasons(_masked_sum(pad=9))
    assert any("padding id 9 is outside" in r for r in reasons), reasons
