"""gru rule and rec.gru: an ONNX GRU with constant weights becomes one rec.gru per direction
(weights [in, out]) computing the same numbers in every form (PyTorch's linear-before-reset or
ONNX's default, forward, reverse or bidirectional, zero or given initial state, full sequences
or per-row lengths given at run time, 0 and full length among them); the near misses stay
nn.gru and say why; the op's verifier, cost and error bound."""

from __future__ import annotations

import numpy as np
import pytest
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names, random_inputs

from ir.dialects import nn, rec
from ir.errors import PimcError
from ir.interp import evaluate, run
from passes.fuse_interactions import FuseInteractions
from passes.rewrite import new_const

FUSE = FuseInteractions()
SEQ, BATCH, IN, H = 5, 3, 4, 3


def _w(rng, *shape, scale=0.6):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def gru_model(*, lbr=True, direction="forward", h0=False, near="", seq=SEQ, lens="full",
              batch=BATCH, seed=1):
    """x [seq, batch, in] through an nn.gru as the ONNX importer writes it; y and y_h out.
    `lens`: "full" (constant seq), "input" (an i32 graph argument) or a constant list.
    `near` breaks one thing: "w_input" (W is a graph input), "h0_input" (so is the initial
    state), "relu" (candidate activation), "clip"."""
    rng = np.random.default_rng(seed)
    dirs = 2 if direction == "bidirectional" else 1
    b = Builder()
    x = b.arg("x", (seq, batch, IN))
    w = b.arg("w", (dirs, 3 * H, IN)) if near == "w_input" else b.const(_w(rng, dirs, 3 * H, IN))
    if lens == "input":
        lens_v = b.arg("lens", (batch,), "i32")
    else:
        lens_v = b.const(np.full(batch, seq, np.int64) if lens == "full"
                         else np.asarray(lens, np.int64))
    init = _w(rng, dirs, batch, H) if h0 else np.zeros((dirs, batch, H), np.float32)
    init_v = b.arg("h0", (dirs, batch, H)) if near == "h0_input" else b.const(init)
    acts = ["sigmoid", "relu" if near == "relu" else "tanh"] * dirs
    extra = {"clip": 3.0} if near == "clip" else {}
    y, y_h = b.op("nn.gru", x, w, b.const(_w(rng, dirs, 3 * H, H)),
                  b.const(_w(rng, dirs, 6 * H)), lens_v, init_v,
                  activations=acts, activation_alpha=[0.0] * len(acts),
                  activation_beta=[0.0] * len(acts), linear_before_reset=lbr,
                  direction=direction, **extra)
    return b.module(b.op("nn.relu", y), y_h)


def _grus(m):
    return [o for o in m.main.ops if isinstance(o, rec.Gru)]


@pytest.mark.parametrize("lbr", [True, False])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("h0", [False, True])
def test_a_gru_with_constant_weights_is_one_rec_gru_per_direction(lbr, direction, h0):
    m = gru_model(lbr=lbr, direction=direction, h0=h0)
    assert assert_equivalent(m, FUSE.apply)
    assert "nn.gru" not in op_names(m)
    ops = _grus(m)
    assert len(ops) == (2 if direction == "bidirectional" else 1)
    for op, reverse in zip(ops, (direction == "reverse", True)):
        assert [v.type.shape for v in op.operands[1:]] == \
            [(IN, 3 * H), (H, 3 * H), (3 * H,), (3 * H,), (BATCH, H)]  # full length: no mask
        assert op.attrs["reverse"] == reverse
        assert op.attrs["linear_before_reset"] == lbr


def _feed(m, lens, seed=0):
    feed = random_inputs(m, seed)
    feed["lens"] = np.asarray(lens, np.int32)
    return feed


