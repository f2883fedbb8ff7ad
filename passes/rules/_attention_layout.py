"""How an exported attention lays out its tokens and heads, read from index probes.

A head arrangement probed from its projection's output (rows = tokens, `width` columns) gives
one [F, dh] block of codes per head-batch L. Each block must be one token per row and dh
consecutive columns; its tokens run either batch-major (row b*F + f: [B, F, D] inputs) or
sequence-major (row f*B + b: torch.nn.MultiheadAttention's [F, B, D]), and its columns start at
`offset + h*dh` (offset: where q, k or v sits in a packed [D, 3E] in-projection).
"""

from __future__ import annotations

import numpy as np

from passes.rewrite import NoMatch, expect

__all__ = ["ORDERS", "arm_layout", "merged_order", "token_rows"]

ORDERS = ("batch", "sequence")


def token_rows(order: str, b: int, n_b: int, f: int) -> np.ndarray:
    """The source rows of batch row b's F tokens."""
    return b * f + np.arange(f) if order == "batch" else b + n_b * np.arange(f)


def _block(blk: np.ndarray, width: int, dh: int) -> tuple[np.ndarray, int]:
    """(token rows [F], first column) of one [F, dh] head block of codes."""
    row, col = np.divmod(blk, width)
    c0 = int(col[0, 0])
    expect(np.array_equal(col, np.broadcast_to(c0 + np.arange(dh), blk.shape)),
           "heads are not contiguous column blocks")
    expect(bool(np.all(row == row[:, :1])), "a head row mixes tokens")
    return row[:, 0], c0


def _batch_of(rows: np.ndarray, order: str, n_b: int, f: int) -> int | None:
    b = int(rows[0]) // f if order == "batch" else int(rows[0])
    ok = b < n_b and np.array_equal(rows, token_rows(order, b, n_b, f))
    return b if ok else None


def arm_layout(codes: np.ndarray, width: int, n_b: int, f: int, dh: int
               ) -> tuple[set[str], int, dict[str, list[tuple[int, int]]]]:
    """(token orders that fit, column offset, per order the (batch row, head) of each block)
    of one arm's probe `codes` [.., F, dh]."""
    blocks = [_block(blk, width, dh) for blk in codes.reshape(-1, f, dh)]
    offset = min(c0 for _, c0 in blocks)
    heads = len(blocks) // n_b
    expect(len(blocks) == n_b * heads and
           sorted({c0 for _, c0 in blocks}) == [offset + h * dh for h in range(heads)],
           "head blocks do not cover the projection's columns")
    maps: dict[str, list[tuple[int, int]]] = {}
    for order in ORDERS:
        batches = [_batch_of(rows, order, n_b, f) for rows, _ in blocks]
        if None not in batches:
            maps[order] = [(bi, (c0 - offset) // dh) for bi, (_, c0) in zip(batches, blocks)]
    expect(bool(maps), "head blocks are not one batch row's tokens in order")
    return set(maps), offset, maps


def merged_order(got: np.ndarray, where: dict[tuple[int, int], int],
                 dims: tuple[int, int, int, int]) -> str:
    """The token order in which the merge puts [.., H*dh] rows back together from the attention
    output [L, F, dh] (`where`: (batch row, head) -> L); NoMatch when it is neither."""
    n_b, f, e, dh = dims
    col = np.arange(e)
    blocks = np.array([[where[(i, c // dh)] for c in col] for i in range(n_b)])  # [B, E]
    want = (blocks[:, None, :] * f + np.arange(f)[None, :, None]) * dh + col % dh  # [B, F, E]
    flat = got.reshape(-1)
    for order, layout in (("batch", want), ("sequence", want.transpose(1, 0, 2))):
        if np.array_equal(flat, layout.reshape(-1)):
            return order
    raise NoMatch("merge does not invert the split")
