"""Cases for the elementwise math, scatter and recurrent `nn` ops (run by
test_nn_semantics.py against ONNX Runtime with the other cases)."""

from __future__ import annotations

import numpy as np
from nn_cases import Case, c

from ir.dialects import nn, nn_index, nn_seq

R = np.random.default_rng(13)
F = np.float32


def f32(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, shape).astype(F)


X = f32(3, 4)
UNIT = f32(3, 4, lo=-0.95, hi=0.95)
INTS = (np.array([[7, -7, 9], [-9, 5, 0]], np.int32), np.array([[3, 6, -4], [4, -3, 1]], np.int32))
U8 = (np.array([1, 128, 255, 7], np.uint8), np.array([1, 7, 3, 0], np.uint8))
SPECIAL = np.array([np.inf, -np.inf, np.nan, 0.0, -1.5, 2.0], F)

MATH_CASES = [
    *(Case(op, cls, [X]) for op, cls in [
        ("Atan", nn.Atan), ("Sinh", nn.Sinh), ("Cosh", nn.Cosh), ("Asinh", nn.Asinh),
        ("HardSwish", nn.HardSwish), ("Mish", nn.Mish), ("Celu", nn.Celu),
        ("Shrink", nn.Shrink), ("ThresholdedRelu", nn.ThresholdedRelu)]),
    Case("Tan", nn.Tan, [UNIT]), Case("Asin", nn.Asin, [UNIT]), Case("Acos", nn.Acos, [UNIT]),
    Case("Atanh", nn.Atanh, [UNIT]), Case("Acosh", nn.Acosh, [f32(3, 4, lo=1.0, hi=5.0)]),
    Case("Celu", nn.Celu, [X], {"alpha": 0.6}),
    Case("Shrink", nn.Shrink, [X], {"bias": 0.3, "lambd": 0.8}),
    Case("ThresholdedRelu", nn.ThresholdedRelu, [X], {"alpha": 0.4}),
    Case("IsInf", nn.IsInf, [SPECIAL], opset=20),
    Case("IsInf", nn.IsInf, [SPECIAL], {"detect_negative": 0}, opset=20),
    Case("IsInf", nn.IsInf, [SPECIAL], {"detect_positive": 0}, opset=20),
    Case("BitwiseNot", nn.BitwiseNot, [INTS[0]]),
    *(Case(op, cls, list(INTS)) for op, cls in [
        ("BitwiseAnd", nn.BitwiseAnd), ("BitwiseOr", nn.BitwiseOr),
        ("BitwiseXor", nn.BitwiseXor)]),
    Case("BitShift", nn.BitshiftRight, list(U8), {"direction": "RIGHT"}),
]

DATA = f32(4, 5)
SCATTER_CASES = [
    Case("ScatterElements", nn_index.ScatterElements,
         [DATA, np.array([[1, -1], [0, 2], [4, 3]], np.int64), f32(3, 2)], {"axis": 1}),
    Case("ScatterElements", nn_index.ScatterElements,
         [DATA, c(np.array([[3, 0, 1]], np.int64)), f32(1, 3)]),
    *(Case("ScatterElements", nn_index.ScatterElements,
           [DATA, np.array([[1, 1, 0], [1, 1, 4]], np.int64), f32(2, 3)],
           {"axis": 1, "reduction": r}) for r in ("add", "mul", "max", "min")),
    Case("ScatterND", nn_index.ScatterND,
         [DATA, np.array([[0, 1], [3, -1], [2, 2]], np.int64), f32(3)]),
    Case("ScatterND", nn_index.ScatterND, [f32(4, 3, 2), c(np.array([[2], [0]], np.int64)),
                                           f32(2, 3, 2)]),
    *(Case("ScatterND", nn_index.ScatterND,
           [DATA, np.array([[[1, 1], [1, 1]], [[0, 4], [1, 1]]], np.int64), f32(2, 2)],
           {"reduction": r}) for r in ("add", "mul", "max", "min")),
]


def _weights(gates: int, dirs: int, hidden: int, size: int) -> list:
    return [c(f32(dirs, gates * hidden, size, lo=-0.6, hi=0.6)),
            c(f32(dirs, gates * hidden, hidden, lo=-0.6, hi=0.6)),
            c(f32(dirs, 2 * gates * hidden, lo=-0.4, hi=0.4))]


LENS = np.array([5, 2, 4], np.int32)
RECURRENT_CASES = [
    Case("RNN", nn_seq.Rnn, [f32(5, 3, 4), *_weights(1, 1, 6, 4)], {"hidden_size": 6},
         outputs=2, rtol=1e-5, atol=1e-6),
    Case("GRU", nn_seq.Gru, [f32(5, 3, 4), *_weights(3, 2, 6, 4), LENS, f32(2, 3, 6)],
         {"hidden_size": 6, "direction": "bidirectional", "linear_before_reset": 1},
         outputs=2, rtol=1e-5, atol=1e-6),
    Case("LSTM", nn_seq.Lstm, [f32(5, 3, 4), *_weights(4, 1, 6, 4), LENS, f32(1, 3, 6),
                               f32(1, 3, 6), c(f32(1, 18, lo=-0.5, hi=0.5))],
         {"hidden_size": 6, "direction": "reverse"}, outputs=3, rtol=1e-5, atol=1e-6),
]

MORE_CASES = MATH_CASES + SCATTER_CASES + RECURRENT_CASES
