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


# -- the registry: every op has a rule, a reason it cannot carry error, or a named refusal ----
def test_every_op_of_every_dialect_has_a_rule_or_a_documented_reason():
    from ir.dialects import all_ops
    from passes._lowering.error_bound_rules import NO_ERROR, REFUSED
    ops = all_ops()
    assert {n.split(".")[0] for n in ops} == {"nn", "rec", "pim"}
    # looked up along the class hierarchy, as error_bound does
    missing = sorted(n for n, c in ops.items() if not any(k in RULES for k in c.__mro__))
    assert not missing, f"no error-bound rule: {missing}"
    assert all(len(why) > 20 for why in {**NO_ERROR, **REFUSED}.values())


def test_a_refused_op_names_itself_and_why():
    from ir.errors import PimcError
    from passes._lowering.error_bound_rules import REFUSED

    op = _op("nn.bitwise_and", [(3,), (3,)])
    assert type(op) in REFUSED
    with pytest.raises(PimcError, match=r"no sound rule for nn.bitwise_and here: bit "):
        RULES[type(op)](op, [np.ones(3)] * 2, [np.ones(3), np.zeros(3)], [np.ones(3)])


def test_an_index_carrying_error_is_refused():
    from ir.errors import PimcError

    op = lookup("nn.gather")([Value(TensorType((5, 2), "f32")), Value(TensorType((3,), "i64"))],
                             {})
    vals = [np.ones((5, 2)), np.array([0, 1, 2])]
    with pytest.raises(PimcError, match=r"nn.gather here: its index or shape operand"):
        RULES[type(op)](op, vals, [np.zeros((5, 2)), np.array([0.0, 1.0, 0.0])],
                        [np.ones((3, 2))])


def test_quantised_linear_bounds_every_rounding_of_a_perturbed_input():
    """Q(x~) Wq - x W within the bound for x~ anywhere in x +- e, at 4 and 8 bits."""
    from ir.interp.pim import quantize
    from ir.interp.quant import weight_scale
    from passes._lowering.error_bound_rules import quantised_linear

    rng = np.random.default_rng(1)
    for bits in (4, 8):
        for _ in range(50):
            x, w = rng.standard_normal((6, 5)), rng.standard_normal((5, 3))
            e = rng.random((6, 5)) * rng.choice([0.0, 0.01, 0.3]) * (rng.random((6, 5)) < 0.7)
            xs = float(np.abs(x).max() * rng.uniform(0.5, 1.2)) / (2 ** (bits - 1) - 1)
            bound = quantised_linear(x, e, w, xs, bits, bits)
            ws = weight_scale(w, bits)
            wq = quantize(w, ws, bits) * ws
            for u in (rng.uniform(-1, 1, x.shape), np.sign(rng.standard_normal(x.shape))):
                got = quantize(x + u * e, xs, bits) * xs @ wq
                assert np.all(np.abs(got - x @ w) <= bound + 1e-9)
