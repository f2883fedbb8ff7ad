"""attention rule on torch.nn.MultiheadAttention as exported (torchfm's AutoInt, 'afi'): tokens
sequence-major [F, B, D], one packed, biased in-projection [D, 3E] split into q, k, v, q
scaled before the product, heads merged back sequence-major. It becomes rec.attention with
the column blocks of the packed weight and bias, numerically the same; near misses stay and
say why."""

from __future__ import annotations

import numpy as np
import pytest
from attention_builders import packed_qkv
from fixture_fusion import entries_of, fused
from lowering_check import assert_lowers_within_bound
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.dialects import rec
from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions()
F, B, D, H, DH = 5, 3, 4, 2, 2
E = H * DH


def _mha(near: str = ""):
    """One MultiheadAttention(E, H) over x [F, B, D] (batch_first=False), without out_proj."""
    rng = np.random.default_rng(9)
    b = Builder()
    x = b.arg("x", (F, B, D))
    arms = []
    for i, part in enumerate(packed_qkv(b, x, rng, D, E)):  # each [F, B, E]
        if near == "k_rows_mixed" and i == 1:  # [F, B, E] memory read as [B*H, F, dh]
            arms.append(b.op("nn.reshape", part, shape=[B * H, F, DH]))
            continue
        heads = b.op("nn.reshape", part, shape=[F, B * H, DH])
        arms.append(b.op("nn.transpose", heads, perm=[1, 0, 2]))  # [B*H, F, dh]
    q, k, v = arms
    scale = np.full((1, 1, DH) if near == "q_scaled_per_column" else (), DH ** -0.5,
                    np.float32)
    q = b.op("nn.mul", q, b.const(scale))
    probs = b.op("nn.softmax", b.op("nn.matmul", q, b.op("nn.transpose", k, perm=[0, 2, 1])),
                 axis=-1)
    out = b.op("nn.matmul", probs, v)  # [B*H, F, dh]
    if near != "merge_without_transpose":
        out = b.op("nn.transpose", out, perm=[1, 0, 2])  # [F, B*H, dh]
    return b.module(b.op("nn.reshape", out, shape=[F, B, E]))


def test_packed_biased_sequence_major_attention_is_one_op():
    m = _mha()
    assert assert_equivalent(m, FUSE.apply)
    names = op_names(m)
    assert names.count("rec.attention") == 1
    assert not {"nn.matmul", "nn.softmax", "nn.slice", "rec.dense"} & set(names)
    (op,) = [o for o in m.main.ops if isinstance(o, rec.Attention)]
    assert op.attrs["heads"] == H and op.attrs["scale"] == pytest.approx(DH ** -0.5)
    assert [v.type.shape for v in op.operands] == [(B, F, D), (D, E), (D, E), (D, E), (3, E)]
    assert op.arg("mask") is None


@pytest.mark.parametrize("near, reason", [
    ("q_scaled_per_column", "head source is nn.mul"),
    ("k_rows_mixed", "heads are not contiguous column blocks"),
    ("merge_without_transpose", "merge does not invert the split"),
])
def test_near_misses_stay_and_say_why(near, reason):
    assert_stays(_mha(near), "attention", "rec.attention", reason)


def test_biased_semantics_and_error_bound():
    from ir.core import Value
    from ir.interp import evaluate
    from ir.types import TensorType
    from passes._lowering.error_bound_rules import RULES

    rng = np.random.default_rng(4)
    vals = [rng.standard_normal(s).astype(np.float32)
            for s in [(B, F, D), (D, E), (D, E), (D, E), (3, E)]]
    op = rec.Attention([Value(TensorType(a.shape, "f32")) for a in vals], {"heads": H})
    x, wq, wk, wv, bias = vals
    q, k, v = ((x @ w + c).reshape(B, F, H, DH).transpose(0, 2, 1, 3)
               for w, c in zip((wq, wk, wv), bias))
    s = q @ k.transpose(0, 1, 3, 2)
    p = np.exp(s - s.max(-1, keepdims=True))
    want = ((p / p.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(B, F, E)
    base = evaluate(op, vals)[0]
    np.testing.assert_allclose(base, want, rtol=1e-5, atol=1e-6)
    errs = [np.full(a.shape, 0.01) if i == 4 else np.zeros(a.shape) for i, a in enumerate(vals)]
    bound = RULES[rec.Attention](op, vals, errs, [base])[0]
    for seed in range(30):  # a bias moved at the corners stays within the bound
        moved = list(vals)
        moved[4] = (bias + 0.01 * np.random.default_rng(seed).choice([-1, 1], bias.shape)
                    ).astype(np.float32)
        assert np.all(np.abs(evaluate(op, moved)[0] - base) <= bound + 1e-5)


def test_lowered_biased_attention_stays_within_its_bound():
    m = _mha()
    FUSE.apply(m)
    names = assert_lowers_within_bound(m)
    assert "rec.attention" not in names and names.count("nn.add") >= 3  # the three biases


@pytest.mark.parametrize("entry", entries_of("afi"), ids=lambda e: e["file"])
def test_torchfm_autoint_layers_fuse(entry):
    module = fused(entry)
    ops = [o for o in module.main.ops if isinstance(o, rec.Attention)]
    assert len(ops) == 2 and all(o.arg("b") is not None for o in ops)
    assert not {"nn.matmul", "nn.softmax"} & set(op_names(module))
