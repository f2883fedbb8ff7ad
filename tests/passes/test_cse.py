"""Common-subexpression elimination (passes._cse, run by canonicalize): duplicates merge into
their first occurrence, near misses (other operands, attributes, precision, large literals of
two values) stay apart, and the outputs are the same before and after."""

from __future__ import annotations

import numpy as np
from rec_pass_helpers import Builder, assert_equivalent, op_names

from ir.verify import verify
from passes._cse import cse
from passes.canonicalize import Canonicalize


def _table() -> np.ndarray:
    return np.arange(12, dtype=np.float32).reshape(6, 2)


def test_one_lookup_serves_every_use_through_duplicated_index_chains():
    b = Builder()
    x = b.arg("x", (4, 3))
    t = b.const(_table())
    looks = []
    for _ in range(3):
        s = b.op("nn.slice", x, starts=[0], ends=[2], axes=[1])
        looks.append(b.op("nn.gather", t, b.op("nn.cast", s, to="i64"), axis=0))
    m = b.module(b.op("nn.add", looks[0], looks[1]), looks[2])
    assert assert_equivalent(m, lambda mod: cse(mod.main), high=6)
    assert op_names(m).count("nn.gather") == 1 and op_names(m).count("nn.slice") == 1
    assert m.main.outputs[1] is m.main.ops[-1].operands[0]  # the output moved to the kept one


def test_multi_result_ops_merge_every_result():
    b = Builder()
    x = b.arg("x", (4, 6))
    p0, p1 = b.op("nn.split", x, axis=1, sizes=[2, 4])
    q0, q1 = b.op("nn.split", x, axis=1, sizes=[2, 4])
    m = b.module(b.op("nn.add", p0, q0), b.op("nn.mul", p1, q1))
    assert assert_equivalent(m, lambda mod: cse(mod.main))
    assert op_names(m).count("nn.split") == 1


def test_near_misses_stay_apart():
    b = Builder()
    x = b.arg("x", (4, 6))
    a = b.op("nn.slice", x, starts=[0], ends=[2], axes=[1])
    c = b.op("nn.slice", x, starts=[2], ends=[4], axes=[1])  # other attribute
    d = b.op("nn.leaky_relu", a, alpha=0.0)
    e = b.op("nn.leaky_relu", a, alpha=-0.0)  # a float attribute that differs in sign only
    m = b.module(b.op("nn.add", a, c), d, e)
    assert not cse(m.main)
    assert op_names(m).count("nn.slice") == 2 and op_names(m).count("nn.leaky_relu") == 2


def test_other_precision_is_another_value():
    b = Builder()
    x = b.arg("x", (4, 2))
    r1, r2 = b.op("nn.relu", x), b.op("nn.relu", x)
    r2.type = r2.type.with_bits(8)
    m = b.module(r1, r2)
    assert not cse(m.main)


def test_large_literals_merge_only_when_one_value():
    b = Builder()
    x = b.arg("x", (4, 3))
    w1, w2 = b.const(np.ones((3, 3), np.float32)), b.const(np.ones((3, 3), np.float32))
    m = b.module(b.op("nn.matmul", x, w1), b.op("nn.matmul", x, w2))
    assert not cse(m.main, max_elements=8)
    assert cse(m.main, max_elements=9)
    verify(m)
    assert op_names(m) == ["nn.constant", "nn.matmul"]


def test_canonicalize_runs_it_to_a_fixed_point():
    b = Builder()
    x = b.arg("x", (4, 2))
    y1 = b.op("nn.exp", b.op("nn.relu", x))
    y2 = b.op("nn.exp", b.op("nn.relu", x))
    m = b.module(b.op("nn.add", y1, y2))
    assert assert_equivalent(m, Canonicalize().apply)
    assert op_names(m) == ["nn.relu", "nn.exp", "nn.add"]
