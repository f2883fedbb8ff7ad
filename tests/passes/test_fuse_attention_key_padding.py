"""attention rule on torch's TransformerEncoderLayer as torch-rechub's BST exports it: tokens
sequence-major, a packed biased in-projection, q and k^T each scaled by dh^-1/4 (torch's
scaled_dot_product_attention), and a key-padding mask built from the history's padding ids
([B, F] -> [B, 1, 1, F], expanded over the heads) added to the scores. It becomes one
rec.attention whose mask operand is the [B, 1, 1, F] reshape of the computed mask,
numerically the same; near misses (mask after the softmax, the scale over the mask, a scale
per head, the softmax over the queries) stay and say why. Then the op with such a mask: its
semantics, error bound, lowering and cost, and both BST fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from attention_builders import packed_qkv
from fixture_fusion import entries_of, fused
from lowering_check import assert_lowers_within_bound
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.core import Value
from ir.dialects import rec
from ir.interp import evaluate
from ir.types import TensorType
from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions()
B, F, D, H, DH = 3, 5, 4, 2, 2
E = H * DH
C = np.float32(DH ** -0.25)  # each of q and k^T is scaled by this


def _key_padding(b: Builder, ids: Value, fill: float, shape: list[int]) -> Value:
    """where(id == 0, fill, 0) over the history, the last token (the target) never masked,
    reshaped to `shape` and expanded over the heads."""
    pad = b.op("nn.equal", ids, b.const(np.int64(0)))  # [B, F-1]
    pad = b.op("nn.concat", pad, b.const(np.zeros((B, 1), bool)), axis=1)  # [B, F]
    mask = b.op("nn.where", pad, b.const(np.float32(fill)), b.const(np.zeros((B, F), np.float32)))
    mask = b.op("nn.reshape", mask, shape=shape)
    return b.op("nn.expand", mask, shape=[1, H, 1, 1])


def _arms(b: Builder, x: Value, rng) -> list[Value]:
    """q, k, v [B, H, F, dh] of a packed biased in-projection of x [B, F, D], read
    sequence-major as torch does."""
    xt = b.op("nn.transpose", x, perm=[1, 0, 2])  # [F, B, D]
    arms = []
    for part in packed_qkv(b, xt, rng, D, E):  # each [F, B, E]
        heads = b.op("nn.transpose", b.op("nn.reshape", part, shape=[F, B * H, DH]),
                     perm=[1, 0, 2])  # [B*H, F, dh]
        arms.append(b.op("nn.reshape", heads, shape=[B, H, F, DH]))
    return arms


def _bst(near: str = "", fill: float = -np.inf):
    """One BST attention block up to the merge of the heads ([F*B, E], before out_proj)."""
    rng = np.random.default_rng(3)
    b = Builder()
    x = b.arg("x", (B, F, D))
    ids = b.arg("ids", (B, F - 1), "i64")
    q, k, v = _arms(b, x, rng)
    mask = _key_padding(b, ids, fill, [B, 1, F, 1] if near == "query_axis" else [B, 1, 1, F])
    kt = b.op("nn.transpose", k, perm=[0, 1, 3, 2])
    c = b.const(np.array([C], np.float32))
    if near == "k_scaled_per_head":
        kt = b.op("nn.mul", kt, b.const(np.array([C, 2 * C], np.float32).reshape(1, H, 1, 1)))
    elif near != "scale_after_mask":
        kt = b.op("nn.mul", kt, c)
    scores = b.op("nn.matmul", q if near == "scale_after_mask" else b.op("nn.mul", q, c), kt)
    if near != "mask_after_softmax":
        scores = b.op("nn.add", scores, mask)
    if near == "scale_after_mask":  # softmax(c^2 (q k^T + mask)): the mask is scaled too
        scores = b.op("nn.mul", scores, b.const(np.float32(C * C)))
    probs = b.op("nn.softmax", scores, axis=-2 if near == "softmax_over_queries" else -1)
    if near == "mask_after_softmax":
        probs = b.op("nn.add", probs, mask)
    out = b.op("nn.transpose", b.op("nn.matmul", probs, v), perm=[2, 0, 1, 3])  # [F, B, H, dh]
    return b.module(b.op("nn.reshape", out, shape=[F * B, E]))


def _attention(m):
    (op,) = [o for o in m.main.ops if isinstance(o, rec.Attention)]
    return op


@pytest.mark.parametrize("fill", [-np.inf, -1e9], ids=["inf", "1e9"])
def test_key_padding_attention_is_one_op(fill):
    m = _bst(fill=fill)
    assert assert_equivalent(m, FUSE.apply)
    assert not {"nn.softmax", "nn.matmul", "nn.expand", "nn.slice"} & set(op_names(m))
    op = _attention(m)
    assert op.attrs["heads"] == H and op.attrs["scale"] == pytest.approx(DH ** -0.5)
    mask = op.arg("mask")
    assert mask.type.shape == (B, 1, 1, F)  # one row of keys per batch row, not expanded
    assert mask.owner.name == "nn.reshape" and mask.owner.operands[0].owner.name == "nn.where"


def test_a_mask_over_the_queries_stays_on_the_query_axis():
    m = _bst("query_axis", fill=-1e9)
    assert assert_equivalent(m, FUSE.apply)
    assert _attention(m).arg("mask").type.shape == (B, 1, F, 1)


@pytest.mark.parametrize("near, reason", [
    ("mask_after_softmax", "attention weights is nn.add"),
    ("scale_after_mask", "softmax input is nn.add"),
    ("k_scaled_per_head", "head source is nn.mul"),
    ("softmax_over_queries", "softmax is not over the last axis"),
])
def test_near_misses_stay_and_say_why(near, reason):
    assert_stays(_bst(near, fill=-1e4), "attention", "rec.attention", reason)


def _head_major(b: Builder, x: Value, rng) -> Value:
    """A projection of x [B, F, D] arranged head-major: [H*B, F, dh], block h*B + b."""
    y = b.op("nn.matmul", x, b.const(rng.standard_normal((D, E)).astype(np.float32)))
    y = b.op("nn.transpose", b.op("nn.reshape", y, shape=[B, F, H, DH]), perm=[2, 0, 1, 3])
    return b.op("nn.reshape", y, shape=[H * B, F, DH])


def test_a_head_major_mask_is_gathered_into_batch_head_order():
    rng = np.random.default_rng(8)
    b = Builder()
    x = b.arg("x", (B, F, D))
    mask = b.arg("m", (H * B, 1, F))  # one row of keys per head-major block
    q, k, v = (_head_major(b, x, rng) for _ in "qkv")
    scores = b.op("nn.add", b.op("nn.matmul", q, b.op("nn.transpose", k, perm=[0, 2, 1])), mask)
    out = b.op("nn.matmul", b.op("nn.softmax", scores, axis=-1), v)  # [H*B, F, dh]
    out = b.op("nn.transpose", b.op("nn.reshape", out, shape=[H, B, F, DH]), perm=[1, 2, 0, 3])
    m = b.module(b.op("nn.reshape", out, shape=[B, F, E]))
    assert assert_equivalent(m, FUSE.apply)
    operand = _attention(m).arg("mask")
    assert operand.type.shape == (B, H, 1, F) and operand.owner.name == "nn.gather"


def _op_and_vals(seed: int = 0):
    """rec.attention with a key-padding mask [B, 1, 1, F] (-inf on the padded keys)."""
    rng = np.random.default_rng(seed)
    vals = [rng.standard_normal(s).astype(np.float32)
            for s in [(B, F, D), (D, E), (D, E), (D, E), (3, E)]]
    padded = np.arange(F)[None] >= np.array([2, F, 1])[:, None]  # row b keeps its first keys
    vals.append(np.where(padded, -np.inf, 0).astype(np.float32).reshape(B, 1, 1, F))
    op = rec.Attention([Value(TensorType(a.shape, "f32")) for a in vals],
                       {"heads": H, "scale": float(DH ** -0.5)})
    return op, vals, padded


def test_key_padding_semantics_give_padded_keys_no_weight():
    op, vals, padded = _op_and_vals()
    x, wq, wk, wv, bias, _ = vals
    got = evaluate(op, vals)[0]
    for i in range(B):
        keep = ~padded[i]
        q, k, v = ((x[i] @ w + c).reshape(F, H, DH).transpose(1, 0, 2)
                   for w, c in zip((wq, wk, wv), bias))
        s = DH ** -0.5 * q @ k[:, keep].transpose(0, 2, 1)  # only the kept keys
        p = np.exp(s - s.max(-1, keepdims=True))
        want = ((p / p.sum(-1, keepdims=True)) @ v[:, keep]).transpose(1, 0, 2).reshape(F, E)
        np.testing.assert_allclose(got[i], want, rtol=1e-5, atol=1e-6)


def test_error_bound_with_a_key_padding_mask_holds_at_the_corners():
    from passes._lowering.error_bound_rules import RULES

    op, vals, _ = _op_and_vals(1)
    errs = [np.full(v.shape, 0.01) if i in (0, 4) else np.zeros(v.shape)
            for i, v in enumerate(vals)]
    base = evaluate(op, vals)[0].astype(np.float64)
    bound = RULES[rec.Attention](op, vals, errs, [base])[0]
    assert np.all(np.isfinite(bound))
    rng = np.random.default_rng(0)
    for _ in range(50):
        moved = [(v + e * rng.choice([-1.0, 1.0], v.shape)).astype(np.float32)
                 for v, e in zip(vals, errs)]
        assert np.all(np.abs(evaluate(op, moved)[0] - base) <= bound + 1e-5)


@pytest.mark.parametrize("target", ["hetero", "isaac"])
def test_lowered_key_padding_attention_stays_within_its_bound(target):
    m = _bst()
    FUSE.apply(m)
    names = assert_lowers_within_bound(m, target)
    assert "rec.attention" not in names and "pim.mvm" in names


def test_cost_counts_one_mask_add_per_score():
    from passes._costing.op_primitives import primitives
    from targets import load_target

    m = _bst()
    FUSE.apply(m)
    op = _attention(m)
    (prim,) = primitives(op, load_target("isaac"))
    assert prim.elements == 2 * B * F * F * E + B * H * F * F + 3 * B * F * E


@pytest.mark.parametrize("entry", entries_of("bst"), ids=lambda e: e["file"])
def test_rechub_bst_attention_fuses_with_its_key_padding_mask(entry):
    module = fused(entry)
    (op,) = [o for o in module.main.ops if isinstance(o, rec.Attention)]
    assert op.attrs["heads"] == 2 and op.arg("b") is not None
    assert op.arg("mask").type.shape == (8, 1, 1, 9)
    assert not {"nn.matmul", "nn.softmax"} & set(op_names(module))
