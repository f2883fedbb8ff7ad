"""The error-bound rules of rec.cross, rec.efc and rec.attention are sound: perturbing the
inputs within the bound never moves the output further than the rule says."""

import numpy as np
import pytest

from ir.core import Value
from ir.dialects import lookup
from ir.interp import evaluate
from ir.types import TensorType
from passes._lowering.error_bound_rules import RULES


def _op(name, shapes, attrs=None):
    return lookup(name)([Value(TensorType(s, "f32")) for s in shapes], attrs or {})


CASES = [
    ("rec.cross", [(4, 6), (4, 6), (6,), (6,)], {"kind": "vector"}, (0, 1)),
    ("rec.cross", [(4, 6), (4, 6), (6, 6), (6,)], {"kind": "matrix"}, (0, 1)),
    ("rec.efc", [(3, 5, 4), (5, 2)], {}, (0,)),
    ("rec.attention", [(2, 5, 8), (8, 8), (8, 8), (8, 8)], {"heads": 2, "scale": 0.35}, (0,)),
]


@pytest.mark.parametrize("name, shapes, attrs, noisy", CASES, ids=[c[0] + str(i)
                                                                   for i, c in enumerate(CASES)])
def test_perturbations_within_the_input_bound_stay_within_the_output_bound(
        name, shapes, attrs, noisy):
    rng = np.random.default_rng(0)
    op = _op(name, shapes, attrs)
    vals = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    errs = [np.full(s, 0.01) if i in noisy else np.zeros(s) for i, s in enumerate(shapes)]
    base = evaluate(op, vals)[0].astype(np.float64)
    bound = RULES[type(op)](op, [v.astype(np.float64) for v in vals], errs, [base])[0]
    for _ in range(50):
        moved = [v + e * rng.choice([-1.0, 1.0], v.shape) for v, e in zip(vals, errs)]
        got = evaluate(op, [m.astype(np.float32) for m in moved])[0].astype(np.float64)
        assert np.all(np.abs(got - base) <= bound + 1e-5)
