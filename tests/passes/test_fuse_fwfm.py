"""Field-weighted FM: one-pair products each times its field pair's weight, concatenated and
summed over the pairs and D, become one rec.pairwise (inner products) times the weights and a
sum; near misses (weights that vary along B or D, sums that keep an axis, a product used
elsewhere) stay as they are and say why; the RecBole fixtures keep no product forest."""

from __future__ import annotations

import numpy as np
import pytest
from fixture_fusion import entries_of, fused
from rec_pass_helpers import Builder, assert_equivalent, op_names

from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing

FUSE = FuseInteractions()
B, F, D = 3, 4, 5
PAIRS = [(i, j) for i in range(F) for j in range(i + 1, F)]


def _gather(b: Builder, x, i: int):
    return b.op("nn.gather", x, b.const(np.int64(i)), axis=1)


def _weight(p: int, near: str) -> np.ndarray:
    """Pair p's weight as RecBole's graph holds it: [B, 1], one number repeated over B."""
    w = np.full((B, 1), 0.5 + 0.25 * p, np.float32)
    if near == "batch" and p == 2:
        w[1, 0] += 1.0
    if near == "dim" and p == 2:
        return np.linspace(0.1, 0.5, D, dtype=np.float32).reshape(1, D)
    return w


def fwfm(near: str = "", sums: str = "nested", left: bool = False,
         unweighted: tuple[int, ...] = ()):
    """RecBole's fwfm_layer on x [B, F, D]: stack(x_i * x_j * r_ij over i < j) summed over the
    pairs, then over D (keepdims). `sums`: "nested" (RecBole), "one" (one reduce_sum over
    [1, 2]), "flat" (over [1, 2] without keepdims: [B]), "pairs" (over the pairs only).
    The fixtures check the exporters' own forms (the dynamo gathers canonicalize to these)."""
    b = Builder()
    x = b.arg("x", (B, F, D))
    blocks = []
    for p, (i, j) in enumerate(PAIRS):
        prod = b.op("nn.mul", _gather(b, x, i), _gather(b, x, j))
        if p not in unweighted:
            w = b.const(_weight(p, near))
            prod = b.op("nn.mul", w, prod) if left else b.op("nn.mul", prod, w)
        blocks.append(b.op("nn.unsqueeze", prod, axes=[1]))
    stacked = b.op("nn.concat", *blocks, axis=1)
    if sums == "nested":
        out = b.op("nn.reduce_sum", b.op("nn.reduce_sum", stacked, axes=[1], keepdims=False),
                   axes=[1], keepdims=True)
    elif sums == "pairs":
        out = b.op("nn.reduce_sum", stacked, axes=[1], keepdims=False)
    else:
        out = b.op("nn.reduce_sum", stacked, axes=[1, 2], keepdims=sums == "one")
    extra = [b.op("nn.reduce_sum", stacked, axes=[2], keepdims=False)] if near == "reused" else []
    return b.module(out, *extra)


def _compute_ops(module) -> list[str]:
    return [n for n in op_names(module) if n != "nn.constant"]


def _fuse_traced(module, rule: str, reason: str) -> None:
    """Fuse `module` (its outputs kept); `rule` gave `reason` at some anchor."""
    with tracing() as records:
        assert_equivalent(module, FUSE.apply)
    assert any(r.rule == rule and reason in r.reason for r in records), \
        sorted({r.reason for r in records if r.rule == rule})


def _reduced_pairs(module) -> list[bool]:
    return [o.attrs["reduce"] for o in module.main.ops if o.name == "rec.pairwise"]


@pytest.mark.parametrize("sums", ["nested", "one", "flat"])
def test_weighted_pairs_become_inner_products_weighted_and_summed(sums):
    m = fwfm(sums=sums)
    assert assert_equivalent(m, FUSE.apply)
    ops = _compute_ops(m)
    assert ops[:3] == ["rec.pairwise", "nn.mul", "nn.reduce_sum"]
    assert set(ops[3:]) <= {"nn.reshape"}
    pair = m.main.ops[[o.name for o in m.main.ops].index("rec.pairwise")]
    assert [list(pair.attrs["left"]), list(pair.attrs["right"])] == \
        [[i for i, _ in PAIRS], [j for _, j in PAIRS]]
    assert pair.attrs["reduce"]
    weights = next(o for o in m.main.ops if o.name == "nn.mul").operands[1].owner
    np.testing.assert_allclose(weights.attrs["value"].reshape(-1),
                               [0.5 + 0.25 * p for p in range(len(PAIRS))])