@pytest.mark.parametrize("lbr", [True, False])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_runtime_lengths_become_a_step_mask_and_compute_the_same(lbr, direction):
    """Random weights, inputs and lengths (0 and full length always among them): the rec.gru
    reads a mask (t < length) computed from the lengths, and y, y_h equal the nn.gru's. The
    initial state is zero here, where the nn.gru interpreter and ONNX Runtime agree for a
    row of length 0 (see the test below for a given one)."""
    batch = 6
    for seed in range(3):
        m = gru_model(lbr=lbr, direction=direction, lens="input", batch=batch, seed=seed)
        rng = np.random.default_rng(seed)
        feeds = [_feed(m, [0, SEQ, *rng.integers(0, SEQ + 1, batch - 2)], s) for s in range(3)]
        want = [run(m.main, f) for f in feeds]
        assert FUSE.apply(m) and "nn.gru" not in op_names(m)
        for op in _grus(m):
            assert op.arg("mask").type.shape == (SEQ, batch, 1)
        for f, w in zip(feeds, want):
            for got, ref in zip(run(m.main, f), w, strict=True):
                np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_a_row_of_length_0_ends_at_zero_as_in_onnx_runtime(direction):
    """With a given initial state, ONNX Runtime returns y_h = 0 for a row of length 0 (checked
    against it in tests/lowering/test_gru.py); longer rows keep the nn.gru's numbers."""
    m = gru_model(direction=direction, h0=True, lens="input")
    feed = _feed(m, [0, SEQ, 2])
    want = run(m.main, feed)
    FUSE.apply(m)
    y, y_h = run(m.main, feed)
    assert not y[:, :, 0].any() and not y_h[:, 0].any()
    np.testing.assert_allclose(y, want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y_h[:, 1:], want[1][:, 1:], rtol=1e-5, atol=1e-6)


def test_constant_short_lengths_are_a_mask_too():
    m = gru_model(lens=[SEQ, 0, 2])
    assert assert_equivalent(m, FUSE.apply)
    (op,) = _grus(m)
    assert op.arg("mask") is not None
    assert any(isinstance(o, nn.Less) for o in m.main.ops)


@pytest.mark.parametrize("near, reason", [
    ("w_input", "GRU w is not a constant"),
    ("h0_input", "GRU initial_h is not a constant"),
    ("relu", "GRU activations are ['sigmoid', 'relu'], not ['sigmoid', 'tanh']"),
    ("clip", "GRU clips its gate inputs"),
])
def test_near_misses_stay_and_say_why(near, reason):
    assert_stays(gru_model(near=near), "gru", "rec.gru", reason)


def test_constant_lengths_past_the_sequence_stay_and_say_why():
    assert_stays(gru_model(lens=[SEQ, SEQ + 1, 2]), "gru", "rec.gru",
                 f"GRU sequence_lens [5, 6, 2] are not within [0, {SEQ}]")


def test_the_verifier_names_the_shapes_it_accepts():
    rng = np.random.default_rng(0)
    shapes = [(SEQ, BATCH, IN), (IN, 3 * H), (H, 2 * H), (3 * H,), (3 * H,), (BATCH, H)]
    consts = [new_const(_w(rng, *s)) for s in shapes]
    with pytest.raises(PimcError, match=r"rec.gru: x \[5, 3, 4\], w \[4, 9\], r \[3, 6\].*"
                                        r"accepted: w \[in, 3H\], r \[H, 3H\]"):
        rec.Gru([c.result for c in consts])


def test_the_verifier_wants_a_mask_per_step_and_row():
    rng = np.random.default_rng(0)
    op, _ = _rec_gru(rng, lengths=[1, 2, 3])
    (good,) = op.infer_types()
    assert good.shape == (SEQ, BATCH, H)
    wrong = new_const(np.ones((SEQ, BATCH), np.float32))  # no trailing 1
    with pytest.raises(PimcError, match=r"mask \[5, 3\] do not fit; .*mask \[seq, batch, 1\]"):
        rec.Gru([*op.operands[:6], wrong.result])


def _rec_gru(rng, lbr=True, seq=SEQ, lengths=None, reverse=False):
    """A rec.gru on random constants; `lengths` adds the step mask t < length."""
    shapes = [(seq, BATCH, IN), (IN, 3 * H), (H, 3 * H), (3 * H,), (3 * H,), (BATCH, H)]
    vals = [_w(rng, *s) for s in shapes]
    if lengths is not None:
        vals.append((np.arange(seq)[:, None] < np.asarray(lengths))[..., None]
                    .astype(np.float32))
    op = rec.Gru([new_const(v).result for v in vals],
                 {"linear_before_reset": lbr, "reverse": reverse})
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


