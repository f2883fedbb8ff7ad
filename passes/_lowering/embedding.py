"""Embedding bags on DRAM banks: row shards (`pim.gather`) joined by `pim.combine`.

Shards are contiguous row ranges balanced by expected lookups: equal rows when lookups are
uniform, equal cumulative frequency when a profile (per-row lookup counts) is given. Their
number is given, or as many as the bank capacity requires (at least one per table).

With a profile, a row that alone draws more than half of one shard's fair share of the lookups
(a hot row: no contiguous split balances it) is replicated into every shard, and its lookups are
served in turn by all of them (``pim.gather``'s ``hot``/``turns``); the other rows are split
by their own cumulative frequency. Each shard carries ``pim.freq``, its expected share of the
bag's lookups, which the costs read.
"""

from __future__ import annotations

import math

import numpy as np

from ir.core import Op, Value
from ir.dialects import pim
from ir.dialects.pim_attrs import A_BITS, FREQ, UNIT, W_BITS
from passes._costing.op_primitives import table_bits, table_bytes
from passes.rewrite import new_const

__all__ = ["bounds", "hot_rows", "lookup_counts", "parallel_shards", "shard_bag", "shards_needed"]


def shards_needed(op: Op, bank_bytes: float) -> int:
    """Shards one table needs so that each fits in a bank."""
    return max(1, math.ceil(table_bytes(op) / bank_bytes))


def parallel_shards(op: Op, target, least: int, most: int) -> int:
    """How many banks to spread a table over so that its lookups run in parallel: the count in
    least, 2*least, ... <= most (at least `least`, the capacity need) whose slowest shard plus
    the combine of the shards' partial results is quickest on `target`'s cost model.
    Lookups are taken as uniform over rows; a frequency profile reshapes the ranges later.
    Priced by the target's shared coster: the tables of a model, and of the candidates after
    it, ask for the same few prices (a coster of its own per table priced each again)."""
    from targets.coster import shared_coster
    from targets.primitives import BankGather, VectorOp

    coster = shared_coster(target)
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


def hot_rows(profile: np.ndarray | None, shards: int, rows: int) -> np.ndarray:
    """Rows (sorted, < `rows`) that alone draw more than half of one shard's fair share
    (1/(2 x `shards`)) of the lookups in `profile`: a contiguous split cannot put such a row
    with others without overloading that shard by up to half a share."""
    if profile is None or shards < 2:
        return np.zeros(0, np.int64)
    counts = np.asarray(profile, np.float64)[:rows]
    total = float(counts.sum())
    if total <= 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(counts > total / (2 * shards)).astype(np.int64)


def shard_bag(op: Op, name: str, count: int,
              profile: np.ndarray | None = None) -> tuple[list[Op], Value]:
    """`pim.gather` per row range of the bag's constant table (`count` ranges of about equal
    expected lookups; with a `profile`, each also holding the hot rows), then one
    `pim.combine`; with a `profile`, each shard's `pim.freq`."""
    table = np.asarray(op.operands[0].owner.attrs["value"])
    mode = op.attrs["mode"]
    bits = {f.name: f.of(op) for f in (W_BITS, A_BITS) if f.has(op)}
    hot = hot_rows(profile, count, table.shape[0])
    cold = None if profile is None else np.asarray(profile, np.float64).copy()
    if cold is not None:
        cold[hot] = 0.0  # hot rows are served by every shard: split the rest by load
    ranges = bounds(table.shape[0], count, cold)
    if len(ranges) < 2:  # one shard serves every row: nothing to replicate
        hot, cold = hot[:0], None if profile is None else np.asarray(profile, np.float64)
    shares = _shares(cold, ranges, profile, hot)
    ops: list[Op] = []
    parts = []
    for s, (r0, r1) in enumerate(ranges):
        const = new_const(_shard_rows(table, r0, r1, hot))
        UNIT.set(const, "none")
        attrs = {"op": name, "shard": s, "rows": [r0, r1], "mode": mode, UNIT.name: "bank",
                 **bits}
        if hot.size:
            attrs.update(hot=[int(x) for x in hot], turns=len(ranges))
        gather = pim.Gather([const.result, *op.operands[1:]], attrs)
        if shares is not None:
            FREQ.set(gather, shares[s])
        ops += [const, gather]
        parts.append(gather.result)
    scale = 1.0 / op.operands[1].type.shape[-1] if mode == "mean" else 1.0
    combine = pim.Combine(parts, {"op": name, "mode": "max" if mode == "max" else "sum",
                                  "scale": scale, UNIT.name: "digital", **bits})
    return [*ops, combine], combine.result


def _shard_rows(table: np.ndarray, r0: int, r1: int, hot: np.ndarray) -> np.ndarray:
    """Rows [r0, r1) of `table` then its `hot` rows: without hot rows a view of the table (a
    production table mapped from its file is then never copied, here or when written)."""
    if not hot.size and table.flags.c_contiguous:
        return table[r0:r1]
    return np.ascontiguousarray(np.concatenate([table[r0:r1], table[hot]]))


def _shares(cold: np.ndarray | None, ranges: list[tuple[int, int]], profile: np.ndarray | None,
            hot: np.ndarray) -> list[float] | None:
    """Each shard's expected share of the lookups: its own rows' counts (`cold`: hot rows
    zeroed) plus an equal part of the hot rows' counts."""
    total = 0.0 if profile is None else float(np.sum(profile))
    if cold is None or total <= 0:
        return None
    spread = float(np.asarray(profile, np.float64)[hot].sum()) / len(ranges)
    return [(float(cold[a:b].sum()) + spread) / total for a, b in ranges]


def lookup_counts(graph, feeds) -> dict[str, np.ndarray]:
    """Per embedding bag with a constant table (by its `tile` name, "emb3"): how often each
    row is looked up when `graph` runs on `feeds` (a profile for ``tile{profile=...}``)."""
    from ir.dialects import nn
    from ir.interp import run
    from passes._lowering.kinds import kind_of, op_names

    bags = {op: name for op, name in op_names(graph).items()
            if kind_of(op) == "embedding" and isinstance(op.operands[0].owner, nn.Constant)}
    counts = {name: np.zeros(op.operands[0].type.shape[0], np.int64)
              for op, name in bags.items()}
    readers: dict[Value, list[str]] = {}
    for op, name in bags.items():
        readers.setdefault(op.operands[1], []).append(name)

    def add(value: Value, ids: np.ndarray) -> None:
        for name in readers.get(value, ()):
            rows = counts[name].size
            ids = np.asarray(ids, np.int64).ravel()
            counts[name] += np.bincount(ids[(ids >= 0) & (ids < rows)], minlength=rows)

    for i, v in enumerate(graph.args):
        if v in readers:
            add(v, feeds[v.name] if isinstance(feeds, dict) else feeds[i])
    run(graph, feeds, observe=lambda op, outs: [add(r, a) for r, a in zip(op.results, outs)
                                                if r in readers])
    return counts


def shardable(op: Op) -> bool:
    """A bag with a constant table whose shards recombine exactly (no mean over offsets)."""
    from ir.dialects import nn

    constant = isinstance(op.operands[0].owner, nn.Constant)
    return constant and not (op.attrs["mode"] == "mean" and len(op.operands) == 3)
