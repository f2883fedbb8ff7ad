"""Reference semantics of the `rec` dialect, exactly as the op docstrings define them."""

from __future__ import annotations

import numpy as np

from ir.dialects import rec
from ir.errors import PimcError
from ir.interp import semantics


def _sigmoid(a: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype)


_ACT = {
    "none": lambda a: a,
    "relu": lambda a: np.maximum(a, a.dtype.type(0)),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
}


@semantics(rec.Dense)
def _dense(op, x, w, b=None):
    y = np.matmul(x, w)
    if b is not None:
        y = y + b
    return _ACT[op.attrs["activation"]](y)


def _pool(rows: np.ndarray, mode: str, axis: int) -> np.ndarray:
    if mode == "sum":
        return rows.sum(axis=axis)
    if mode == "mean":
        return rows.mean(axis=axis)
    return rows.max(axis=axis)


def _check_rows(op, table: np.ndarray, idx: np.ndarray) -> None:
    if idx.size and (idx.min() < 0 or idx.max() >= table.shape[0]):
        raise PimcError(f"{op.name}: index out of range [0, {table.shape[0]}) "
                        f"(got {int(idx.min())}..{int(idx.max())})")


@semantics(rec.EmbeddingBag)
def _embedding_bag(op, table, indices, offsets=None):
    _check_rows(op, table, indices)
    mode = op.attrs["mode"]
    rows = table[indices]
    if offsets is None:
        return rows if mode == "none" else _pool(rows, mode, indices.ndim - 1)
    bounds = list(offsets) + [len(indices)]
    out = np.zeros((len(offsets), table.shape[1]), table.dtype)
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        if hi > lo:  # an empty bag pools to zeros, as torch's EmbeddingBag does
            out[i] = _pool(rows[lo:hi], mode, 0)
    return out


def triangle_pairs(f: int, triangle: str, self_interaction: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the pairs `rec.dot_interaction` keeps, row-major."""
    k = 0 if self_interaction else 1
    if triangle == "lower":
        return np.tril_indices(f, -k)
    return np.triu_indices(f, k)


@semantics(rec.DotInteraction)
def _dot_interaction(op, x):
    gram = np.matmul(x, np.swapaxes(x, 1, 2))
    rows, cols = triangle_pairs(x.shape[1], op.attrs["triangle"], op.attrs["self_interaction"])
    return gram[:, rows, cols]


@semantics(rec.FM)
def _fm(op, x):
    out = 0.5 * (np.square(x.sum(axis=1)) - np.square(x).sum(axis=1))
    return out.sum(axis=1, keepdims=True) if op.attrs["reduce"] else out


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def mixture_experts(x: np.ndarray, w: np.ndarray, c: np.ndarray, u: np.ndarray
                    ) -> list[np.ndarray]:
    """Each expert's low-rank map of a mixture `rec.cross`: tanh(tanh(x @ w[e]) @ c[e]) @ u[e]
    (three small matrices, never their [D, D] product)."""
    return [np.matmul(np.tanh(np.matmul(np.tanh(np.matmul(x, w[e])), c[e])), u[e])
            for e in range(w.shape[0])]


@semantics(rec.Cross)
def _cross(op, x0, x, w, b, c=None, u=None, g=None):
    if op.attrs["kind"] == "vector":
        return x0 * np.matmul(x, w)[..., None] + b + x
    if op.attrs["kind"] == "matrix":
        return x0 * (np.matmul(x, w) + b) + x
    if op.attrs["kind"] == "low_rank":
        return x0 * (np.matmul(np.matmul(x, w), c) + b) + x
    p = _softmax(np.matmul(x, g))
    out = x
    for e, y in enumerate(mixture_experts(x, w, c, u)):
        out = out + p[..., e:e + 1] * (x0 * (y + b))
    return out.astype(x.dtype)


def _heads(a: np.ndarray, h: int) -> np.ndarray:
    b, f, inner = a.shape
    return a.reshape(b, f, h, inner // h).transpose(0, 2, 1, 3)


@semantics(rec.Attention)
def _attention(op, x, wq, wk, wv, b=None, mask=None):
    h = op.attrs["heads"]
    b = np.zeros((3, wq.shape[1]), x.dtype) if b is None else b
    q, k, v = (_heads(np.matmul(x, w) + bias, h) for w, bias in zip((wq, wk, wv), b))
    scores = op.attrs["scale"] * np.matmul(q, np.swapaxes(k, -1, -2))
    if mask is not None:
        scores = scores + mask
    out = np.matmul(_softmax(scores), v)  # [B, H, F, dh]
    return out.transpose(0, 2, 1, 3).reshape(x.shape[0], x.shape[1], -1)


@semantics(rec.Gating)
def _gating(op, x, g):
    return x * _ACT[op.attrs["activation"]](g)


@semantics(rec.EFC)
def _efc(op, x, w, b=None):
    y = np.einsum("bfd,fg->bgd", x, w)
    return y if b is None else y + b


def pair_factors(op, xs) -> tuple[np.ndarray, np.ndarray]:
    """The left and right factors [B, P, D] of `rec.pairwise` / `rec.bilinear`."""
    rows = np.concatenate(xs, axis=1)
    return rows[:, list(op.attrs["left"])], rows[:, list(op.attrs["right"])]


def bilinear_left(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each pair's left factor [B, P, D] through its weight (shared [D, E] or [P, D, E])."""
    return np.matmul(a, w) if w.ndim == 2 else np.einsum("bpd,pde->bpe", a, w)


@semantics(rec.Pairwise)
def _pairwise(op, *xs):
    a, b = pair_factors(op, xs)
    out = a * b
    return out.sum(axis=-1) if op.attrs["reduce"] else out


@semantics(rec.Bilinear)
def _bilinear(op, w, *xs):
    a, b = pair_factors(op, xs)
    out = bilinear_left(a, w).astype(a.dtype) * b
    return out.sum(axis=-1) if op.attrs["reduce"] else out


@semantics(rec.MoE)
def _moe(op, g, x):
    weights = _softmax(g) if op.attrs["softmax"] else g
    return np.einsum("be,beh->bh", weights, x).astype(x.dtype)


def gru_order(op) -> range:
    """The time steps of a `rec.gru` in the order it takes them."""
    seq = op.operands[0].type.shape[0]
    return range(seq - 1, -1, -1) if op.attrs["reverse"] else range(seq)


@semantics(rec.Gru)
def _gru(op, x, w, r, wb, rb, h0, mask=None):
    hidden = r.shape[0]
    gates = x @ w + wb  # every step's input part at once
    y = np.zeros(x.shape[:2] + (hidden,), x.dtype)
    h = h0
    for t in gru_order(op):
        g = gates[t]
        hr = h @ r + rb
        zr = _sigmoid(g[:, :2 * hidden] + hr[:, :2 * hidden])
        z, reset = zr[:, :hidden], zr[:, hidden:]
        if op.attrs["linear_before_reset"]:
            cand = np.tanh(g[:, 2 * hidden:] + reset * hr[:, 2 * hidden:])
        else:
            cand = np.tanh(g[:, 2 * hidden:] + (reset * h) @ r[:, 2 * hidden:]
                           + rb[2 * hidden:])
        new = (1 - z) * cand + z * h
        h = new if mask is None else mask[t] * new + (1 - mask[t]) * h
        y[t] = h
    return y
