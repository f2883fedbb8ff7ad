"""rec semantics against direct numpy formulations of the nn patterns they replace."""

from __future__ import annotations

import numpy as np
import pytest

from ir.core import Value
from ir.dialects import rec
from ir.errors import PimcError
from ir.interp import evaluate
from ir.types import TensorType

RNG = np.random.default_rng(7)


def _eval(cls, arrays, **attrs):
    vals = [Value(TensorType.of(a)) for a in arrays]
    (out,) = evaluate(cls(vals, attrs), arrays)
    assert out.dtype == np.float32
    return out


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("act,fn", [("none", lambda a: a), ("relu", lambda a: np.maximum(a, 0)),
                                    ("sigmoid", lambda a: 1 / (1 + np.exp(-a))),
                                    ("tanh", np.tanh)])
def test_dense_is_gemm_bias_activation(act, fn):
    x, w, b = _f32(4, 3), _f32(5, 3), _f32(5)  # torch Linear: weight [out, in]
    want = fn(x @ w.T + b)
    np.testing.assert_allclose(_eval(rec.Dense, [x, w.T.copy(), b], activation=act), want,
                               rtol=1e-5)


def test_dense_over_last_axis_of_3d():
    x, w = _f32(2, 4, 3), _f32(3, 6)
    np.testing.assert_allclose(_eval(rec.Dense, [x, w]), np.matmul(x, w), rtol=1e-5)


def test_embedding_lookup_and_fixed_bags():
    table, idx = _f32(10, 4), RNG.integers(0, 10, (3, 5))
    np.testing.assert_array_equal(_eval(rec.EmbeddingBag, [table, idx], mode="none"),
                                  np.take(table, idx, axis=0))
    np.testing.assert_allclose(_eval(rec.EmbeddingBag, [table, idx], mode="sum"),
                               table[idx].sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(_eval(rec.EmbeddingBag, [table, idx], mode="mean"),
                               table[idx].mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(_eval(rec.EmbeddingBag, [table, idx], mode="max"),
                                  table[idx].max(axis=1))


def test_embedding_bag_with_offsets_is_torch_style():
    table = _f32(10, 4)
    idx, offsets = np.array([1, 2, 3, 4, 5]), np.array([0, 2, 2])
    got = _eval(rec.EmbeddingBag, [table, idx, offsets], mode="sum")
    want = np.stack([table[[1, 2]].sum(0), np.zeros(4, np.float32), table[[3, 4, 5]].sum(0)])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_embedding_index_out_of_range_fails():
    with pytest.raises(PimcError, match="out of range"):
        _eval(rec.EmbeddingBag, [_f32(4, 2), np.array([[4]])], mode="none")


@pytest.mark.parametrize("tri,diag", [("lower", False), ("lower", True), ("upper", False),
                                      ("upper", True)])
def test_dot_interaction_is_dlrm_triangle(tri, diag):
    x = _f32(3, 5, 4)
    z = np.matmul(x, x.transpose(0, 2, 1))
    off = 0 if diag else 1
    if tri == "lower":  # DLRM: li, lj = [i for i in range(n) for j in range(i + off)]
        pairs = [(i, j) for i in range(5) for j in range(i + 1 - off)]
    else:  # torchrec: torch.triu_indices(n, n, offset)
        pairs = [(i, j) for i in range(5) for j in range(i + off, 5)]
    li, lj = map(list, zip(*pairs))
    got = _eval(rec.DotInteraction, [x], triangle=tri, self_interaction=diag)
    np.testing.assert_allclose(got, z[:, li, lj], rtol=1e-5)


@pytest.mark.parametrize("reduce", [True, False])
def test_fm_is_square_of_sum_minus_sum_of_squares(reduce):
    x = _f32(4, 6, 3)
    term = 0.5 * (np.power(x.sum(1, keepdims=True), 2) - (x * x).sum(1, keepdims=True))
    want = term.sum(2) if reduce else term[:, 0, :]
    np.testing.assert_allclose(_eval(rec.FM, [x], reduce=reduce), want, rtol=1e-5, atol=1e-6)


def test_cross_vector_is_dcn():
    x0, x, w, b = _f32(4, 6), _f32(4, 6), _f32(6), _f32(6)
    # DeepCTR CrossNet 'vector' on [B, D, 1]: x0 @ tensordot(x, w) + b + x
    x03, x3 = x0[:, :, None], x[:, :, None]
    xl_w = np.tensordot(x3, w[:, None], axes=([1], [0]))
    want = (np.matmul(x03, xl_w) + b[:, None] + x3)[:, :, 0]
    np.testing.assert_allclose(_eval(rec.Cross, [x0, x, w, b], kind="vector"), want, rtol=1e-5)


def test_cross_matrix_is_dcn_v2():
    x0, x, w, b = _f32(4, 6), _f32(4, 6), _f32(6, 6), _f32(6)
    # torchrec CrossNet: kernels [D, D] applied as W @ x
    want = x0 * ((w.T @ x[:, :, None])[:, :, 0] + b) + x
    np.testing.assert_allclose(_eval(rec.Cross, [x0, x, w, b], kind="matrix"), want,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("heads,scale", [(1, 1.0), (2, 0.5)])
def test_attention_is_autoint(heads, scale):
    x, wq, wk, wv = _f32(3, 5, 4), _f32(4, 6), _f32(4, 6), _f32(4, 6)
    q, k, v = (np.tensordot(x, w, axes=([-1], [0])) for w in (wq, wk, wv))
    split = [np.stack(np.split(t, heads, axis=2)) for t in (q, k, v)]  # [H, B, F, dh]
    s = np.einsum("bnik,bnjk->bnij", split[0], split[1]) * scale
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    r = np.matmul(p, split[2])
    want = np.concatenate(np.split(r, heads, axis=0), axis=-1)[0]
    got = _eval(rec.Attention, [x, wq, wk, wv], heads=heads, scale=scale)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", ["sigmoid", "relu"])
def test_gating(act):
    x, g = _f32(4, 6), _f32(4, 1)
    gate = 1 / (1 + np.exp(-g)) if act == "sigmoid" else np.maximum(g, 0)
    np.testing.assert_allclose(_eval(rec.Gating, [x, g], activation=act), x * gate, rtol=1e-6)


def test_efc_is_token_mixing():
    x, w, b = _f32(2, 5, 3), _f32(5, 4), _f32(4, 1)
    want = np.matmul(x.transpose(0, 2, 1), w).transpose(0, 2, 1) + b
    np.testing.assert_allclose(_eval(rec.EFC, [x, w, b]), want, rtol=1e-5)
    np.testing.assert_allclose(_eval(rec.EFC, [x, w]), np.einsum("bfd,fg->bgd", x, w),
                               rtol=1e-5)