def test_weight_on_the_left_and_unweighted_pairs_count_as_one():
    m = fwfm(left=True, unweighted=(0, 4))
    assert assert_equivalent(m, FUSE.apply)
    assert _compute_ops(m) == ["rec.pairwise", "nn.mul", "nn.reduce_sum"]
    w = next(o for o in m.main.ops if o.name == "nn.mul").operands[1].owner.attrs["value"]
    assert w.reshape(-1)[[0, 4]].tolist() == [1.0, 1.0]


def test_sum_over_the_pairs_only_is_one_product_times_the_weights():
    m = fwfm(sums="pairs")
    _fuse_traced(m, "pairwise-weighted-sum", "not over the pairs and D")
    assert _compute_ops(m) == ["rec.pairwise", "nn.mul", "nn.reduce_sum"]
    assert _reduced_pairs(m) == [False]


@pytest.mark.parametrize("near", ["batch", "dim"])
def test_weights_that_are_not_one_number_per_pair_stay(near):
    m = fwfm(near=near)
    _fuse_traced(m, "pairwise-concat", "not one number per pair")
    # the concatenation is not raised: the one-pair products and their weights stay
    assert _reduced_pairs(m) == [False] * len(PAIRS)
    assert op_names(m).count("nn.concat") == 1


def test_weighted_products_used_elsewhere_stay_unsummed():
    m = fwfm(near="reused")
    _fuse_traced(m, "pairwise-weighted-sum", "also used outside the pattern")
    assert _reduced_pairs(m) == [False]


def test_sum_over_the_batch_is_not_an_interaction():
    b = Builder()
    x = b.arg("x", (B, F, D))
    prods = [b.op("nn.unsqueeze", b.op("nn.mul", b.op("nn.mul", _gather(b, x, i),
                                                       _gather(b, x, j)),
                                        b.const(np.float32(0.5 + p))), axes=[1])
             for p, (i, j) in enumerate(PAIRS)]
    stacked = b.op("nn.concat", *prods, axis=1)
    m = b.module(b.op("nn.reduce_sum", stacked, axes=[0, 1, 2], keepdims=False))
    _fuse_traced(m, "pairwise-weighted-sum", "not over the pairs and D, batch kept")
    assert _reduced_pairs(m) == [False]


def test_weight_that_broadcasts_the_pairs_stays():
    b = Builder()
    x = b.arg("x", (B, F, D))
    pairs = b.op("rec.pairwise", x, left=[i for i, _ in PAIRS], right=[j for _, j in PAIRS])
    scaled = b.op("nn.mul", pairs, b.const(np.ones((2, 1, 1, 1), np.float32)))
    m = b.module(b.op("nn.reduce_sum", scaled, axes=[1, 2], keepdims=False))
    _fuse_traced(m, "pairwise-weighted-sum", "the weight broadcasts the pairs")
    assert _reduced_pairs(m) == [False]


def test_scaled_block_seen_through_views_must_not_broadcast():
    b = Builder()
    x = b.arg("x", (B, F, D))
    blocks = []
    for p, (i, j) in enumerate(PAIRS):
        prod = b.op("nn.mul", _gather(b, x, i), _gather(b, x, j))
        w = np.full((1, B, 1), 0.5 + p, np.float32)  # [B, D] * [1, B, 1] -> [1, B, D]
        flat = b.op("nn.squeeze", b.op("nn.mul", prod, b.const(w)), axes=[0])
        blocks.append(b.op("nn.unsqueeze", flat, axes=[1]))
    m = b.module(b.op("nn.concat", *blocks, axis=1))
    _fuse_traced(m, "pairwise-concat", "the weight broadcasts the pair products")
    assert _reduced_pairs(m) == [False] * len(PAIRS)


FWFM = entries_of("fwfm")


@pytest.mark.parametrize("entry", FWFM, ids=lambda e: e["file"])
def test_fixture_keeps_no_product_forest(entry):
    module = fused(entry)
    names = op_names(module)
    assert names.count("rec.pairwise") == 1 and names.count("nn.mul") == 1
    pair = next(o for o in module.main.ops if o.name == "rec.pairwise")
    assert pair.attrs["reduce"] and len(pair.attrs["left"]) == 19 * 18 // 2
    assert not any(o.name == "nn.gather" and o.result.type.dtype.startswith("f")
                   for o in module.main.ops)
