"""cross-mix rule and the mixture rec.cross: DCN-Mix layers (as DeepCTR's CrossNetMix exports
them) become one rec.cross each whose low-rank weights stay apart, numerically the same; the
near misses stay unfused and say why; the op's semantics, verifier, error bound, cost and
lowering; the real DCN-Mix fixtures fuse and compile within their error bound."""

from __future__ import annotations

import numpy as np
import pytest
from fixture_fusion import FIXTURES, entries_of, fused, real_inputs
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.dialects import rec
from ir.errors import PimcError
from ir.types import TensorType
from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions()
B, D, R, E = 4, 6, 2, 3


def _w(rng, *shape):
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


def _layer(b: Builder, x0, xl, rng, *, near: str = "", right: bool = False,
           gate: str = "each"):
    """One CrossNetMix layer on [B, D, 1]: x_l + matmul(stack_e(x0 * (U_e tanh(C_e tanh(
    V_e^T x_l)) + bias)), softmax(stack_e(gate_e(x_l)), 1)). `near` breaks one thing; `right`
    writes the stages as x @ W on [B, n]; `gate` "one" computes all logits with one matmul."""
    act = "nn.relu" if near == "relu" else "nn.tanh"
    flat = b.op("nn.squeeze", xl, axes=[2])
    bias = _w(rng, D, 1)
    experts, gates = [], []
    for e in range(E):
        if right:
            h = b.op(act, b.op("nn.matmul", flat, b.const(_w(rng, D, R))))
            h = b.op(act, b.op("nn.matmul", h, b.const(_w(rng, R, R))))
            y = b.op("nn.unsqueeze", b.op("nn.matmul", h, b.const(_w(rng, R, D))), axes=[2])
        else:
            h = b.op(act, b.op("nn.matmul", b.const(_w(rng, R, D)), xl))
            h = b.op(act, b.op("nn.matmul", b.const(_w(rng, R, R)), h))
            y = b.op("nn.matmul", b.const(_w(rng, D, R)), h)
        own = _w(rng, D, 1) if near == "bias_differs" else bias
        y = b.op("nn.add", y, b.const(own))
        factor = xl if near == "x0_differs" and e == 1 else x0
        experts.append(b.op("nn.mul", factor, y))
        reads = b.op("nn.squeeze", x0, axes=[2]) if near == "gate_other" else flat
        gates.append(b.op("nn.unsqueeze", b.op("nn.matmul", reads, b.const(_w(rng, D, 1))),
                          axes=[1]))
    if gate == "one":
        logits = b.op("nn.unsqueeze", b.op("nn.matmul", flat, b.const(_w(rng, D, E))),
                      axes=[2])
    else:
        logits = b.op("nn.concat", *gates, axis=1)
    probs = b.op("nn.softmax", logits, axis=2 if near == "softmax_axis" else 1)
    mix = b.op("nn.matmul", b.op("nn.concat", *experts, axis=2), probs)
    return b.op("nn.add", mix, xl)


def _model(layers: int = 2, own_xl: bool = False, **kw):
    """`layers` layers from x0 = x_l = x, or one from x0 = x and its own x_l."""
    rng = np.random.default_rng(0)
    b = Builder()
    x0 = b.op("nn.unsqueeze", b.arg("x", (B, D)), axes=[2])
    xl = b.op("nn.unsqueeze", b.arg("xl", (B, D)), axes=[2]) if own_xl else x0
    for _ in range(layers):
        xl = _layer(b, x0, xl, rng, **kw)
    return b.module(b.op("nn.squeeze", xl, axes=[2]))


def _mixtures(m):
    return [o for o in m.main.ops if isinstance(o, rec.Cross)]


@pytest.mark.parametrize("right, gate", [(False, "each"), (True, "each"), (False, "one")])
def test_each_layer_is_one_mixture_cross(right, gate):
    m = _model(right=right, gate=gate)
    assert assert_equivalent(m, FUSE.apply)
    names = op_names(m)
    assert names.count("rec.cross") == 2
    assert not {"nn.matmul", "nn.softmax", "nn.tanh", "rec.dense"} & set(names)
    for op in _mixtures(m):
        assert (op.attrs["kind"], op.attrs["experts"], op.attrs["rank"]) == ("mixture", E, R)
        assert [v.type.shape for v in op.operands[2:]] == \
            [(E, D, R), (D,), (E, R, R), (E, R, D), (D, E)]
    # the low-rank weights are never multiplied out into a [D, D] matrix
    assert not [o for o in m.main.ops if o.name == "nn.constant"
                and o.result.type.shape == (D, D)]


def test_a_layer_with_its_own_x0_is_one_mixture_cross():
    m = _model(layers=1, own_xl=True)
    assert assert_equivalent(m, FUSE.apply)
    (op,) = _mixtures(m)
    assert op.operands[0] is not op.operands[1]


@pytest.mark.parametrize("near, reason", [
    ("x0_differs", "experts multiply different x0"),
    ("bias_differs", "experts' biases differ"),
    ("relu", "low-rank activation is nn.relu"),
    ("softmax_axis", "softmax is not over the experts"),
    ("gate_other", "a gate reads another tensor"),
])
def test_near_misses_stay_and_say_why(near, reason):
    assert_stays(_model(layers=1, own_xl=True, near=near), "cross-mix", "rec.cross", reason)


def _op(rng):
    from passes.rewrite import new_const

    consts = [new_const(_w(rng, *s)) for s in
              [(B, D), (B, D), (E, D, R), (D,), (E, R, R), (E, R, D), (D, E)]]
    op = rec.Cross([c.result for c in consts], {"kind": "mixture", "experts": E, "rank": R})
    return op, [c.attrs["value"] for c in consts]


