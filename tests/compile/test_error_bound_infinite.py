"""Error bounds stay finite where an exact operand is infinite: an additive -inf attention mask
(RecBole's DIEN sets padded steps to -inf before its softmax, then divides the scores by
sqrt(H)). inf x 0 must add nothing, not turn the whole bound into NaN."""

import numpy as np
import pytest

from ir.dialects import nn
from passes._lowering.error_bound_rules import RULES

A = np.array([-np.inf, 1.0, -2.0])
B = np.array([2.0, 2.0, 4.0])


@pytest.mark.parametrize("kind, out", [(nn.Div, A / B), (nn.Mul, A * B)])
def test_an_exact_infinite_operand_adds_no_error(kind, out):
    exact = [np.zeros(3), np.zeros(3)]
    assert np.array_equal(RULES[kind](None, [A, B], exact, [out])[0], np.zeros(3))
    # the finite entries still carry the other operand's error
    bound = RULES[kind](None, [A, B], [np.full(3, 0.1), np.zeros(3)], [out])[0]
    assert np.all(np.isfinite(bound[1:])) and np.all(bound[1:] > 0)


@pytest.mark.parametrize("kind, out", [(nn.Div, A / B), (nn.Mul, A * B)])
def test_an_inexact_factor_of_an_infinite_value_is_unbounded_not_nan(kind, out):
    # near miss: the divisor (or factor) carries an error, so the -inf entry cannot be bounded
    bound = RULES[kind](None, [A, B], [np.zeros(3), np.full(3, 0.1)], [out])[0]
    assert bound[0] == np.inf and not np.isnan(bound).any()
