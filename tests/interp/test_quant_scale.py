"""`weight_scale`'s max |w| is numpy's, for every kind of value."""

import numpy as np
import pytest

from ir.interp.quant import _max_abs, weight_scale

CASES = [
    np.array([], np.float32), np.zeros((3, 4), np.float32), np.array([-0.0, 0.0]),
    np.array([1.5, -2.5, 2.0], np.float32), np.array([-3.0, 1.0]), np.array([3.0, -1.0]),
    np.array([1.0, np.nan, -5.0]), np.array([np.nan, 1.0]), np.array([-np.inf, 2.0]),
    np.array([np.inf, -2.0]), np.array([-7, 3], np.int8), np.array([200, 3], np.uint8),
    np.arange(24, dtype=np.float16).reshape(4, 6).T - 11,
]


@pytest.mark.parametrize("w", CASES, ids=range(len(CASES)))
def test_max_abs_is_numpys(w):
    want = float(np.max(np.abs(w))) if w.size else 0.0
    got = _max_abs(w)
    assert got == want or (np.isnan(got) and np.isnan(want))


def test_the_scale_of_a_transposed_random_weight_is_the_abs_max_one():
    w = np.random.default_rng(0).standard_normal((300, 200)).astype(np.float32).T
    assert weight_scale(w, 8) == float(np.max(np.abs(w))) / 127
    assert weight_scale(np.zeros((2, 2), np.float32), 4) == 1.0 / 7
