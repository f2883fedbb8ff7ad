"""The error bound carries errors in float64 through moves, and passes the value and bound of a
copy (`pim.transfer`, `pim.load`: ``ir.interp._blocks.COPIES``) on without its rule: the walk
gives the bound the rule would, bit for bit, on compiled programs full of transfers."""

from pathlib import Path

import numpy as np
import pytest

import passes.error_bound as eb
from compiler.driver import compile as compile_model
from ir.core import Value
from ir.dialects import lookup, pim
from ir.interp._blocks import COPIES
from ir.types import TensorType
from passes._lowering._error_tensor import on_errors
from passes._lowering.error_bound_rules import RULES

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


def test_copies_are_the_identity_ops_of_the_pim_dialect_and_keep_their_rule():
    assert COPIES == {pim.Transfer, pim.Load}
    assert all(RULES[t] is on_errors for t in COPIES)  # for callers of the rule itself


@pytest.mark.parametrize("fixture, target", [("torchrec_dlrm_legacy", "isaac"),
                                             ("deepctr_dcn_legacy", "hetero")])
def test_the_walk_passes_a_copy_on_as_its_rule_would(fixture, target, monkeypatch):
    out = compile_model(str(ONNX / f"{fixture}.onnx"), target, batch=8, check="none")
    copies = [op for op in out.module.main.ops if type(op) in COPIES]
    assert copies, "the near miss needs transfers to pass through"
    fast = eb.error_bound(out.module, out.inputs)
    monkeypatch.setattr(eb, "COPIES", frozenset())  # every op through its rule
    slow = eb.error_bound(out.module, out.inputs)
    assert all(np.array_equal(f, s, equal_nan=True) for f, s in zip(fast, slow, strict=True))
    assert max(float(np.max(b)) for b in fast) > 1e-5  # a bound the copies carried


def test_a_move_keeps_errors_in_float64():
    # 1 + 2^-30 has no float32: a bound cast to the value's type would round it (down, here
    # for the smaller one) and could drop below the true error
    x = Value(TensorType((2, 3), "f32"), name="x")
    op = lookup("nn.reshape")([x], {"shape": (3, 2)})
    err = np.full((2, 3), 1 + 2.0 ** -30)
    err[0, 0] = 1 - 2.0 ** -30
    got = on_errors(op, [np.zeros((2, 3), np.float32)], [err], [np.zeros((3, 2), np.float32)])[0]
    assert got.dtype == np.float64
    assert np.array_equal(got, err.reshape(3, 2))


def _f32(shape, name):
    return Value(TensorType(shape, "f32"), name=name)


@pytest.mark.parametrize("case", ["pad", "batch_norm", "embedding_bag"])
def test_the_rules_that_apply_their_op_to_the_errors_keep_float64(case):
    err = np.full((2, 3), 1 + 2.0 ** -30)
    if case == "pad":
        op = lookup("nn.pad")([_f32((2, 3), "x")], {"pads": (0, 0, 0, 1)})
        vals, errs, shape = [np.zeros((2, 3), np.float32)], [err], (2, 4)
        want = np.pad(err, ((0, 0), (0, 1)))
    elif case == "batch_norm":  # scale 1, variance 1 - eps: the error times exactly 1
        op = lookup("nn.batch_norm")([_f32((2, 3), "x")] + [_f32((3,), n) for n in "sbmv"],
                                     {"epsilon": 0.0})
        one = np.ones(3, np.float32)
        vals, errs, shape = [np.zeros((2, 3), np.float32), one, one, one, one], \
            [err] + [np.zeros(3)] * 4, (2, 3)
        want = err
    else:  # a table that carries error, rows looked up as they are
        op = lookup("rec.embedding_bag")(
            [_f32((2, 3), "t"), Value(TensorType((2, 1), "i64"), name="i")], {"mode": "none"})
        vals, errs, shape = [np.zeros((2, 3), np.float32), np.array([[1], [0]])], \
            [err, np.zeros((2, 1))], (2, 1, 3)
        want = err[[[1], [0]]]
    got = RULES[type(op)](op, vals, errs, [np.zeros(shape, np.float32)])[0]
    assert got.dtype == np.float64
    assert np.array_equal(got, want)
