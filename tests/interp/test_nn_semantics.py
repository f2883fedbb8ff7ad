"""The `nn` reference semantics against ONNX Runtime, one single-node ONNX model per case.

Each case is imported with fold=False (so the op itself runs in the interpreter, not at
import time), checked to contain the expected nn op, run, and compared with ORT.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_cases import Case, assert_matches_onnxruntime, c
from nn_cases_more import MORE_CASES
from onnx import numpy_helper

from ir.core import Value
from ir.dialects import all_ops, nn, nn_shape
from ir.interp import evaluate
from ir.types import TensorType

R = np.random.default_rng(7)
F = np.float32


def f32(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, shape).astype(F)


def i64(*values):
    return np.array(values, dtype=np.int64)


X = f32(3, 4)
POS = f32(3, 4, lo=0.1, hi=3.0)
INTS_A = np.array([[7, -7, 9], [-9, 5, 0]], np.int32)
INTS_B = np.array([[2, 2, -4], [4, -3, 1]], np.int32)
BOOLS = (R.random((3, 4)) > 0.5, R.random((3, 4)) > 0.5)
TIES = np.array([[1, 3, 3, 2, 3], [0, 0, 1, 1, 0]], F)

CASES = [
    *(Case(op, cls, [X]) for op, cls in [
        ("Relu", nn.Relu), ("Sigmoid", nn.Sigmoid), ("Tanh", nn.Tanh), ("Exp", nn.Exp),
        ("Neg", nn.Neg), ("Abs", nn.Abs), ("Erf", nn.Erf), ("Floor", nn.Floor),
        ("Ceil", nn.Ceil), ("Sign", nn.Sign), ("Softplus", nn.Softplus),
        ("Softsign", nn.Softsign), ("Sin", nn.Sin), ("Cos", nn.Cos),
        ("IsNaN", nn.IsNan)]),
    Case("Log", nn.Log, [POS]), Case("Sqrt", nn.Sqrt, [POS]),
    Case("Reciprocal", nn.Reciprocal, [POS]),
    Case("Round", nn.Round, [np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.4], F)]),
    Case("Not", nn.Not, [BOOLS[0]]),
    Case("LeakyRelu", nn.LeakyRelu, [X], {"alpha": 0.2}),
    Case("Elu", nn.Elu, [X], {"alpha": 0.7}), Case("Selu", nn.Selu, [X]),
    Case("HardSigmoid", nn.HardSigmoid, [X], {"alpha": 0.3, "beta": 0.4}),
    Case("Gelu", nn.Gelu, [X], opset=20),
    Case("Gelu", nn.Gelu, [X], {"approximate": "tanh"}, opset=20),
    Case("Clip", nn.Clip, [X, c(F(-0.5)), c(F(0.7))]),
    Case("Clip", nn.Clip, [X, None, c(F(0.7))]), Case("Clip", nn.Clip, [X]),
    Case("Softmax", nn.Softmax, [f32(2, 3, 4)], {"axis": 1}),
    Case("LogSoftmax", nn.LogSoftmax, [f32(2, 3, 4)]),
    Case("CumSum", nn.CumSum, [X, c(i64(1))]),
    Case("CumSum", nn.CumSum, [X, c(i64(0))], {"exclusive": 1, "reverse": 1}),
    *(Case(op, cls, [X, f32(1, 4)]) for op, cls in [
        ("Add", nn.Add), ("Sub", nn.Sub), ("Mul", nn.Mul), ("Div", nn.Div),
        ("Equal", nn.Equal), ("Less", nn.Less), ("Greater", nn.Greater),
        ("LessOrEqual", nn.LessOrEqual), ("GreaterOrEqual", nn.GreaterOrEqual),
        ("PRelu", nn.Prelu)]),
    Case("Div", nn.Div, [INTS_A, INTS_B]),
    Case("Mod", nn.Mod, [INTS_A, INTS_B]),
    Case("Mod", nn.Fmod, [INTS_A, INTS_B], {"fmod": 1}),
    Case("Mod", nn.Fmod, [X, f32(3, 4, lo=0.5)], {"fmod": 1}),
    Case("Pow", nn.Pow, [POS, X]), Case("Pow", nn.Pow, [X, c(np.int64(2))]),
    Case("BitShift", nn.Bitshift, [np.array([1, 2, 7], np.uint8),
                                   np.array([1, 3, 0], np.uint8)], {"direction": "LEFT"}),
    *(Case(op, cls, list(BOOLS)) for op, cls in [
        ("And", nn.And), ("Or", nn.Or), ("Xor", nn.Xor)]),
    Case("Where", nn.Where, [BOOLS[0], X, f32(4)]),
    *(Case(op, cls, [X, f32(4), f32(3, 1)]) for op, cls in [
        ("Sum", nn.Sum), ("Max", nn.Max), ("Min", nn.Min), ("Mean", nn.Mean)]),
]
for _op, _cls in [("ReduceSum", nn.ReduceSum), ("ReduceMean", nn.ReduceMean),
                  ("ReduceMax", nn.ReduceMax), ("ReduceMin", nn.ReduceMin),
                  ("ReduceProd", nn.ReduceProd), ("ReduceL1", nn.ReduceL1),
                  ("ReduceL2", nn.ReduceL2), ("ReduceSumSquare", nn.ReduceSumSquare),
                  ("ReduceLogSumExp", nn.ReduceLogSumExp)]:
    CASES += [Case(_op, _cls, [f32(2, 3, 4), c(i64(0, -1))], {"keepdims": 0}),
              Case(_op, _cls, [f32(2, 3, 4)])]
CASES += [
    Case("ReduceMean", nn.ReduceMean, [f32(2, 3, 4)], {"axes": [1]}, opset=13, rtol=1e-5),
    Case("ReduceSum", nn.ReduceSum, [f32(2, 3, 4), c(i64(1))], opset=13),
    Case("ArgMax", nn.ArgMax, [TIES], {"axis": 1}),
    Case("ArgMax", nn.ArgMax, [TIES], {"axis": 1, "select_last_index": 1, "keepdims": 0}),
    Case("ArgMin", nn.ArgMin, [TIES], {"axis": 1}),
    Case("TopK", nn_shape.TopK, [TIES, c(i64(3))], outputs=2),
    Case("TopK", nn_shape.TopK, [TIES, c(i64(2))], {"largest": 0}, outputs=2),
    Case("MatMul", nn.MatMul, [f32(2, 3, 4), f32(4, 5)]),
    Case("Gemm", nn.Gemm, [f32(3, 4), f32(5, 4), f32(5)], {"transB": 1, "alpha": 0.5,
                                                          "beta": 2.0}),
    Case("Gemm", nn.Gemm, [f32(4, 3), f32(4, 5)], {"transA": 1}),
    Case("Einsum", nn.Einsum, [f32(2, 3, 4), f32(2, 4, 5)], {"equation": "bij,bjk->bik"}),
    Case("Einsum", nn.Einsum, [f32(2, 3, 4)], {"equation": "bij->bji"}),
    Case("LayerNormalization", nn.LayerNorm, [f32(2, 3, 4), f32(4), f32(4)], rtol=1e-5),
    Case("LayerNormalization", nn.LayerNorm, [f32(2, 3, 4), f32(3, 4)], {"axis": 1},
         rtol=1e-5),
    Case("BatchNormalization", nn.BatchNorm,
         [f32(2, 3, 4), f32(3), f32(3), f32(3), f32(3, lo=0.5)], rtol=1e-5),
    Case("Cast", nn.Cast, [np.array([1.7, -1.7, 2.5, -0.2], F)], {"to": onnx.TensorProto.INT32}),
    Case("Cast", nn.Cast, [np.array([0.0, -1.7, 2.0], F)], {"to": onnx.TensorProto.BOOL}),
    Case("Constant", nn.Constant, [], {"value": numpy_helper.from_array(X)}),
    Case("Reshape", nn_shape.Reshape, [f32(2, 3, 4), c(i64(0, -1))]),
    Case("Transpose", nn_shape.Transpose, [f32(2, 3, 4)], {"perm": [2, 0, 1]}),
    Case("Squeeze", nn_shape.Squeeze, [f32(2, 1, 4, 1), c(i64(-1))]),
    Case("Unsqueeze", nn_shape.Unsqueeze, [X, c(i64(0, -1))]),
    Case("Flatten", nn_shape.Flatten, [f32(2, 3, 4)], {"axis": 2}),
    Case("Expand", nn_shape.Expand, [f32(3, 1), c(i64(2, 3, 4))]),
    Case("Tile", nn_shape.Tile, [X, c(i64(2, 1))]),
    Case("Slice", nn_shape.Slice, [f32(5, 6), c(i64(1, -1)), c(i64(100, -100)),
                                   c(i64(0, 1)), c(i64(2, -2))]),
    Case("Slice", nn_shape.Slice, [f32(5, 6), c(i64(-3)), c(i64(-1))]),
    Case("Pad", nn_shape.Pad, [X, c(i64(1, 0, 0, 2)), c(F(1.5))]),
    Case("Pad", nn_shape.Pad, [X, c(i64(1, -1, 1, 2))], {"mode": "reflect"}),
    Case("Pad", nn_shape.Pad, [X, c(i64(0, 1, 2, 0))], {"mode": "edge"}),
    Case("Concat", nn_shape.Concat, [X, f32(2, 4)], {"axis": 0}),
    Case("Split", nn_shape.Split, [f32(5, 3), c(i64(2, 3))], outputs=2),
    Case("Split", nn_shape.Split, [f32(5, 3)], {"num_outputs": 3}, outputs=3),
    Case("Gather", nn_shape.Gather, [f32(5, 3), np.array([[0, -1], [4, 2]], np.int64)]),
    Case("Gather", nn_shape.Gather, [f32(5, 3), np.array([2, -3], np.int64)], {"axis": 1}),
    Case("GatherElements", nn_shape.GatherElements,
         [f32(3, 4), np.array([[0, -1], [3, 2], [1, 1]], np.int64)], {"axis": 1}),
    Case("GatherND", nn_shape.GatherND, [f32(3, 4, 2), np.array([[0, -1], [2, 1]], np.int64)]),
    Case("GatherND", nn_shape.GatherND, [f32(3, 4, 2), np.array([[1], [0], [3]], np.int64)],
         {"batch_dims": 1}),
    Case("Shape", nn_shape.Shape, [f32(2, 3, 4)], {"start": 1}),
    Case("Size", nn_shape.Size, [f32(2, 3, 4)]),
    Case("Trilu", nn_shape.Trilu, [f32(4, 5), c(i64(1))]),
    Case("Trilu", nn_shape.Trilu, [f32(2, 4, 5)], {"upper": 0}),
    *MORE_CASES,
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.op}-{c.expect.name}")
def test_matches_onnxruntime(case: Case) -> None:
    assert_matches_onnxruntime(case)


@pytest.mark.parametrize("cls", [nn.Identity, nn.Dropout])
def test_aliases_copy(cls) -> None:
    x = f32(2, 3)
    op = cls([Value(TensorType.of(x))])
    np.testing.assert_array_equal(evaluate(op, [x])[0], x)


def test_every_nn_op_has_a_case() -> None:
    covered = {c.expect for c in CASES} | {nn.Identity, nn.Dropout}
    missing = sorted(name for name, cls in all_ops().items()
                     if name.startswith("nn.") and cls not in covered)
    assert missing == []


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_reductions_and_softmax_any_shape(shape, data) -> None:
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    x = np.random.default_rng(len(shape)).uniform(-3, 3, shape).astype(F)
    for case in (Case("Softmax", nn.Softmax, [x], {"axis": axis}),
                 Case("ReduceMax", nn.ReduceMax, [x, c(i64(axis))]),
                 Case("ReduceLogSumExp", nn.ReduceLogSumExp, [x, c(i64(axis))], rtol=1e-5),
                 Case("CumSum", nn.CumSum, [x, c(i64(axis))], {"reverse": 1}, rtol=1e-5)):
        test_matches_onnxruntime(case)


@settings(max_examples=25, deadline=None)
@given(dim=st.integers(1, 8), start=st.integers(-10, 10), end=st.integers(-10, 10),
       step=st.sampled_from([-3, -1, 1, 2]))
def test_slice_clamps_like_onnx(dim, start, end, step) -> None:
    x = np.arange(dim * 2, dtype=F).reshape(dim, 2)
    test_matches_onnxruntime(Case("Slice", nn_shape.Slice,
                                  [x, c(i64(start)), c(i64(end)), c(i64(0)), c(i64(step))]))


@settings(max_examples=20, deadline=None)
@given(a=st.lists(st.integers(-50, 50), min_size=1, max_size=6), data=st.data())
def test_integer_div_truncates(a, data) -> None:
    b = data.draw(st.lists(st.integers(1, 9).map(lambda v: v * data.draw(
        st.sampled_from([-1, 1]))), min_size=len(a), max_size=len(a)))
    test_matches_onnxruntime(Case("Div", nn.Div, [np.array(a, np.int64),
                                                  np.array(b, np.int64)]))