def test_semantics_are_deepctr_crossnetmix():
    from ir.interp import evaluate

    rng = np.random.default_rng(1)
    op, (x0, x, v, b, c, u, g) = _op(rng)
    x03, x3 = x0[:, :, None], x[:, :, None]
    outs, logits = [], []
    for e in range(E):  # DeepCTR's loop, with its weights as it holds them (V, C, U)
        vx = np.tanh(np.matmul(v[e].T, x3))
        vx = np.tanh(np.matmul(c[e].T, vx))
        outs.append((x03 * (np.matmul(u[e].T, vx) + b[:, None]))[:, :, 0])
        logits.append(x @ g[:, e:e + 1])
    gate = np.exp(np.stack(logits, 1))
    want = np.matmul(np.stack(outs, 2), gate / gate.sum(1, keepdims=True))[:, :, 0] + x
    np.testing.assert_allclose(evaluate(op, [x0, x, v, b, c, u, g])[0], want,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shapes, attrs", [
    ([(B, D), (B, D), (E, D, R), (D,), (E, R, R), (E, R, D), (D, E)], {"rank": R + 1}),
    ([(B, D), (B, D), (E, D, R), (D,), (E, R, R), (E, R, D), (D, E + 1)], {"rank": R}),
    ([(B, D), (B, D), (E, D, R), (D,)], {"rank": R}),
    ([(B, D), (B, D), (D, D), (D,)], {"kind": "matrix", "rank": R}),
])
def test_verifier_names_what_does_not_fit(shapes, attrs):
    from ir.core import Value

    vals = [Value(TensorType(s, "f32")) for s in shapes]
    attrs = {"kind": "mixture", "experts": E, **attrs}
    with pytest.raises(PimcError, match=r"rec.cross: x0 \[4, 6\], x \[4, 6\], w .* do not "
                                        rf"fit kind {attrs['kind']}"):
        rec.Cross(vals, attrs)


@pytest.mark.parametrize("moved", [0, 1, 6], ids=["x0", "x", "gate"])
def test_error_bound_holds_at_the_corners(moved):
    """Every element of one operand moved by +-e (random corners): the output stays within
    the bound. (The corners reach it: without the gate's term the gate case fails, without
    the tanh stages' term the x case does.)"""
    from ir.interp import evaluate
    from passes._lowering.error_bound_rules import RULES

    op, vals = _op(np.random.default_rng(2))
    errs = [np.full(v.shape, 1e-2) if i == moved else np.zeros(v.shape)
            for i, v in enumerate(vals)]
    base = evaluate(op, vals)[0].astype(np.float64)
    bound = RULES[rec.Cross](op, vals, errs, [base])[0]
    assert bound.shape == base.shape and np.all(np.isfinite(bound))
    for seed in range(100):
        signs = np.random.default_rng(seed).choice([-1.0, 1.0], vals[moved].shape)
        shifted = list(vals)
        shifted[moved] = (vals[moved] + signs * errs[moved]).astype(np.float32)
        got = evaluate(op, shifted)[0].astype(np.float64)
        assert np.all(np.abs(got - base) <= bound + 1e-5)


def test_cost_counts_every_low_rank_stage():
    from passes._costing.op_primitives import primitives
    from targets import load_target

    op, _ = _op(np.random.default_rng(3))
    (prim,) = primitives(op, load_target("isaac"))
    per_row = D * E + 3 * E + E * (2 * D * R + R * R + 2 * R + 3 * D)
    assert prim.elements == B * D + B * per_row


@pytest.mark.parametrize("kind, w, per_element", [("vector", (D,), 4), ("matrix", (D, D), 3 + D)])
def test_cost_of_the_other_kinds_counts_x_times_w(kind, w, per_element):
    """Run whole (near-bank or digital units), a cross layer also computes x @ w: D per row
    (vector) or per element (matrix), besides the product, bias and residual."""
    from ir.core import Value
    from passes._costing.op_primitives import primitives
    from targets import load_target

    vals = [Value(TensorType(s, "f32")) for s in [(B, D), (B, D), w, (D,)]]
    (prim,) = primitives(rec.Cross(vals, {"kind": kind}), load_target("hbm-pim"))
    assert prim.elements == per_element * B * D


MIX = entries_of("dcnmix")


@pytest.mark.parametrize("entry", MIX, ids=lambda e: e["file"])
def test_fixture_has_no_matmul_or_softmax_left(entry):
    module = fused(entry)
    assert not {"nn.matmul", "nn.softmax"} & set(op_names(module))
    assert [o.attrs["kind"] for o in _mixtures(module)] == ["mixture", "mixture"]


@pytest.mark.parametrize("target", ["isaac", "hetero"])
def test_fixture_compiles_within_its_bound(target):
    from compiler.driver import compile

    entry = next(e for e in MIX if e["exporter"] == "legacy")
    c = compile(FIXTURES / "onnx" / entry["file"], target, batch=8,
                inputs=real_inputs.make_inputs(entry, 8))
    assert c.functional["passed"], c.functional["detail"]
    mvm_ops = {o.attrs["op"] for o in c.module.main.ops if o.name == "pim.mvm"}
    # gate and every expert's V, C, U: separate small matrices for both layers
    assert {f"cross{i}.{s}" for i in (0, 1) for s in ("g", "v0", "c0", "u0", "v1", "c1", "u1")} \
        <= mvm_ops

