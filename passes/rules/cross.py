"""cross: DCN cross layers into `rec.cross`.

Each kind is `x0 * L(x) [+ b] + x` in any association of the adds, where L is a linear
map of the rows of x (viewed as [B, D] whatever the layout: DeepCTR works on [B, D, 1]):

- vector (DCN): L(x) = x . w is one number per row (w has D entries), the bias b is its own
  addend (absent: zero), and the product is `mul(x0, s)` or `matmul(x0 [B, D, 1], s [B, 1, 1])`;
- matrix (DCN-v2): L(x) = x @ W + b, W [D, D], with no separate bias;
- low_rank (torchrec's LowRankCrossNet): L(x) = x @ V @ U + b, kept as V [D, r] and U [r, D]
  while that is fewer weights than one [D, D].

L is found as a `rec.dense` without activation, `matmul(x, W)`, or `matmul(W, x [.., D, 1])`
(the weight on the left, DeepCTR and torchrec), each optionally plus a constant, with pure
reshapes (checked by probing) between the layouts.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule, const_of, expect, new_const, producer
from passes.rules._movement import reshaped_from

__all__ = ["RULES", "add_terms", "emit_cross", "row_vector"]


def add_terms(op: Op, ctx: Ctx, m: Match) -> list[Value]:
    """The addends of a tree of single-use adds rooted at `op`."""
    out: list[Value] = []
    for v in op.operands:
        inner = v.owner
        if isinstance(inner, nn.Add) and len(ctx.users(v)) == 1 and not ctx.is_output(v):
            m.ops.append(inner)
            out.extend(add_terms(inner, ctx, m))
        else:
            out.append(v)
    return out


def row_vector(c: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A constant added at `shape` as one [D] vector shared by every row."""
    expect(np.broadcast_shapes(c.shape, shape) == tuple(shape), "bias broadcasts the result")
    rows = np.broadcast_to(c, shape).reshape(shape[0], -1)
    expect(bool(np.all(rows == rows[:1])), "bias differs between rows")
    return rows[0]


def _dense_parts(op: Op, m: Match) -> tuple[Value, np.ndarray, np.ndarray | None]:
    m.ops.append(op)
    w, b = const_of(op.operands[1]), op.arg("b")
    expect(w is not None, "dense weight is not a constant")
    bias = None if b is None else const_of(b)
    expect(b is None or bias is not None, "dense bias is not a constant")
    return op.operands[0], w, bias


def _low_rank(x: Value, w: np.ndarray, b: np.ndarray | None, m: Match
              ) -> tuple[Value, np.ndarray, np.ndarray | None]:
    """A dense of a dense (torchrec's LowRankCrossNet: W(V x)): the inner factor V [D, r] with
    the outer one W [r, D] kept in `m.vals["up"]` while 2 r < D (fewer weights than [D, D]),
    else the one [D, D] map V W, formed in float64 and rounded once. The biases combine into
    one over the output (c W + b)."""
    inner = x.owner
    if not isinstance(inner, rec.Dense) or inner.attrs["activation"] != "none":
        return x, w, b
    x, v, c = _dense_parts(inner, m)
    bias = None if c is None else c.astype(np.float64) @ w
    if b is not None:
        bias = b if bias is None else bias + b
    bias = None if bias is None else np.asarray(bias, w.dtype)
    if 2 * v.shape[1] < v.shape[0]:
        m.vals["up"] = w
        return x, v, bias
    return x, (v.astype(np.float64) @ w.astype(np.float64)).astype(w.dtype), bias


def _linear(v: Value, ctx: Ctx, m: Match) -> tuple[Value, np.ndarray, np.ndarray | None]:
    """(input, w [in, out], b or None) where the rows of v are input rows @ w + b."""
    src = reshaped_from(v, ctx, m)
    op = src.owner
    if isinstance(op, nn.Add):
        m.ops.append(op)
        for y, c in (op.operands, op.operands[::-1]):
            if const_of(c) is not None:
                x, w, b = _linear(y, ctx, m)
                expect(b is None, "linear map has two biases")
                return x, w, row_vector(const_of(c), y.type.shape)
        raise NoMatch("add in the linear map has no constant")
    if isinstance(op, rec.Dense) and op.attrs["activation"] == "none":
        return _low_rank(*_dense_parts(op, m), m)
    expect(isinstance(op, nn.MatMul), "no linear map of x found")
    m.ops.append(op)
    a, b = op.operands
    if const_of(b) is not None and const_of(b).ndim == 2:
        return a, const_of(b), None
    w = const_of(a)
    expect(w is not None and w.ndim == 2 and b.type.rank >= 2 and b.type.shape[-1] == 1,
           "matmul is not a linear map with a constant weight")
    return b, w.T, None


# One reading of an addend as x0 * factor: (x0, factor, frame, ops), where frame is None or
# (product shape, perm) when the product is formed transposed and `perm` takes it back.
Factoring = tuple[Value, Value, "tuple[tuple[int, ...], list[int]] | None", list[Op]]


def _factorings(v: Value) -> list[Factoring]:
    """The ways to read v as x0 * factor."""
    op = v.owner
    if isinstance(op, nn_shape.Transpose):
        return _transposed(op)
    expect(isinstance(op, (nn.Mul, nn.MatMul)), "addend is not a product")
    a, b = op.operands
    if isinstance(op, nn.Mul):
        return [(a, b, None, [op]), (b, a, None, [op])]
    expect(a.type.shape[-1] == 1 and b.type.shape[-2:] == (1, 1),
           "matmul is not x0 times a per-row scalar")
    return [(a, b, None, [op])]


