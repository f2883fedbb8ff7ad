"""Crossbar tiles that read the same input: the row blocks of a tiled matrix.

A matrix tiled onto crossbars is one `pim.mvm` tile per (row block, column block); every tile
of a row block reads the same rows of the same value, either directly or through copies
(`pim.transfer` to its chip tile, which pass the value on as it is). What depends on the input
alone (its quantisation, its part of the error bound) is the same for all of them, so the
interpreter and the error bound work it out once per block. Isaac's tiles hold 85 x 15
weights, so a candidate has thousands of tiles and that shared part was half of each one's
cost.
"""

from __future__ import annotations

from collections import Counter

from ir.core import Graph, Op, Value
from ir.dialects import nn, pim

__all__ = ["COPIES", "TOGETHER", "row_blocks", "weight_constant"]

# Ops whose result is their operand as it is (identity semantics; the verifier holds the
# result's type to the operand's).
COPIES: frozenset[type[Op]] = frozenset((pim.Transfer, pim.Load))

# What the tiles of a row block must share to be worked out as one, by the interpreter and
# the error bound (all but their weights and w_scale): `row_blocks`' `same` for that.
TOGETHER = ("x_scale", "a_bits", "w_bits", "cell_bits", "dac_bits", "adc_bits", "signed")


def _copy_roots(graph: Graph) -> dict[Value, Value]:
    """The value each copy's result passes on (through chains of copies)."""
    root: dict[Value, Value] = {}
    for op in graph.ops:
        if type(op) in COPIES:
            root[op.results[0]] = root.get(op.operands[0], op.operands[0])
    return root


def row_blocks(graph: Graph, same: tuple[str, ...]) -> dict[int, tuple]:
    """The `pim.mvm` tiles of `graph` that share a row block with another tile, by id: the key
    they share. Tiles share one when they read the same rows of the same value (directly, or
    through copies: a copy casts the value to its type, the same for every copy) and agree on
    the attributes `same`."""
    root = _copy_roots(graph)
    keys: dict[int, tuple] = {}
    for op in graph.ops:
        if type(op) is pim.MVM:
            x, a = op.operands[0], op.attrs
            keys[id(op)] = (root.get(x, x), x in root, a["rows"], *(a[k] for k in same))
    count = Counter(keys.values())
    return {k: key for k, key in keys.items() if count[key] > 1}


def weight_constant(op: pim.MVM) -> nn.Constant | None:
    """The `nn.constant` a tile's weights are (through copies), or None when they are
    computed."""
    w = op.operands[1]
    while w.owner is not None and type(w.owner) in COPIES:
        w = w.owner.operands[0]
    return w.owner if isinstance(w.owner, nn.Constant) else None
