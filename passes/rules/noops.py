"""Canonicalization rules: ops that change nothing, and chains that collapse into one op.

`FORWARD` maps an op type to a function that returns the operand the op's result equals
(the op is then a no-op and its uses are forwarded), or None. `COLLAPSE` maps an op type to a
function that returns one op replacing it (and a producer it subsumes), or None.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape
from ir.dialects._shapes import norm_axes
from passes.rewrite import const_of
from passes.rules._movement import keeps_order

__all__ = ["COLLAPSE", "FORWARD"]


def _always(op: Op) -> Value:
    return op.operands[0]


def _same_type(op: Op) -> Value | None:
    x = op.operands[0]
    return x if x.type.same_data(op.results[0].type) else None


def _identity_perm(op: Op) -> Value | None:
    return op.operands[0] if list(op.attrs["perm"]) == sorted(op.attrs["perm"]) else None


def _full_slice(op: Op) -> Value | None:
    steps = op.attrs.get("steps") or (1,)
    return _same_type(op) if all(s > 0 for s in steps) else None


def _zero_pad(op: Op) -> Value | None:
    return op.operands[0] if not any(op.attrs["pads"]) else None


def _single_concat(op: Op) -> Value | None:
    return op.operands[0] if len(op.operands) == 1 else None


def _cancelling(inner_type: type[Op]) -> Callable[[Op], Value | None]:
    """squeeze(unsqueeze(x, a), a) and unsqueeze(squeeze(x, a), a) are x."""

    def forward(op: Op) -> Value | None:
        inner = op.operands[0].owner
        if not isinstance(inner, inner_type):
            return None
        rank = max(op.operands[0].type.rank, op.results[0].type.rank)
        same = norm_axes(op.name, op.attrs["axes"], rank) == \
            norm_axes(inner.name, inner.attrs["axes"], rank)
        return inner.operands[0] if same else None

    return forward


def _neutral(value: float, either_side: bool) -> Callable[[Op], Value | None]:
    """x op c == x where every element of c is `value` and the broadcast keeps x's shape."""

    def forward(op: Op) -> Value | None:
        sides = ((0, 1), (1, 0)) if either_side else ((0, 1),)
        for keep, other in sides:
            c = const_of(op.operands[other])
            x = op.operands[keep]
            if c is not None and np.all(c == value) and x.type.same_data(op.results[0].type):
                return x
        return None

    return forward


FORWARD: dict[type[Op], Callable[[Op], Value | None]] = {
    nn.Identity: _always,
    nn.Dropout: _always,  # inference: dropout passes its input through
    nn.Cast: _same_type,
    nn_shape.Reshape: _same_type,
    nn_shape.Flatten: _same_type,
    nn_shape.Expand: _same_type,
    nn_shape.Tile: _same_type,
    nn_shape.Transpose: _identity_perm,
    nn_shape.Slice: _full_slice,
    nn_shape.Pad: _zero_pad,
    nn_shape.Concat: _single_concat,
    nn_shape.Squeeze: _cancelling(nn_shape.Unsqueeze),
    nn_shape.Unsqueeze: _cancelling(nn_shape.Squeeze),
    nn.Add: _neutral(0.0, True),
    nn.Sub: _neutral(0.0, False),
    nn.Mul: _neutral(1.0, True),
    nn.Div: _neutral(1.0, False),
}


def _reshape_chain(op: Op) -> Op | None:
    """A reshape-like op of a reshape-like op is one reshape (a transpose that moves only
    unit dimensions counts as one)."""
    inner = op.operands[0].owner
    if inner is None or not keeps_order(inner):
        return None
    return nn_shape.Reshape([inner.operands[0]], {"shape": op.results[0].type.shape})


def _transpose_chain(op: Op) -> Op | None:
    """transpose(transpose(x, p), q) is transpose(x, p[q]); a unit-moving one a reshape."""
    if keeps_order(op):
        return nn_shape.Reshape(op.operands, {"shape": op.results[0].type.shape})
    inner = op.operands[0].owner
    if not isinstance(inner, nn_shape.Transpose):
        return None
    perm = tuple(inner.attrs["perm"][q] for q in op.attrs["perm"])
    return nn_shape.Transpose([inner.operands[0]], {"perm": perm})


COLLAPSE: dict[type[Op], Callable[[Op], Op | None]] = {
    t: _reshape_chain for t in (nn_shape.Reshape, nn_shape.Flatten, nn_shape.Squeeze,
                                nn_shape.Unsqueeze)
}
COLLAPSE[nn_shape.Transpose] = _transpose_chain
