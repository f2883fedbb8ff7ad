"""How the weights of a `rec.bilinear` go onto crossbars: its distinct weights, in blocks.

Pair p takes left field left[p] through its weight W_p ([D, D] shared by every pair, or one
of [P, D, D]). Each distinct weight is one small matrix, and equal weights are stored once.
The weights that read exactly the same left fields stand side by side in one block
[D, m D]: a crossbar read of one field's vector then gives all of that field's pairs at once,
and the tiling packs as many D-column weights into one crossbar as its columns hold (the
tiling gives a crossbar to one matrix's tile only, so separate D x D matrices would take a
crossbar each). A weight read by several fields (a shared W) takes them as separate vectors:
B x F_left rows through one D x D matrix. Row s m + j of a block's output is its field s
through its weight j.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Block", "blocks", "operand_of", "runs"]


@dataclass(frozen=True)
class Block:
    """Left fields (rows of the operands concatenated over axis 1, ascending) times their
    weights side by side (`w` [D, m D])."""

    fields: tuple[int, ...]
    w: np.ndarray


def _distinct(w: np.ndarray, pairs: int) -> tuple[list[int], list[int]]:
    """(each pair's weight id, the first pair of each id): equal weights share an id."""
    ids: dict[bytes, int] = {}
    first: list[int] = []
    of_pair = []
    for p in range(pairs):
        k = ids.setdefault(w[p].tobytes() if w.ndim == 3 else b"", len(ids))
        if k == len(first):
            first.append(p)
        of_pair.append(k)
    return of_pair, first


def blocks(w: np.ndarray, left: Sequence[int]) -> tuple[list[Block], list[int]]:
    """The blocks of a bilinear weight `w` with pairs' left fields `left`, and for each pair
    the row of its left product in the blocks' outputs stacked over axis 1 (block order)."""
    of_pair, first = _distinct(w, len(left))
    fields: dict[int, set[int]] = {}
    for k, f in zip(of_pair, left):
        fields.setdefault(k, set()).add(f)
    by_fields: dict[tuple[int, ...], list[int]] = {}
    for k in range(len(first)):
        by_fields.setdefault(tuple(sorted(fields[k])), []).append(k)
    out, row, at = [], 0, {}
    for fs, ks in by_fields.items():
        out.append(Block(fs, np.concatenate([w[first[k]] if w.ndim == 3 else w for k in ks],
                                            axis=1)))
        for s, f in enumerate(fs):
            at.update({(f, k): row + s * len(ks) + j for j, k in enumerate(ks)})
        row += len(fs) * len(ks)
    return out, [at[(f, k)] for k, f in zip(of_pair, left)]


def operand_of(sizes: Sequence[int], row: int) -> tuple[int, int]:
    """(operand, row within it) of `row` of operands of `sizes` rows concatenated."""
    k = 0
    while row >= sizes[k]:
        row, k = row - sizes[k], k + 1
    return k, row


def runs(sizes: Sequence[int], fields: Sequence[int]) -> list[tuple[int, int, int]]:
    """Ascending `fields` (rows of operands of `sizes` rows, concatenated) as runs of
    consecutive rows within one operand: (operand, first row, end row) in that operand."""
    out: list[tuple[int, int, int]] = []
    for f in fields:
        k, r = operand_of(sizes, f)
        if out and out[-1][0] == k and out[-1][2] == r:
            out[-1] = (k, out[-1][1], r + 1)
        else:
            out.append((k, r, r + 1))
    return out
