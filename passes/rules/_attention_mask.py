"""The additive mask of a matched attention, laid out the way `rec.attention` takes it.

The masked scores are [.., F, F] blocks, one per head-batch L, in the (batch row, head) order
the head arrangement gave them (`order`: L -> (b, h)); the op wants a mask that broadcasts to
[B, H, F, F]. A constant is laid out again by value. A computed mask (a key-padding mask built
from the history's padding ids, a causal mask passed in) is traced back through its data
movement (reshape, expand, ...) to the tensor that holds its values and probed there: the
axes of [B, H, F, F] along which it does not vary become 1; when what is left is that tensor
(or the mask itself) in row-major order, one reshape of it is the operand (torch's
key-padding mask [B, F] becomes [B, 1, 1, F], a mask shared by every row and head one
[F, F]); otherwise (heads ordered head-major, say) a gather by constant indices lays it out.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn_shape
from passes.rewrite import Ctx, Match, NoMatch, const_of, expect, new_const
from passes.rules._movement import probe, region

__all__ = ["mask_layout", "mask_operand", "mask_source"]


def mask_source(mask: Value, ctx: Ctx, anchor: Op) -> tuple[Value, list[Op]]:
    """(the tensor holding a computed mask's values, the movement ops from it to the mask).

    The movement ops are not part of the match: the mask of one layer may feed another."""
    try:
        source, ops = region(mask, ctx, Match(anchor))
        probe(source, ops, mask)
    except NoMatch:
        return mask, []  # several sources, or an element type the probe cannot hold
    return source, ops


def _by_head(blocks: np.ndarray, order: list[tuple[int, int]], dims: tuple[int, int, int]
             ) -> np.ndarray:
    """The [L, F, F] blocks of the scores' layout put at [b, h] of a [B, H, F, F] array."""
    b, h, f = dims
    out = np.empty((b, h, f, f), blocks.dtype)
    for block, (i, j) in zip(blocks, order):
        out[i, j] = block
    return out


def _constant(value: np.ndarray, shape: tuple[int, ...], order, dims) -> np.ndarray:
    """A constant mask as [B, H, F, F], or one [F, F] when every batch row and head shares it."""
    out = _by_head(np.broadcast_to(value, shape).reshape(-1, *shape[-2:]), order, dims)
    return out[0, 0] if np.all(out == out[:1, :1]) else out


def _codes(source: Value, ops: list[Op], mask: Value, shape: tuple[int, ...], order, dims
           ) -> np.ndarray:
    """Which element of `source` each masked score reads, as [B, H, F, F] with the axes the
    mask does not vary along kept at 1."""
    codes = probe(source, ops, mask) if ops else np.arange(mask.type.size).reshape(
        mask.type.shape)
    full = _by_head(np.broadcast_to(codes, shape).reshape(-1, *shape[-2:]), order, dims)
    keep = tuple(slice(None) if np.any(full != full.take([0], axis=a)) else slice(0, 1)
                 for a in range(4))
    return full[keep]


def _trimmed(shape: tuple[int, ...]) -> tuple[int, ...]:
    while len(shape) > 2 and shape[0] == 1:
        shape = shape[1:]
    return shape


def _computed(mask: Value, src: tuple[Value, list[Op]], shape: tuple[int, ...], order, dims
              ) -> tuple[Value, tuple[int, ...], np.ndarray | None]:
    """(source, the operand's shape, None) when a reshape of the source (or of the mask
    itself) is the operand; else (source, shape, the source's flat indices to gather)."""
    for source, ops in (src, (mask, [])):
        used = _codes(source, ops, mask, shape, order, dims)
        if np.array_equal(used.reshape(-1), np.arange(source.type.size)):
            return source, _trimmed(used.shape), None
    used = _codes(*src, mask, shape, order, dims)  # (the scores' heads in another order)
    return src[0], _trimmed(used.shape), used.reshape(_trimmed(used.shape))


def mask_layout(mask: Value, src: tuple[Value, list[Op]], shape: tuple[int, ...],
                order: list[tuple[int, int]], dims: tuple[int, int, int]):
    """The mask added to the scores `shape`, as the op takes it: an array for a constant,
    (source value, shape) for a computed one. `dims` is (B, H, F)."""
    expect(np.broadcast_shapes(mask.type.shape, shape) == tuple(shape),
           f"mask {list(mask.type.shape)} broadcasts the scores {list(shape)}")
    value = const_of(mask)
    if value is not None:
        return _constant(value, tuple(shape), order, dims)
    return _computed(mask, src, tuple(shape), order, dims)


def mask_operand(layout, ops: list[Op]) -> Value | None:
    """The mask operand of the new op from `mask_layout`'s answer; its ops go to `ops`."""
    if layout is None:
        return None
    if isinstance(layout, np.ndarray):
        ops.append(new_const(layout))
        return ops[-1].result
    source, shape, indices = layout
    if indices is not None:
        ops += [nn_shape.Reshape([source], {"shape": [source.type.size]}), new_const(indices)]
        ops.append(nn_shape.Gather([ops[-2].result, ops[-1].result], {"axis": 0}))
        return ops[-1].result
    if source.type.shape == shape:
        return source
    ops.append(nn_shape.Reshape([source], {"shape": list(shape)}))
    return ops[-1].result
