"""Pieces of exported attention graphs that several attention tests build."""

from __future__ import annotations

import numpy as np
from rec_pass_helpers import Builder

from ir.core import Value


def packed_qkv(b: Builder, x: Value, rng: np.random.Generator, d: int, e: int) -> list[Value]:
    """q, k and v [.., E] of torch's packed, biased in-projection x @ W [D, 3E] + bias,
    split by slicing the last axis (how MultiheadAttention's export reads them)."""
    w = rng.standard_normal((d, 3 * e)).astype(np.float32)
    bias = rng.standard_normal(3 * e).astype(np.float32)
    qkv = b.op("nn.add", b.op("nn.matmul", x, b.const(w)), b.const(bias))
    axis = x.type.rank - 1
    return [b.op("nn.slice", qkv, starts=[i * e], ends=[(i + 1) * e], axes=[axis])
            for i in range(3)]
