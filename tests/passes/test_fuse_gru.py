"""gru rule and rec.gru: an ONNX GRU with constant weights becomes one rec.gru (weights [in,
out]) computing the same numbers in every form (PyTorch's linear-before-reset or ONNX's default,
forward or reverse, zero or given initial state); the near misses stay nn.gru and say why; the
op's verifier, cost and error bound."""

from __future__ import annotations

import numpy as np
import pytest
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names, random_inputs

from ir.dialects import rec
from ir.errors import PimcError
from ir.interp import evaluate, run
from passes.fuse_interactions import FuseInteractions
from passes.rewrite import new_const

FUSE = FuseInteractions()
SEQ, BATCH, IN, H = 5, 3, 4, 3


def _w(rng, *shape, scale=0.6):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def gru_model(*, lbr=True, direction="forward", h0=False, near="", seq=SEQ):
    """x [seq, batch, in] through an nn.gru as the ONNX importer writes it; y and y_h out.
    `near` breaks one thing: "w_input" (W is a graph input), "lens" (one shorter sequence),
    "relu" (candidate activation), "bidirectional"."""
    rng = np.random.default_rng(1)
    dirs = 2 if near == "bidirectional" else 1
    b = Builder()
    x = b.arg("x", (seq, BATCH, IN))
    w = b.arg("w", (dirs, 3 * H, IN)) if near == "w_input" else b.const(_w(rng, dirs, 3 * H, IN))
    lens = np.full(BATCH, seq, np.int64)
    if near == "lens":
        lens[1] = seq - 2
    init = _w(rng, dirs, BATCH, H) if h0 else np.zeros((dirs, BATCH, H), np.float32)
    acts = ["sigmoid", "relu" if near == "relu" else "tanh"] * dirs
    y, y_h = b.op("nn.gru", x, w, b.const(_w(rng, dirs, 3 * H, H)),
                  b.const(_w(rng, dirs, 6 * H)), b.const(lens), b.const(init),
                  activations=acts, activation_alpha=[0.0] * len(acts),
                  activation_beta=[0.0] * len(acts), linear_before_reset=lbr,
                  direction="bidirectional" if near == "bidirectional" else direction)
    return b.module(b.op("nn.relu", y), y_h)


@pytest.mark.parametrize("lbr", [True, False])
@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize("h0", [False, True])
def test_a_gru_with_constant_weights_is_one_rec_gru(lbr, direction, h0):
    m = gru_model(lbr=lbr, direction=direction, h0=h0)
    assert assert_equivalent(m, FUSE.apply)
    assert "nn.gru" not in op_names(m)
    (op,) = [o for o in m.main.ops if isinstance(o, rec.Gru)]
    assert [v.type.shape for v in op.operands[1:]] == \
        [(IN, 3 * H), (H, 3 * H), (3 * H,), (3 * H,), (BATCH, H)]
    assert op.attrs["reverse"] == (direction == "reverse")
    assert op.attrs["linear_before_reset"] == lbr


@pytest.mark.parametrize("near, reason", [
    ("w_input", "GRU w is not a constant"),
    ("lens", f"GRU sequence_lens is not {SEQ} (the input's length) for every sequence"),
    ("relu", "GRU activations are ['sigmoid', 'relu'], not ['sigmoid', 'tanh']"),
    ("bidirectional", "GRU is bidirectional"),
])
def test_near_misses_stay_and_say_why(near, reason):
    assert_stays(gru_model(near=near), "gru", "rec.gru", reason)


def test_the_verifier_names_the_shapes_it_accepts():
    rng = np.random.default_rng(0)
    shapes = [(SEQ, BATCH, IN), (IN, 3 * H), (H, 2 * H), (3 * H,), (3 * H,), (BATCH, H)]
    consts = [new_const(_w(rng, *s)) for s in shapes]
    with pytest.raises(PimcError, match=r"rec.gru: x \[5, 3, 4\], w \[4, 9\], r \[3, 6\].*"
                                        r"accepted: w \[in, 3H\], r \[H, 3H\]"):
        rec.Gru([c.result for c in consts])


def _rec_gru(rng, lbr=True, seq=SEQ):
    shapes = [(seq, BATCH, IN), (IN, 3 * H), (H, 3 * H), (3 * H,), (3 * H,), (BATCH, H)]
    vals = [_w(rng, *s) for s in shapes]
    op = rec.Gru([new_const(v).result for v in vals], {"linear_before_reset": lbr})
    return op, vals


def test_the_digital_cost_is_one_step_after_another():
    from passes._costing.op_primitives import primitives
    from targets import load_target

    target = load_target("hbm-pim")
    rng = np.random.default_rng(0)
    short, long = (primitives(_rec_gru(rng, seq=s)[0], target) for s in (2, 6))
    assert len(short) == 2 and len(long) == 6  # one vector op a step
    per_step = BATCH * (3 * H * (IN + H) + 14 * H)
    assert {p.elements for p in long} == {per_step}


@pytest.mark.parametrize("lbr", [True, False])
def test_the_error_bound_holds_for_perturbed_operands(lbr):
    from passes._lowering._gru_error import gru_bound

    rng = np.random.default_rng(3)
    op, vals = _rec_gru(rng, lbr)
    errs = [np.abs(_w(rng, *v.shape, scale=0.05)) for v in vals]
    base = evaluate(op, vals)[0]
    (bound,) = gru_bound(op, vals, errs, [base])
    assert bound.shape == base.shape and np.all(bound > 0)
    worst = np.zeros(base.shape)
    for _ in range(200):
        moved = [v + e * rng.choice([-1.0, 1.0], v.shape) for v, e in zip(vals, errs)]
        worst = np.maximum(worst, np.abs(evaluate(op, moved)[0] - base))
    assert np.all(worst <= bound)
    # the bound is not vacuous: the worst move reaches a fair share of it somewhere
    assert np.max(worst / bound) > 0.05


def test_the_gru4rec_fixtures_raise_both_layers():
    from pathlib import Path

    from frontend.onnx import import_onnx

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
    for name in ("rechub_gru4rec_legacy.onnx", "rechub_gru4rec_dynamo.onnx"):
        m = import_onnx(folder / name, batch=4)
        feed = random_inputs(m, high=3)
        want = run(m.main, feed)
        FUSE.apply(m)
        assert op_names(m).count("rec.gru") == 2 and "nn.gru" not in op_names(m)
        for g, w in zip(run(m.main, feed), want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