def _transposed(t: Op) -> list[Factoring]:
    """transpose(mul(transpose(x0), s)) where the outer transpose undoes the inner one: x0 * s
    computed in a transposed layout (s is then laid out in that layout)."""
    mul = producer(t.operands[0], nn.Mul, None, "transposed addend")
    perm = list(t.attrs["perm"])
    out = []
    for a, s in (mul.operands, mul.operands[::-1]):
        inner = a.owner
        if isinstance(inner, nn_shape.Transpose) and a.type.shape == mul.result.type.shape \
                and [inner.attrs["perm"][p] for p in perm] == list(range(len(perm))):
            out.append((inner.operands[0], s, (mul.result.type.shape, perm), [t, mul, inner]))
    expect(bool(out), "transposed product is not the transpose of x0 times a factor")
    return out


def _pattern(op: Op, ctx: Ctx) -> Match:
    base = Match(op, [op])
    terms = add_terms(op, ctx, base)
    expect(len(terms) in (2, 3), f"{len(terms)} addends, not 2 or 3")
    consts = [t for t in terms if const_of(t) is not None]
    expect(len(consts) == len(terms) - 2, "addends are not x0 * L(x), x [and a bias]")
    rest = [t for t in terms if const_of(t) is None]
    reasons = []
    for prod, x in (rest, rest[::-1]):
        try:
            factorings = _factorings(prod)
        except NoMatch as exc:
            reasons.append(str(exc))
            continue
        for x0, factor, frame, ops in factorings:
            try:
                trial = Match(op, [*base.ops, *ops])
                return _bind(trial, x0, (factor, frame), x, consts, ctx)
            except NoMatch as exc:
                reasons.append(str(exc))
    raise NoMatch("; ".join(dict.fromkeys(reasons)))


def _per_row(factor: Value, shape: tuple[int, ...], frame=None) -> bool:
    """Whether `factor` broadcast to `shape` (or to the frame's product shape, then transposed
    back) puts its i-th element on every element of row i (the layout of a per-row scalar),
    probed with distinct codes."""
    t = factor.type
    at, perm = frame or (shape, None)
    if t.size != shape[0] or len(t.shape) > len(at):
        return False
    codes = np.broadcast_to(np.arange(t.size).reshape(t.shape), at)
    if perm is not None:
        codes = codes.transpose(perm)
    rows = codes.reshape(shape[0], -1)
    return bool(np.all(rows == np.arange(shape[0])[:, None]))


def _bind(m: Match, x0: Value, factored: tuple, x: Value, consts: list[Value],
          ctx: Ctx) -> Match:
    shape = m.anchor.result.type.shape
    factor, frame = factored
    expect(x0.type.shape == x.type.shape == shape, "x0, x and the result differ in shape")
    lin_x, w, b = _linear(factor, ctx, m)
    expect(reshaped_from(lin_x, ctx) is reshaped_from(x, ctx), "L reads another tensor")
    d = x.type.size // shape[0]
    up = m.vals.pop("up", None)
    kind = "low_rank" if up is not None else "vector" if w.shape == (d, 1) else "matrix"
    expect(w.shape in ((d, 1), (d, d)) or (up is not None and up.shape == w.shape[::-1]
                                           and w.shape[0] == d),
           f"weight {list(w.shape)} fits no kind for D={d}")
    expect(kind == "vector" or frame is None, "matrix cross formed in a transposed layout")
    # Shapes alone cannot tell x0 * s (a scalar per row) from x0 * s^T when B = D: the
    # factor's layout must put row i's value on row i.
    expect(_per_row(factor, shape, frame) if kind == "vector" else factor.type.shape == shape,
           f"factor {list(factor.type.shape)} is not laid out per row of {list(shape)}")
    if kind == "vector":
        expect(b is None, "vector cross has its bias inside the product")
        # without an outer bias (a layer built without one) the bias is zero
        b = row_vector(const_of(consts[0]), shape) if consts else np.zeros(d, w.dtype)
    else:
        expect(not consts, "matrix cross has a bias outside the product")
        b = np.zeros(d, w.dtype) if b is None else b
    m.vals.update(x0=x0, x=x, w=w.reshape(d) if kind == "vector" else w, b=b, kind=kind,
                  up=up)
    return m


def emit_cross(shape: tuple[int, ...], x0: Value, x: Value, weights: list[np.ndarray],
               attrs: dict) -> Rewrite:
    """A `rec.cross` of `weights` on the [B, D] views of x0 and x, viewed back as `shape`."""
    flat = (shape[0], x.type.size // shape[0])
    ops: list[Op] = []

    def view(v: Value) -> Value:
        if v.type.shape == flat:
            return v
        ops.append(nn_shape.Reshape([v], {"shape": flat}))
        return ops[-1].result

    x0, x = view(x0), view(x)
    consts = [new_const(np.array(w, x.type.np_dtype)) for w in weights]
    ops += [*consts, rec.Cross([x0, x, *(c.result for c in consts)], attrs)]
    if flat != shape:
        ops.append(nn_shape.Reshape([ops[-1].result], {"shape": shape}))
    return Rewrite(ops, ops[-1].result)


def _rewrite(m: Match) -> Rewrite:
    d = m.x.type.size // m.anchor.result.type.shape[0]
    weights = [m.w, np.asarray(m.b).reshape(d)]
    attrs = {"kind": m.kind}
    if m.up is not None:
        weights.append(m.up)
        attrs["rank"] = m.up.shape[0]
    return emit_cross(m.anchor.result.type.shape, m.x0, m.x, weights, attrs)


RULES = (Rule("cross", (nn.Add,), _pattern, _rewrite),)
