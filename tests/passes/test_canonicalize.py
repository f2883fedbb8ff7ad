"""canonicalize: folding, no-op removal, chains, dead code; numerically equivalent."""

from __future__ import annotations

import numpy as np
import pytest
from rec_pass_helpers import Builder, assert_equivalent, op_names

from passes.canonicalize import Canonicalize

CANON = Canonicalize()


def test_folds_constant_arithmetic_into_one_constant():
    b = Builder()
    x = b.arg("x", (2, 3))
    c = b.op("nn.add", b.const(np.ones((2, 3), np.float32)), b.const(np.full((2, 3), 2.0,
                                                                              np.float32)))
    m = b.module(b.op("nn.mul", x, c))
    assert assert_equivalent(m, CANON.apply)
    assert op_names(m) == ["nn.constant", "nn.mul"]
    np.testing.assert_array_equal(m.main.ops[0].attrs["value"], np.full((2, 3), 3.0))


def test_folds_a_transposed_weight():
    b = Builder()
    x = b.arg("x", (4, 3))
    w = b.op("nn.transpose", b.const(np.arange(15, dtype=np.float32).reshape(5, 3)), perm=[1, 0])
    m = b.module(b.op("nn.matmul", x, w))
    assert_equivalent(m, CANON.apply)
    assert op_names(m) == ["nn.constant", "nn.matmul"]
    assert m.main.ops[0].results[0].type.shape == (3, 5)


def test_fold_limit_keeps_large_results():
    b = Builder()
    x = b.arg("x", (4, 3))
    w = b.op("nn.transpose", b.const(np.ones((5, 3), np.float32)), perm=[1, 0])
    m = b.module(b.op("nn.matmul", x, w))
    assert not Canonicalize(max_fold_elements=8).apply(m)
    assert "nn.transpose" in op_names(m)


def test_folds_shape_and_size_of_static_types_and_their_arithmetic():
    b = Builder()
    x = b.arg("x", (4, 6))
    n = b.op("nn.shape", x, start=1)
    two = b.op("nn.mul", n, b.const(np.array([2], np.int64)))
    size = b.op("nn.size", x)
    m = b.module(b.op("nn.add", x, x), two, size)
    assert_equivalent(m, CANON.apply)
    assert sorted(op_names(m)) == ["nn.add", "nn.constant", "nn.constant"]
    assert m.main.outputs[1].owner.attrs["value"].tolist() == [12]
    assert int(m.main.outputs[2].owner.attrs["value"]) == 24


def test_removes_dead_ops_but_keeps_outputs():
    b = Builder()
    x = b.arg("x", (2, 2))
    b.op("nn.relu", b.op("nn.exp", x))  # unused
    m = b.module(b.op("nn.tanh", x))
    assert CANON.apply(m)
    assert op_names(m) == ["nn.tanh"]


NOOPS = [
    ("nn.identity", {}, (2, 3)),
    ("nn.dropout", {"ratio": 0.3}, (2, 3)),
    ("nn.cast", {"to": "f32"}, (2, 3)),
    ("nn.reshape", {"shape": [2, 3]}, (2, 3)),
    ("nn.flatten", {"axis": 1}, (2, 3)),
    ("nn.transpose", {"perm": [0, 1]}, (2, 3)),
    ("nn.expand", {"shape": [1, 3]}, (2, 3)),
    ("nn.tile", {"repeats": [1, 1]}, (2, 3)),
    ("nn.slice", {"starts": [0], "ends": [100], "axes": [1]}, (2, 3)),
    ("nn.pad", {"pads": [0, 0, 0, 0]}, (2, 3)),
    ("nn.concat", {"axis": 0}, (2, 3)),
]


@pytest.mark.parametrize("name,attrs,shape", NOOPS, ids=[n[0] for n in NOOPS])
def test_removes_noop(name, attrs, shape):
    b = Builder()
    x = b.arg("x", shape)
    m = b.module(b.op("nn.relu", b.op(name, x, **attrs)))
    assert_equivalent(m, CANON.apply)
    assert op_names(m) == ["nn.relu"]


@pytest.mark.parametrize("name,value,swap", [("nn.add", 0.0, False), ("nn.add", 0.0, True),
                                             ("nn.mul", 1.0, True), ("nn.sub", 0.0, False),
                                             ("nn.div", 1.0, False)])
def test_removes_neutral_arithmetic(name, value, swap):
    b = Builder()
    x = b.arg("x", (2, 3))
    c = b.const(np.full((3,), value, np.float32))
    m = b.module(b.op("nn.relu", b.op(name, *((c, x) if swap else (x, c)))))
    assert_equivalent(m, CANON.apply)
    assert op_names(m) == ["nn.relu"]


def test_keeps_neutral_arithmetic_that_broadcasts_or_is_not_neutral():
    b = Builder()
    x = b.arg("x", (3,))
    wide = b.op("nn.add", x, b.const(np.zeros((2, 3), np.float32)))
    left = b.op("nn.sub", b.const(np.zeros((3,), np.float32)), x)  # 0 - x is not x
    m = b.module(wide, left)
    assert_equivalent(m, CANON.apply)
    assert op_names(m).count("nn.add") == 1 and op_names(m).count("nn.sub") == 1


def test_cancels_squeeze_unsqueeze_pairs_and_collapses_chains():
    b = Builder()
    x = b.arg("x", (2, 3, 4))
    y = b.op("nn.squeeze", b.op("nn.unsqueeze", x, axes=[1]), axes=[1])
    y = b.op("nn.reshape", b.op("nn.reshape", y, shape=[6, 4]), shape=[3, 8])
    z = b.op("nn.transpose", b.op("nn.transpose", x, perm=[1, 0, 2]), perm=[2, 0, 1])
    m = b.module(y, z)
    assert_equivalent(m, CANON.apply)
    assert op_names(m) == ["nn.reshape", "nn.transpose"]
    assert m.main.ops[0].operands[0] is m.main.args[0]
    assert m.main.ops[1].attrs["perm"] == (2, 1, 0)


def test_unit_moving_transpose_becomes_a_reshape():
    b = Builder()
    x = b.arg("x", (4, 5, 1))
    m = b.module(b.op("nn.reshape", b.op("nn.transpose", x, perm=[0, 2, 1]), shape=[4, 5]))
    assert_equivalent(m, CANON.apply)
    assert op_names(m) == ["nn.reshape"]


def test_fixed_point_reports_no_change_the_second_time():
    b = Builder()
    x = b.arg("x", (2, 3))
    m = b.module(b.op("nn.identity", b.op("nn.identity", x)))
    assert CANON.apply(m)
    assert m.main.outputs == [m.main.args[0]]
    assert not CANON.apply(m)


def test_pass_contract():
    assert Canonicalize.name == "canonicalize"
    assert Canonicalize(max_fold_elements=16).spec() == "canonicalize{max-fold-elements=16}"
