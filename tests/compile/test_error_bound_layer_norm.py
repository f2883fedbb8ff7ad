"""The layer-norm bound stays finite and small when the input's error could erase its
variance: a normalised element never exceeds sqrt(n - 1), so the change is at most
sqrt(n - 1) + |c/s|; with RecBole's eps of 1e-12 the variance interval alone would allow
1 / sqrt(eps) = 1e6 (SASRec's functional-check bound was 6.78e4 before the cap)."""

import numpy as np

from ir.core import Value
from ir.dialects import lookup
from ir.interp import evaluate
from ir.types import TensorType
from passes.error_bound import _rule

N = 8  # SASRec's hidden size


def _layer_norm(eps):
    x = Value(TensorType((2, N), "f32"), "x")
    scale = Value(TensorType((N,), "f32"), "s")
    return lookup("nn.layer_norm")([x, scale], {"epsilon": eps})


def _bound(eps, x, e):
    op = _layer_norm(eps)
    vals = [x, np.ones(N)]
    out = evaluate(op, vals)
    return np.asarray(_rule(op)(op, vals, [e, np.zeros(N)], out)[0]), out[0]


def test_an_error_as_large_as_the_spread_is_capped_by_the_normalised_range():
    x = np.tile(np.linspace(-0.01, 0.01, N), (2, 1))
    bound, y = _bound(1e-12, x, np.full((2, N), 0.05))
    assert np.all(bound <= np.sqrt(N - 1) + np.abs(y) + 1e-6)
    # sound: the worst flips of the inputs within their error stay inside the bound
    rng = np.random.default_rng(0)
    for _ in range(200):
        moved = x + rng.choice([-0.05, 0.05, 0.0], size=x.shape)
        got = evaluate(_layer_norm(1e-12), [moved, np.ones(N)])[0]
        assert np.all(np.abs(got - y) <= bound + 1e-9)


def test_a_small_error_keeps_the_tighter_variance_bound():
    # near miss: where the variance interval stays away from zero, the cap does not bind
    x = np.tile(np.linspace(-1.0, 1.0, N), (2, 1))
    bound, y = _bound(1e-12, x, np.full((2, N), 1e-4))
    assert np.all(bound < 1e-2) and np.all(bound < np.sqrt(N - 1))


def test_without_eps_a_variance_the_error_can_erase_is_unbounded_not_nan():
    # eps = 0 (the textbook form): the perturbed row may be constant, 0/0, so no finite bound
    x = np.array([[0.0, 1.0, -1.0, 0.0, 0.0, 1.0, -1.0, 0.0]] * 2)
    bound, _ = _bound(0.0, x, np.full((2, N), 0.6))
    assert np.all(bound == np.inf)
    # near miss: a small error keeps the variance away from 0, and the bound finite
    bound, _ = _bound(0.0, x, np.full((2, N), 1e-3))
    assert np.all(np.isfinite(bound))
