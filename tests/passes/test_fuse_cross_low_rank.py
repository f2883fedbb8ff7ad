"""cross rule, low rank: x0 * (U(V x) + b) + x with V [D, r], U [r, D] (torchrec's
LowRankCrossNet) is a low_rank rec.cross that keeps the two factors while 2 r < D (else one
[D, D] matrix), numerically the same; its semantics, verifier, error bound, cost and
lowering; the real DLRM_DCN exports keep their rank-4 factors."""

from __future__ import annotations

import numpy as np
import pytest
from fixture_fusion import entries_of, fused
from lowering_check import assert_lowers_within_bound
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.core import Value
from ir.dialects import rec
from ir.errors import PimcError
from ir.interp import evaluate
from ir.types import TensorType
from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions()
B = 4


def _w(rng, *shape):
    return (rng.standard_normal(shape) * 0.4).astype(np.float32)


def _model(d: int, r: int, inner_act: str = "", layers: int = 2):
    rng = np.random.default_rng(3)
    b = Builder()
    x0 = b.arg("x", (B, d))
    x = x0
    for _ in range(layers):
        h = b.op("nn.matmul", x, b.const(_w(rng, d, r)))
        if inner_act:
            h = b.op(inner_act, h)
        lin = b.op("nn.add", b.op("nn.matmul", h, b.const(_w(rng, r, d))), b.const(_w(rng, d)))
        x = b.op("nn.add", b.op("nn.mul", x0, lin), x)
    return b.module(x)


def _crosses(m):
    return [o for o in m.main.ops if isinstance(o, rec.Cross)]


def test_low_rank_layers_keep_their_factors():
    m = _model(8, 2)
    assert assert_equivalent(m, FUSE.apply)
    ops = _crosses(m)
    assert [(o.attrs["kind"], o.attrs["rank"]) for o in ops] == [("low_rank", 2)] * 2
    assert [v.type.shape for v in ops[0].operands[2:]] == [(8, 2), (8,), (2, 8)]
    assert not {"nn.matmul", "rec.dense"} & set(op_names(m))


def test_a_rank_as_large_as_half_of_d_is_one_matrix():
    m = _model(4, 2)
    assert assert_equivalent(m, FUSE.apply)
    assert [o.attrs["kind"] for o in _crosses(m)] == ["matrix", "matrix"]


def test_an_activation_between_the_factors_is_no_cross():
    assert_stays(_model(8, 2, "nn.relu", layers=1), "cross", "rec.cross", "L reads another tensor")


def _vals(seed=0, d=8, r=2):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in [(B, d), (B, d), (d, r), (d,),
                                                               (r, d)]]


def _op(vals, rank=2):
    return rec.Cross([Value(TensorType(v.shape, "f32")) for v in vals],
                     {"kind": "low_rank", "rank": rank})


def test_semantics_are_torchrec_low_rank_cross():
    vals = _vals()
    x0, x, v, b, u = vals
    # torchrec: W_kernel [D, r] @ (V_kernel [r, D] @ x) + bias, here as [in, out] factors
    want = x0 * ((u.T @ (v.T @ x[:, :, None]))[:, :, 0] + b) + x
    np.testing.assert_allclose(evaluate(_op(vals), vals)[0], want, rtol=1e-5, atol=1e-5)


def test_verifier_names_the_rank_that_does_not_fit():
    with pytest.raises(PimcError, match=r"do not fit kind low_rank \(experts 1, rank 3: w \[8, "
                                        r"3\], b \[8\], c \[3, 8\]\)"):
        _op(_vals(), rank=3)


@pytest.mark.parametrize("moved", [1, 2, 4], ids=["x", "v", "u"])
def test_error_bound_holds_at_the_corners(moved):
    from passes._lowering.error_bound_rules import RULES

    vals = _vals(1)
    op = _op(vals)
    errs = [np.full(v.shape, 0.01) if i == moved else np.zeros(v.shape)
            for i, v in enumerate(vals)]
    base = evaluate(op, vals)[0].astype(np.float64)
    bound = RULES[rec.Cross](op, vals, errs, [base])[0]
    for seed in range(50):
        shifted = list(vals)
        signs = np.random.default_rng(seed).choice([-1.0, 1.0], vals[moved].shape)
        shifted[moved] = (vals[moved] + 0.01 * signs).astype(np.float32)
        assert np.all(np.abs(evaluate(op, shifted)[0] - base) <= bound + 1e-5)


def test_cost_counts_both_factors():
    from passes._costing.op_primitives import primitives
    from targets import load_target

    (prim,) = primitives(_op(_vals()), load_target("hbm-pim"))
    assert prim.elements == (3 + 2 * 2) * B * 8


def test_lowered_factors_stay_within_the_bound():
    m = _model(8, 2)
    FUSE.apply(m)
    names = assert_lowers_within_bound(m)
    assert "rec.cross" not in names and names.count("pim.mvm") >= 4  # V and U of each layer


@pytest.mark.parametrize("entry", entries_of("dlrm_dcn"), ids=lambda e: e["file"])
def test_dlrm_dcn_keeps_its_rank_4_factors(entry):
    ops = _crosses(fused(entry))
    assert [(o.attrs["kind"], o.attrs["rank"]) for o in ops] == [("low_rank", 4)] * 2
