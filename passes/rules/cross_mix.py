"""cross-mix: DCN-Mix (DCN-v2's low-rank mixture of experts) layers into a mixture `rec.cross`.

One layer, as DeepCTR's CrossNetMix exports it:

    x + matmul(concat_e(x0 * (U_e tanh(C_e tanh(V_e^T x)) + b), axis=2),
               softmax(concat_e(g_e(x), axis=1), axis=1))

on the [B, D, 1] layout, where g_e is a linear gate (one column per expert) and U_e, C_e,
V_e^T are constant matmuls (weight on the left of x [B, in, 1], or on the right of x [B, in],
or a `rec.dense` without bias). A stage may also be a `rec.dense` with activation tanh. The
low-rank weights are kept as they are, never multiplied into a [D, D] matrix: V [E, D, r],
C [E, r, r], U [E, r, D] and the gate [D, E], each [in, out].
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import Ctx, Match, NoMatch, Rewrite, Rule, const_of, expect, producer
from passes.rules._movement import reshaped_from
from passes.rules.cross import add_terms, emit_cross, row_vector

__all__ = ["RULES"]


def _rows(v: Value, b: int, n: int, form: str) -> None:
    want = {"left": (b, n, 1), "right": (b, n)}[form]
    expect(v.type.shape == want, f"{form}-weight stage input {list(v.type.shape)} is not "
                                 f"{list(want)}")


def _linear(v: Value, b: int, m: Match) -> tuple[Value, np.ndarray]:
    """(input, w [in, out]) of a constant linear map of the rows of v, without a bias."""
    op = producer(reshaped_from(v, None, m), (nn.MatMul, rec.Dense), m, "expert stage")
    lhs, rhs = op.operands[:2]
    if isinstance(op, rec.Dense):
        expect(len(op.operands) == 2 and op.attrs["activation"] == "none",
               "stage dense has a bias or an activation")
    w = const_of(rhs)
    if w is not None and w.ndim == 2:
        _rows(lhs, b, w.shape[0], "right")
        return lhs, w
    w = const_of(lhs)
    expect(isinstance(op, nn.MatMul) and w is not None and w.ndim == 2,
           "stage is not a matmul by a constant matrix")
    _rows(rhs, b, w.shape[1], "left")
    return rhs, w.T


def _tanh_stage(v: Value, b: int, m: Match) -> tuple[Value, np.ndarray]:
    """(input, w) where the rows of v are tanh(input rows @ w)."""
    src = reshaped_from(v, None, m)
    op = src.owner
    if isinstance(op, rec.Dense) and op.attrs["activation"] == "tanh":
        m.ops.append(op)
        w = const_of(op.operands[1])
        expect(len(op.operands) == 2 and w is not None, "tanh dense has a bias or no weight")
        _rows(op.operands[0], b, w.shape[0], "right")
        return op.operands[0], w
    op = producer(src, nn.Tanh, m, "low-rank activation")
    return _linear(op.operands[0], b, m)


def _expert(v: Value, b: int, m: Match) -> dict:
    """x0, V, C, U, bias of one expert x0 * (U tanh(C tanh(V^T x)) + b)."""
    mul = producer(reshaped_from(v, None, m), nn.Mul, m, "expert output")
    reasons = []
    for x0, f in (mul.operands, mul.operands[::-1]):
        trial = Match(m.anchor)
        try:
            expect(x0.type.shape == f.type.shape == mul.result.type.shape,
                   "expert product broadcasts")
            bias = None
            up = f
            if isinstance(f.owner, nn.Add):
                add = producer(f, nn.Add, trial)
                up, c = add.operands if const_of(add.operands[1]) is not None else \
                    add.operands[::-1]
                expect(const_of(c) is not None, "expert add has no constant bias")
                expect(up.type.shape == f.type.shape, "expert bias broadcasts the map")
                bias = row_vector(const_of(c), f.type.shape)
            h2, u = _linear(up, b, trial)
            h1, cw = _tanh_stage(h2, b, trial)
            x, v_w = _tanh_stage(h1, b, trial)
        except NoMatch as exc:
            reasons.append(str(exc))
            continue
        m.ops.extend(o for o in trial.ops if o not in m.ops)
        return {"x0": x0, "x": x, "v": v_w, "c": cw, "u": u, "b": bias}
    raise NoMatch("; ".join(dict.fromkeys(reasons)))


def _gates(p: Value, b: int, m: Match) -> tuple[list[Value], list[np.ndarray]]:
    """The gate inputs and weights [D, 1] (or one [D, E]) behind softmax probabilities p."""
    soft = producer(p, nn.Softmax, m, "expert weights")
    logits = soft.operands[0]
    expect(logits.type.rank == 3 and logits.type.shape[2] == 1 and
           soft.attrs["axis"] % 3 == 1, "softmax is not over the experts (axis 1 of [B, E, 1])")
    if isinstance(logits.owner, nn_shape.Concat):
        cat = producer(logits, nn_shape.Concat, m)
        expect(cat.attrs["axis"] % 3 == 1, "gate logits are not stacked on axis 1")
        parts = cat.operands
    else:
        parts = [logits]
    xs, ws = [], []
    for part in parts:
        x, w = _linear(part, b, m)
        expect(part.type.size == b * w.shape[1], "gate logits are not one row per input row")
        xs.append(x)
        ws.append(w)
    return xs, ws


def _mixture(v: Value, m: Match) -> tuple[list[dict], list[Value], np.ndarray]:
    mm = producer(v, nn.MatMul, m, "mixture")
    s, p = mm.operands
    b, d = s.type.shape[0], s.type.shape[1]
    cat = producer(s, nn_shape.Concat, m, "stacked experts")
    expect(s.type.rank == 3 and cat.attrs["axis"] % 3 == 2 and
           all(o.type.shape == (b, s.type.shape[1], 1) for o in cat.operands),
           "experts are not stacked on the last axis of [B, D, E]")
    expect(p.type.shape == (b, len(cat.operands), 1), "expert weights are not [B, E, 1]")
    experts = [_expert(o, b, m) for o in cat.operands]
    gate_xs, gate_ws = _gates(p, b, m)
    g = np.concatenate(gate_ws, axis=1)
    expect(g.shape == (d, len(experts)), f"gate {list(g.shape)} is not [{d}, {len(experts)}]")
    return experts, gate_xs, g


def _pattern(op: Op, ctx: Ctx) -> Match:
    base = Match(op, [op])
    terms = add_terms(op, ctx, base)
    expect(len(terms) == 2, f"{len(terms)} addends, not the mixture and x")
    reasons = []
    for mix, x in (terms, terms[::-1]):
        m = Match(op, list(base.ops))
        try:
            experts, gate_xs, g = _mixture(mix, m)
            _bind(m, experts, gate_xs, g, x)
            return m
        except NoMatch as exc:
            reasons.append(str(exc))
    raise NoMatch("; ".join(dict.fromkeys(reasons)))


def _bind(m: Match, experts: list[dict], gate_xs: list[Value], g: np.ndarray,
          x: Value) -> None:
    shape = m.anchor.result.type.shape
    expect(x.type.shape == shape and experts[0]["x0"].type.shape == shape,
           "x, x0 and the result differ in shape")
    src = reshaped_from(x)
    expect(all(reshaped_from(e["x"]) is src for e in experts), "an expert reads another tensor")
    expect(all(reshaped_from(v) is src for v in gate_xs), "a gate reads another tensor")
    x0 = reshaped_from(experts[0]["x0"])
    expect(all(reshaped_from(e["x0"]) is x0 for e in experts), "experts multiply different x0")
    d = x.type.size // shape[0]
    rank = experts[0]["c"].shape[0]
    for e in experts:
        expect(e["v"].shape == (d, rank) and e["c"].shape == (rank, rank) and
               e["u"].shape == (rank, d), "experts differ in rank or do not map D to D")
    biases = [e["b"] for e in experts]
    expect(all(b is None for b in biases) or
           all(b is not None and np.array_equal(b, biases[0]) for b in biases),
           "experts' biases differ")
    dtype = x.type.np_dtype
    m.vals.update(x0=experts[0]["x0"], x=x, g=g, rank=rank,
                  v=np.stack([e["v"] for e in experts]), c=np.stack([e["c"] for e in experts]),
                  u=np.stack([e["u"] for e in experts]),
                  b=np.zeros(d, dtype) if biases[0] is None else biases[0])


def _rewrite(m: Match) -> Rewrite:
    attrs = {"kind": "mixture", "experts": m.v.shape[0], "rank": m.rank}
    return emit_cross(m.anchor.result.type.shape, m.x0, m.x, [m.v, m.b, m.c, m.u, m.g], attrs)


RULES = (Rule("cross-mix", (nn.Add,), _pattern, _rewrite),)
