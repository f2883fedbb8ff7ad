"""Embedding bags on DRAM banks: row shards (`pim.gather`) joined by `pim.combine`.

Shards are contiguous row ranges balanced by expected lookups: equal rows when lookups are
uniform, equal cumulative frequency when a profile (per-row lookup counts) is given. Their
number is given, or as many as the bank capacity requires (at least one per table).
"""

from __future__ import annotations

import math

import numpy as np

from ir.core import Op, Value
from ir.dialects import pim
from ir.dialects.pim_attrs import A_BITS, UNIT, W_BITS
from passes._costing.op_primitives import table_bits, table_bytes
from passes.rewrite import new_const

__all__ = ["bounds", "parallel_shards", "shard_bag", "shards_needed"]


def shards_needed(op: Op, bank_bytes: float) -> int:
    """Shards one table needs so that each fits in a bank."""
    return max(1, math.ceil(table_bytes(op) / bank_bytes))


def parallel_shards(op: Op, target, least: int, most: int) -> int:
    """How many banks to spread a table over so that its lookups run in parallel: the count in
    least, 2*least, ... <= most (at least `least`, the capacity need) whose slowest shard plus
    the combine of the shards' partial results is quickest on `target`'s cost model.
    Lookups are taken as uniform over rows; a frequency profile reshapes the ranges later."""
    from targets.coster import OpCoster
    from targets.primitives import BankGather, VectorOp

    coster = OpCoster(target)
    rows, dim = op.operands[0].type.shape[0], max(1, op.operands[0].type.shape[-1])
    lookups, out = max(1, op.operands[1].type.size), max(1, op.results[0].type.size)
    bits = table_bits(op)
    best, count = None, max(1, least)
    while count <= max(least, min(most, rows)):
        shard = BankGather(max(1, math.ceil(lookups / count)), dim, bits, 1)
        parts = () if count == 1 else (VectorOp("add", out * (count - 1), bits),)
        cycles = coster.cycles((shard,)) * 1 + (coster.cycles(parts) if parts else 0)
        if best is None or cycles < best[0]:
            best = (cycles, count)
        count *= 2
    return best[1]


def bounds(rows: int, shards: int, profile: np.ndarray | None = None) -> list[tuple[int, int]]:
    """`shards` contiguous [r0, r1) ranges over `rows`, with about equal expected lookups."""
    shards = max(1, min(shards, rows))
    if profile is None or float(np.sum(profile)) <= 0:
        cuts = np.linspace(0, rows, shards + 1).round().astype(int)
    else:
        weight = np.cumsum(np.asarray(profile, np.float64)[:rows])
        goals = weight[-1] * np.arange(1, shards) / shards
        inner = np.searchsorted(weight, goals, side="left") + 1
        cuts = np.concatenate([[0], inner, [rows]])
        cuts = np.maximum.accumulate(np.minimum(cuts, rows))
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def shard_bag(op: Op, name: str, ranges: list[tuple[int, int]]) -> tuple[list[Op], Value]:
    """`pim.gather` per row range of the bag's constant table, then one `pim.combine`."""
    table = np.asarray(op.operands[0].owner.attrs["value"])
    mode = op.attrs["mode"]
    bits = {f.name: f.of(op) for f in (W_BITS, A_BITS) if f.has(op)}
    ops: list[Op] = []
    parts = []
    for s, (r0, r1) in enumerate(ranges):
        const = new_const(np.ascontiguousarray(table[r0:r1]))
        UNIT.set(const, "none")
        gather = pim.Gather([const.result, *op.operands[1:]],
                            {"op": name, "shard": s, "rows": [r0, r1], "mode": mode,
                             UNIT.name: "bank", **bits})
        ops += [const, gather]
        parts.append(gather.result)
    scale = 1.0 / op.operands[1].type.shape[-1] if mode == "mean" else 1.0
    combine = pim.Combine(parts, {"op": name, "mode": "max" if mode == "max" else "sum",
                                  "scale": scale, UNIT.name: "digital", **bits})
    return [*ops, combine], combine.result


def shardable(op: Op) -> bool:
    """A bag with a constant table whose shards recombine exactly (no mean over offsets)."""
    from ir.dialects import nn

    constant = isinstance(op.operands[0].owner, nn.Constant)
    return constant and not (op.attrs["mode"] == "mean" and len(op.operands) == 3)