def _worst_and_bound(op, vals, errs, rng):
    from passes._lowering._gru_error import gru_bound

    base = evaluate(op, vals)[0]
    (bound,) = gru_bound(op, vals, errs, [base])
    assert bound.shape == base.shape
    worst = np.zeros(base.shape)
    for _ in range(200):
        moved = [v + e * rng.choice([-1.0, 1.0], v.shape) for v, e in zip(vals, errs)]
        worst = np.maximum(worst, np.abs(evaluate(op, moved)[0] - base))
    assert np.all(worst <= bound + 1e-6 * (1 + np.abs(base)))  # (y is rounded to float32)
    # the bound is not vacuous: the worst move reaches a fair share of it somewhere
    assert np.max(worst / bound) > 0.05
    return bound


@pytest.mark.parametrize("lbr", [True, False])
def test_the_error_bound_holds_for_perturbed_operands(lbr):
    rng = np.random.default_rng(3)
    op, vals = _rec_gru(rng, lbr)
    errs = [np.abs(_w(rng, *v.shape, scale=0.05)) for v in vals]
    assert np.all(_worst_and_bound(op, vals, errs, rng) > 0)


@pytest.mark.parametrize("reverse", [False, True])
def test_a_mask_from_lengths_adds_no_error(reverse):
    """A 0/1 mask without error picks a state exactly: past a row's length the bound is the
    held state's, and a row of length 0 keeps h0's error (the op's y holds states; the rule
    zeroes them past the end outside it)."""
    rng = np.random.default_rng(4)
    lengths = [0, SEQ, 2]
    op, vals = _rec_gru(rng, lengths=lengths, reverse=reverse)
    errs = [np.abs(_w(rng, *v.shape, scale=0.05)) for v in vals[:6]] + [np.zeros_like(vals[6])]
    bound = _worst_and_bound(op, vals, errs, rng)
    np.testing.assert_array_equal(bound[:, 0], np.broadcast_to(errs[5][0], (SEQ, H)))
    # the row of length 2 past its end: reversed, it has not started (h0); forward, it holds
    # the state of its last step
    held = errs[5][2] if reverse else bound[1, 2]
    np.testing.assert_array_equal(bound[2:, 2], np.broadcast_to(held, (SEQ - 2, H)))


def test_an_unbounded_state_stays_infinite_not_nan_through_the_mask():
    """A row whose initial state is unbounded (an infinite error): its bound is infinite at
    every step, held (mask 0) or stepped (mask 1), never 0 x inf = NaN, which would make the
    bound fail every comparison; the other rows are untouched (exact x and weights, whose
    products' bound is one scalar 0, are bounded row by row like any others)."""
    from passes._lowering._gru_error import gru_bound

    rng = np.random.default_rng(6)
    for lengths in ([0, SEQ, 2], [SEQ, 0, 2]):
        op, vals = _rec_gru(rng, lengths=lengths)
        errs = [np.zeros_like(v) for v in vals]
        errs[5][0] = np.inf
        (bound,) = gru_bound(op, vals, errs, evaluate(op, vals))
        assert np.all(np.isinf(bound[:, 0])) and not bound[:, 1:].any()


def test_the_error_bound_holds_for_a_mask_that_moves():
    rng = np.random.default_rng(5)
    op, vals = _rec_gru(rng, lengths=[1, 3, 4])
    vals[6] = rng.uniform(0.2, 0.8, vals[6].shape).astype(np.float32)
    errs = [np.abs(_w(rng, *v.shape, scale=0.05)) for v in vals]
    _worst_and_bound(op, vals, errs, rng)


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


def test_dien_raises_both_grus_and_keeps_padded_histories_numbers():
    """RecBole's DIEN packs its histories: lengths (nonzero items, at least 1) become a TopK
    sort and GRUs with sequence_lens. Both become rec.grus with a mask; histories padded to
    every length compute the same."""
    from pathlib import Path

    from frontend.onnx import import_onnx

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
    m = import_onnx(folder / "recbole_dien_legacy.onnx", batch=8)
    from ir.sample_inputs import sample_inputs

    feed = sample_inputs(m.main)
    feed["hist"] = np.maximum(feed["hist"], 1)
    for row, n in enumerate([0, 8, 3, 1, 5, 2, 7, 4]):
        feed["hist"][row, n:] = 0
    want = run(m.main, feed)
    FUSE.apply(m)
    grus = _grus(m)
    assert len(grus) == 2 and "nn.gru" not in op_names(m)
    assert all(op.arg("mask") is not None for op in grus)
    for g, w in zip(run(m.main, feed), want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
