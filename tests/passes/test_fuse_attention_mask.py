"""attention rule with an additive mask: softmax(scale * q k^T + mask) becomes rec.attention with
a mask operand (a constant laid out as [B, H, F, F] or one [F, F], or a computed one reshaped
to the axes it varies along),
numerically the same; near misses stay and say why; the mask's semantics, error bound and
lowering."""

from __future__ import annotations

import numpy as np
import pytest
from lowering_check import assert_lowers_within_bound
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.dialects import rec
from ir.interp import evaluate
from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions()
B, F, D, H, DH = 2, 4, 6, 2, 3
E = H * DH
CAUSAL = np.triu(np.full((F, F), -1e9, np.float32), 1)


def _heads(b, x, w):
    y = b.op("nn.reshape", b.op("nn.matmul", x, b.const(w)), shape=[B, F, H, DH])
    return b.op("nn.transpose", y, perm=[0, 2, 1, 3])  # [B, H, F, DH]


def _masked(mask=None, mask_arg=None, mask_first=False, multiply=False):
    """Self-attention on [B, F, D] split into heads by reshape + transpose, with `mask` (an
    array: a constant) or an input of shape `mask_arg` added to the scaled scores."""
    rng = np.random.default_rng(5)
    b = Builder()
    x = b.arg("x", (B, F, D))
    q, k, v = (_heads(b, x, rng.standard_normal((D, E)).astype(np.float32)) for _ in "qkv")
    scores = b.op("nn.matmul", q, b.op("nn.transpose", k, perm=[0, 1, 3, 2]))
    scores = b.op("nn.mul", scores, b.const(np.float32(0.5)))
    m = b.arg("m", mask_arg) if mask_arg is not None else b.const(mask)
    if multiply:
        scores = b.op("nn.mul", scores, m)
    else:
        scores = b.op("nn.add", *((m, scores) if mask_first else (scores, m)))
    out = b.op("nn.matmul", b.op("nn.softmax", scores, axis=-1), v)
    out = b.op("nn.transpose", out, perm=[0, 2, 1, 3])
    return b.module(b.op("nn.reshape", out, shape=[B, F, E]))


def _attention(m):
    (op,) = [o for o in m.main.ops if isinstance(o, rec.Attention)]
    return op


PER_HEAD = np.stack([CAUSAL, CAUSAL.T])[None]  # [1, H, F, F]: causal for head 0, reversed for 1


@pytest.mark.parametrize("mask, first, want", [
    (CAUSAL, False, (F, F)),
    (np.where(CAUSAL < 0, -np.inf, 0).astype(np.float32), False, (F, F)),
    (CAUSAL[None, None], True, (F, F)),
    (PER_HEAD, False, (B, H, F, F)),
], ids=["causal_1e9", "causal_inf", "leading_ones_left", "per_head"])
def test_constant_mask_becomes_the_mask_operand(mask, first, want):
    m = _masked(mask, mask_first=first)
    assert assert_equivalent(m, FUSE.apply)
    op = _attention(m)
    assert len(op.operands) == 6 and op.arg("mask").type.shape == want
    assert not op.arg("b").owner.attrs["value"].any()  # no biases: zeros before the mask
    assert not {"nn.softmax", "nn.matmul", "nn.add"} & set(op_names(m))
    if want == (B, H, F, F):
        np.testing.assert_array_equal(op.arg("mask").owner.attrs["value"][1, 1], CAUSAL.T)


@pytest.mark.parametrize("shape, want", [((1, 1, F, F), (F, F)), ((B, 1, F, F), (B, 1, F, F))],
                         ids=["shared", "per_row"])
def test_computed_mask_is_an_operand(shape, want):
    m = _masked(mask_arg=shape)
    assert assert_equivalent(m, FUSE.apply)
    op = _attention(m)
    assert op.arg("mask").type.shape == want
    assert (op.arg("mask").owner is None) == (shape == want)  # the input itself, or a reshape


@pytest.mark.parametrize("kw, reason", [
    ({"mask": CAUSAL, "multiply": True}, "scores scaled by a tensor"),
])
def test_near_misses_stay_and_say_why(kw, reason):
    assert_stays(_masked(**kw), "attention", "rec.attention", reason)


def _vals(seed=0):
    """x, wq, wk, wv and zero biases."""
    rng = np.random.default_rng(seed)
    return [*(rng.standard_normal(s).astype(np.float32) for s in [(B, F, D), (D, E), (D, E),
                                                               (D, E)]),
            np.zeros((3, E), np.float32)]


def test_mask_semantics_add_before_the_softmax():
    from ir.core import Value
    from ir.types import TensorType

    x, wq, wk, wv, bias = _vals()
    op = rec.Attention([Value(TensorType(a.shape, "f32")) for a in (x, wq, wk, wv, bias, CAUSAL)],
                       {"heads": H, "scale": 0.5})
    got = evaluate(op, [x, wq, wk, wv, bias, CAUSAL])[0]
    q, k, v = ((x @ w).reshape(B, F, H, DH).transpose(0, 2, 1, 3) for w in (wq, wk, wv))
    s = 0.5 * q @ k.transpose(0, 1, 3, 2) + CAUSAL
    p = np.exp(s - s.max(-1, keepdims=True))
    want = ((p / p.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(B, F, E)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.allclose(got[:, 0], (x[:, 0] @ wv))  # the first token sees only itself


def test_verifier_refuses_a_mask_that_grows_the_scores():
    from ir.core import Value
    from ir.errors import PimcError
    from ir.types import TensorType

    shapes = [(B, F, D), (D, E), (D, E), (D, E), (3, E), (B, H, F, F + 1)]
    with pytest.raises(PimcError, match=r"mask \[2, 2, 4, 5\] does not broadcast to the scores"):
        rec.Attention([Value(TensorType(s, "f32")) for s in shapes], {"heads": H})


def test_error_bound_with_a_noisy_mask_holds_at_the_corners():
    from ir.core import Value
    from ir.types import TensorType
    from passes._lowering.error_bound_rules import RULES

    vals = [*_vals(1), CAUSAL]
    op = rec.Attention([Value(TensorType(a.shape, "f32")) for a in vals],
                       {"heads": H, "scale": 0.5})
    errs = [np.full(v.shape, 0.01) if i in (0, 5) else np.zeros(v.shape)
            for i, v in enumerate(vals)]
    base = evaluate(op, vals)[0].astype(np.float64)
    bound = RULES[rec.Attention](op, vals, errs, [base])[0]
    rng = np.random.default_rng(0)
    for _ in range(50):
        moved = [(v + e * rng.choice([-1.0, 1.0], v.shape)).astype(np.float32)
                 for v, e in zip(vals, errs)]
        assert np.all(np.abs(evaluate(op, moved)[0] - base) <= bound + 1e-5)


def test_lowered_masked_attention_stays_within_its_bound():
    m = _masked(CAUSAL)
    FUSE.apply(m)
    names = assert_lowers_within_bound(m)
    assert "rec.attention" not in names and "pim.mvm" in names


def test_cost_counts_the_mask_adds():
    from passes._costing.op_primitives import primitives
    from targets import load_target

    plain, masked = _masked(CAUSAL), _masked(CAUSAL)
    FUSE.apply(masked)
    FUSE.apply(plain)
    op = _attention(plain)
    op.operands = op.operands[:4]
    costs = [primitives(_attention(m), load_target("isaac"))[0].elements
             for m in (plain, masked)]
    # (the zero biases a masked op carries add nothing)
    assert costs == [2 * B * F * F * E, 2 * B * F * F * E + B * H * F * F]
