"""fuse-interactions: every rule fires on its patterns, keeps the numbers, says why not."""

from __future__ import annotations

import numpy as np
import pytest
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.errors import PimcError
from passes.canonicalize import Canonicalize
from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing

RNG = np.random.default_rng(3)
FUSE = FuseInteractions()


def _w(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _fuse_equiv(m, rules="all", high=2):
    def both(mod):
        changed = FuseInteractions(rules=rules).apply(mod)
        Canonicalize().apply(mod)
        return changed
    return assert_equivalent(m, both, high=high)


def _rec_ops(m):
    return [n for n in op_names(m) if n.startswith("rec.")]


# -- dense ------------------------------------------------------------------------------------
def test_gemm_with_transposed_weight_bias_and_relu_is_one_dense():
    b = Builder()
    x = b.arg("x", (4, 3))
    y = b.op("nn.gemm", x, b.const(_w(5, 3)), b.const(_w(5)), trans_b=True, alpha=0.5,
             beta=2.0)
    m = b.module(b.op("nn.relu", y))
    assert _fuse_equiv(m)
    assert op_names(m) == ["nn.constant", "nn.constant", "rec.dense"]
    dense = m.main.ops[-1]
    assert dense.attrs["activation"] == "relu"
    assert dense.operands[1].type.shape == (3, 5)  # [in, out]


def test_a_transposed_gemm_weight_becomes_the_dense_weight_without_a_copy():
    """The dense weight is [in, out]: a Gemm's [out, in] weight with trans_b, as a Linear
    layer exports it, is kept as its transposed view (and tiled as views of it), not copied."""
    b = Builder()
    x = b.arg("x", (4, 3))
    w = b.const(_w(5, 3))
    m = b.module(b.op("nn.gemm", x, w, trans_b=True))
    original = w.owner.attrs["value"]
    assert _fuse_equiv(m)
    kept = next(o for o in m.main.ops if o.name == "rec.dense").operands[1].owner.attrs["value"]
    assert np.shares_memory(kept, original) and np.array_equal(kept, original.T)


@pytest.mark.parametrize("act", ["nn.sigmoid", "nn.tanh"])
def test_matmul_plus_bias_plus_activation_on_3d_input(act):
    b = Builder()
    x = b.arg("x", (2, 4, 3))
    y = b.op("nn.add", b.const(_w(1, 5)), b.op("nn.matmul", x, b.const(_w(3, 5))))
    m = b.module(b.op(act, y))
    _fuse_equiv(m)
    assert _rec_ops(m) == ["rec.dense"] and len(m.main.ops[-1].operands) == 3
    assert m.main.ops[-1].attrs["activation"] == act[3:]


def test_einsum_matmul_and_transposed_weight_are_dense():
    b = Builder()
    x = b.arg("x", (4, 3))
    y = b.op("nn.einsum", x, b.const(_w(3, 2)), equation="ij,jk->ik")
    wt = b.op("nn.transpose", b.const(_w(6, 2)), perm=[1, 0])
    m = b.module(b.op("nn.matmul", y, wt))
    assert FuseInteractions().apply(m)
    assert _rec_ops(m) == ["rec.dense", "rec.dense"]


def test_matmul_by_a_tensor_is_not_dense_and_says_why():
    b = Builder()
    x, w = b.arg("x", (4, 3)), b.arg("w", (3, 5))
    m = b.module(b.op("nn.matmul", x, w))
    with tracing() as trace:
        assert not FUSE.apply(m)
    assert ("dense", "weight is not a constant") in {(t.rule, t.reason) for t in trace}


def test_gemm_bias_varying_over_rows_is_not_folded_into_dense():
    b = Builder()
    x = b.arg("x", (4, 3))
    m = b.module(b.op("nn.gemm", x, b.const(_w(3, 5)), b.const(_w(4, 5))))
    with tracing() as trace:
        assert not FUSE.apply(m)
    assert any(t.reason == "gemm bias varies along the rows" for t in trace)


# -- embedding --------------------------------------------------------------------------------
def test_gather_of_a_table_is_a_lookup():
    b = Builder()
    ids = b.arg("ids", (4, 1), "i64")
    m = b.module(b.op("nn.gather", b.const(_w(10, 3)), ids))
    _fuse_equiv(m, high=10)
    (op,) = [o for o in m.main.ops if o.name == "rec.embedding_bag"]
    assert op.attrs["mode"] == "none"


@pytest.mark.parametrize("reduce,mode,keep", [("nn.reduce_sum", "sum", False),
                                              ("nn.reduce_mean", "mean", True),
                                              ("nn.reduce_max", "max", False)])
def test_fixed_bag_pooling(reduce, mode, keep):
    b = Builder()
    ids = b.arg("ids", (4, 3), "i64")
    rows = b.op("nn.gather", b.const(_w(10, 2)), ids)
    m = b.module(b.op(reduce, rows, axes=[1], keepdims=keep))
    _fuse_equiv(m, high=10)
    (op,) = [o for o in m.main.ops if o.name == "rec.embedding_bag"]
    assert op.attrs["mode"] == mode


def test_gather_on_axis_1_or_of_a_tensor_is_not_a_lookup():
    b = Builder()
    ids, t = b.arg("ids", (4,), "i64"), b.arg("t", (10, 3))
    a = b.op("nn.gather", b.const(_w(10, 3)), ids, axis=1)
    m = b.module(a, b.op("nn.gather", t, ids))
    assert not FuseInteractions(rules="embedding").apply(m)


# -- dot interaction --------------------------------------------------------------------------
def _gram(b, f=4, d=3, einsum=False):
    dense, sparse = b.arg("dense", (2, d)), b.arg("sparse", (2, f - 1, d))
    t = b.op("nn.concat", b.op("nn.unsqueeze", dense, axes=[1]), sparse, axis=1)
    if einsum:
        return b.op("nn.einsum", t, t, equation="bfd,bgd->bfg")
    return b.op("nn.matmul", t, b.op("nn.transpose", t, perm=[0, 2, 1]))


def _pairs(f, tri, diag):
    off = 0 if diag else 1
    if tri == "lower":
        return [(i, j) for i in range(f) for j in range(i + 1 - off)]
    return [(i, j) for i in range(f) for j in range(i + off, f)]


@pytest.mark.parametrize("tri,diag", [("lower", False), ("upper", False), ("lower", True),
                                      ("upper", True)])
def test_dlrm_flatten_gather_selection(tri, diag):
    b = Builder()
    z = b.op("nn.flatten", _gram(b), axis=1)
    idx = np.array([i * 4 + j for i, j in _pairs(4, tri, diag)], np.int64)
    m = b.module(b.op("nn.gather", z, b.const(idx), axis=1))
    _fuse_equiv(m)
    (op,) = [o for o in m.main.ops if o.name == "rec.dot_interaction"]
    assert (op.attrs["triangle"], op.attrs["self_interaction"]) == (tri, diag)
    assert "nn.matmul" not in op_names(m)


def test_torchrec_gather_nd_selection_and_einsum_gram():
    b = Builder()
    z = b.op("nn.transpose", _gram(b, einsum=True), perm=[1, 2, 0])  # Z[:, li, lj] export
    nd = b.op("nn.gather_nd", z, b.const(np.array(_pairs(4, "upper", False), np.int64)))
    m = b.module(b.op("nn.transpose", nd, perm=[1, 0]))
    _fuse_equiv(m)
    assert "rec.dot_interaction" in op_names(m) and "nn.gather_nd" not in op_names(m)


def test_selection_that_is_not_a_triangle_is_left_alone():
    b = Builder()
    z = b.op("nn.flatten", _gram(b), axis=1)
    idx = np.array([1, 2, 3, 6, 7, 8], np.int64)  # upper pairs, but (1,2) swapped for (1,3)
    m = b.module(b.op("nn.gather", z, b.const(idx), axis=1))
    with tracing() as trace:
        FuseInteractions(rules="dot-interaction").apply(m)
    assert "rec.dot_interaction" not in op_names(m)
    assert any("not a row-major triangle" in t.reason for t in trace)


# -- fm ---------------------------------------------------------------------------------------
def _fm_deepctr(b, x):
    sq = b.op("nn.pow", b.op("nn.reduce_sum", x, axes=[1], keepdims=True),
              b.const(np.float32(2.0)))
    ss = b.op("nn.reduce_sum", b.op("nn.mul", x, x), axes=[1], keepdims=True)
    total = b.op("nn.reduce_sum", b.op("nn.sub", sq, ss), axes=[2], keepdims=False)
    return b.op("nn.mul", total, b.const(np.float32(0.5)))


def _fm_torchfm(b, x, scale_first=False):
    sq = b.op("nn.mul", *[b.op("nn.reduce_sum", x, axes=[1], keepdims=False)] * 2)
    ss = b.op("nn.reduce_sum_square", x, axes=[1], keepdims=False)
    ix = b.op("nn.sub", sq, ss)
    if scale_first:
        return b.op("nn.reduce_sum", b.op("nn.div", ix, b.const(np.float32(2.0))), axes=[1])
    return b.op("nn.mul", b.const(np.float32(0.5)), b.op("nn.reduce_sum", ix, axes=[1]))


@pytest.mark.parametrize("variant", ["deepctr", "torchfm", "torchfm-scale-first"])
def test_fm_variants_are_one_reduced_fm(variant):
    b = Builder()
    x = b.arg("x", (4, 5, 3))
    y = _fm_deepctr(b, x) if variant == "deepctr" else \
        _fm_torchfm(b, x, scale_first=variant.endswith("first"))
    m = b.module(y)
    _fuse_equiv(m)
    assert _rec_ops(m) == ["rec.fm"] and m.main.ops[0].attrs["reduce"]


def test_unreduced_fm_keeps_the_keepdims_shape():
    b = Builder()
    x = b.arg("x", (4, 5, 3))
    sq = b.op("nn.pow", b.op("nn.reduce_sum", x, axes=[1]), b.const(np.float32(2.0)))
    ss = b.op("nn.reduce_sum", b.op("nn.pow", x, b.const(np.float32(2.0))), axes=[1])
    m = b.module(b.op("nn.mul", b.op("nn.sub", sq, ss), b.const(np.float32(0.5))))
    _fuse_equiv(m)
    assert op_names(m) == ["rec.fm", "nn.reshape"]
    assert not m.main.ops[0].attrs["reduce"] and m.main.outputs[0].type.shape == (4, 1, 3)


def test_fm_with_another_scale_is_not_fm():
    b = Builder()
    x = b.arg("x", (4, 5, 3))
    y = _fm_deepctr(b, x)
    quarter = b.const(np.float32(0.25))
    y.owner.operands[1] = quarter
    b.graph.ops.remove(quarter.owner)
    b.graph.ops.insert(0, quarter.owner)
    m = b.module(y)
    assert not FuseInteractions(rules="fm").apply(m)


# -- cross ------------------------------------------------------------------------------------
def _cross_vector_deepctr(b, x0, xl, d):
    """DeepCTR CrossNet 'vector' as exported: [B, D, 1] layout, tensordot by reshapes."""
    t = b.op("nn.reshape", b.op("nn.transpose", xl, perm=[0, 2, 1]), shape=[4, d])
    s = b.op("nn.reshape", b.op("nn.matmul", t, b.const(_w(d, 1))), shape=[4, 1, 1])
    dot = b.op("nn.matmul", x0, s)
    return b.op("nn.add", b.op("nn.add", dot, b.const(_w(d, 1))), xl)


def test_dcn_vector_cross_layers_in_deepctr_layout():
    b = Builder()
    x = b.arg("x", (4, 6))
    x0 = b.op("nn.unsqueeze", x, axes=[2])
    y = _cross_vector_deepctr(b, x0, _cross_vector_deepctr(b, x0, x0, 6), 6)
    m = b.module(b.op("nn.squeeze", y, axes=[2]))
    _fuse_equiv(m)
    assert _rec_ops(m) == ["rec.cross", "rec.cross"]
    assert {o.attrs["kind"] for o in m.main.ops if o.name == "rec.cross"} == {"vector"}
    assert "nn.matmul" not in op_names(m)


def test_dcn_v2_matrix_cross_torchrec_and_dense_forms():
    b = Builder()
    x0 = b.arg("x", (4, 6))
    # torchrec CrossNet: x0 * (squeeze(W @ unsqueeze(x)) + b) + x
    wx = b.op("nn.squeeze", b.op("nn.matmul", b.const(_w(6, 6)),
                                 b.op("nn.unsqueeze", x0, axes=[2])), axes=[2])
    x1 = b.op("nn.add", b.op("nn.mul", x0, b.op("nn.add", wx, b.const(_w(6)))), x0)
    # x0 * linear(x) + x with a Linear (gemm)
    lin = b.op("nn.gemm", x1, b.const(_w(6, 6)), b.const(_w(6)), trans_b=True)
    m = b.module(b.op("nn.add", x1, b.op("nn.mul", lin, x0)))
    _fuse_equiv(m)
    assert _rec_ops(m) == ["rec.cross", "rec.cross"]
    assert {o.attrs["kind"] for o in m.main.ops if o.name == "rec.cross"} == {"matrix"}


def test_cross_of_another_tensor_is_not_a_cross():
    b = Builder()
    x0, x, y = b.arg("x0", (4, 6)), b.arg("x", (4, 6)), b.arg("y", (4, 6))
    lin = b.op("nn.matmul", y, b.const(_w(6, 6)))  # L reads y, the residual is x
    m = b.module(b.op("nn.add", b.op("nn.mul", x0, lin), x))
    with tracing() as trace:
        FUSE.apply(m)
    assert "rec.cross" not in op_names(m)
    assert any("another tensor" in t.reason for t in trace if t.rule == "cross")


# -- attention --------------------------------------------------------------------------------
def _autoint_deepctr(b, x, heads=2, dh=2):
    """DeepCTR InteractingLayer as the dynamo exporter writes it (split + stack heads)."""
    bsz, f, d = x.type.shape
    flat = b.op("nn.reshape", x, shape=[bsz * f, d])

    def proj():
        p = b.op("nn.reshape", b.op("nn.matmul", flat, b.const(_w(d, heads * dh))),
                 shape=[bsz, f, heads * dh])
        parts = b.op("nn.split", p, axis=2, sizes=[dh] * heads)
        return b.op("nn.concat", *[b.op("nn.unsqueeze", s, axes=[0]) for s in parts], axis=0)

    q, k, v = proj(), proj(), proj()
    att = b.op("nn.softmax", b.op("nn.einsum", q, k, equation="bnik,bnjk->bnij"), axis=-1)
    r = b.op("nn.split", b.op("nn.matmul", att, v), axis=0, sizes=[1] * heads)
    return b.op("nn.squeeze", b.op("nn.concat", *r, axis=-1), axes=[0])


def _mha_transposed(b, x, heads=2, dh=3):
    """Reshape/transpose heads, q k^T by matmul, scaled by a division."""
    bsz, f, d = x.type.shape

    def proj(perm):
        p = b.op("nn.matmul", x, b.const(_w(d, heads * dh)))
        return b.op("nn.transpose", b.op("nn.reshape", p, shape=[bsz, f, heads, dh]),
                    perm=perm)

    q, kt, v = proj([0, 2, 1, 3]), proj([0, 2, 3, 1]), proj([0, 2, 1, 3])
    s = b.op("nn.div", b.op("nn.matmul", q, kt), b.const(np.float32(np.sqrt(dh))))
    o = b.op("nn.matmul", b.op("nn.softmax", s, axis=3), v)
    return b.op("nn.reshape", b.op("nn.transpose", o, perm=[0, 2, 1, 3]),
                shape=[bsz, f, heads * dh])


@pytest.mark.parametrize("build", [_autoint_deepctr, _mha_transposed])
def test_multi_head_self_attention(build):
    b = Builder()
    x = b.arg("x", (3, 5, 4))
    m = b.module(b.op("nn.relu", build(b, x)))
    _fuse_equiv(m)
    (op,) = [o for o in m.main.ops if o.name == "rec.attention"]
    assert op.attrs["heads"] == 2 and "nn.softmax" not in op_names(m)
    if build is _mha_transposed:
        assert op.attrs["scale"] == pytest.approx(1 / np.sqrt(3))


def test_attention_whose_merge_mixes_heads_is_left_alone():
    b = Builder()
    x = b.arg("x", (3, 5, 4))
    y = _autoint_deepctr(b, x)
    cat = y.owner.operands[0].owner
    cat.operands = cat.operands[::-1]  # heads merged in the wrong order
    m = b.module(y)
    with tracing() as trace:
        FuseInteractions(rules="dense+attention").apply(m)
    assert "rec.attention" not in op_names(m)
    assert any("does not invert" in t.reason for t in trace)


# -- gating and efc ---------------------------------------------------------------------------
def test_sigmoid_gating_either_order_and_through_a_dense_gate():
    b = Builder()
    x, g = b.arg("x", (4, 6)), b.arg("g", (4, 1))
    a = b.op("nn.mul", x, b.op("nn.sigmoid", g))
    gate = b.op("nn.sigmoid", b.op("nn.matmul", x, b.const(_w(6, 6))))
    m = b.module(b.op("nn.mul", gate, a))
    _fuse_equiv(m)
    assert _rec_ops(m).count("rec.gating") == 2
    assert all(o.attrs["activation"] == "none" for o in m.main.ops if o.name == "rec.dense")


def test_efc_einsum_and_transpose_dense_transpose():
    b = Builder()
    x = b.arg("x", (2, 5, 3))
    a = b.op("nn.einsum", x, b.const(_w(5, 4)), equation="bfd,fg->bgd")
    t = b.op("nn.transpose", a, perm=[0, 2, 1])
    mixed = b.op("nn.add", b.op("nn.matmul", t, b.const(_w(4, 6))), b.const(_w(6)))
    m = b.module(b.op("nn.transpose", mixed, perm=[0, 2, 1]))
    _fuse_equiv(m)
    assert _rec_ops(m) == ["rec.efc", "rec.efc"]
    assert len(m.main.ops[-1].operands) == 3  # the dense bias became the efc bias


# -- the pass ---------------------------------------------------------------------------------
def test_rules_option_selects_families():
    b = Builder()
    x = b.arg("x", (4, 3))
    m = b.module(b.op("nn.relu", b.op("nn.matmul", x, b.const(_w(3, 5)))))
    assert not FuseInteractions(rules="fm+gating").apply(m)
    assert FuseInteractions(rules="gating+dense").apply(m)
    assert _rec_ops(m) == ["rec.dense"]


def test_unknown_rule_lists_the_known_ones():
    from passes.rules import RULE_FAMILIES

    with pytest.raises(PimcError, match=r"unknown fusion rule 'bogus'; known: all, dense, ") \
            as info:
        FuseInteractions(rules="dense+bogus")
    assert str(info.value).endswith(", ".join(RULE_FAMILIES))


def test_pass_contract():
    assert FuseInteractions.name == "fuse-interactions"
    assert FuseInteractions(rules="fm").spec() == "fuse-interactions{rules=fm}"
    assert FuseInteractions().spec() == "fuse-interactions"


def test_fused_ops_keep_their_sources():
    b = Builder()
    x = b.arg("x", (4, 3))
    mm = b.op("nn.matmul", x, b.const(_w(3, 5)))
    mm.owner.meta["source"] = "/fc/MatMul"
    y = b.op("nn.relu", mm)
    y.owner.meta["source"] = "/fc/Relu"
    m = b.module(y)
    FUSE.apply(m)
    assert m.main.ops[-1].meta["source"] == ["/fc/MatMul", "/fc/Relu"]
