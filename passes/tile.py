"""tile: crossbar ops into `pim.mvm` weight tiles, embedding bags on banks into `pim.gather` shards.

Reads the module's `pim.target` and each op's `pim.unit`, `pim.w_bits`, `pim.a_bits` and
`pim.x_scale`. A tile has at most `rows` rows ("lossless": the rows whose column sums the ADC
resolves exactly, rows x (2^dac - 1) x (2^cell - 1) <= 2^adc - 1; "full": the array's rows; or
a number); a row block of the matrix is one tile over as many crossbars as its columns need,
each holding at most array columns / columns per weight columns (a differential pair doubles
a weight's columns, an offset column takes one: `crossbar_cols`). Row tiles are summed by
`pim.combine`; the op's digital tail follows (see `passes._lowering.rules`). On streamed
targets each crossbar is a tile of its own and column tiles are concatenated. Every `pim.mvm`
carries `op` (e.g. "dense3"; attention projections "attention0.q") and `tile`.

Embedding bags on "bank" become `shards` row shards each (0: as many as the bank capacity
requires), balanced by the lookup counts in `profile` (an .npz keyed by op name, e.g. "emb3",
of per-row counts: ``pimc profile`` writes one from model inputs) or uniformly; with a profile,
rows hotter than half a shard's share are replicated into every shard and served in turn, and
each shard's expected share of the lookups (`pim.freq`) is what the costs charge it. On
streamed targets, or when resident weights do not fit and `allow-streaming=true`, every weight
tile is loaded by a `pim.load` and `pim.streamed` is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ir.core import Graph, Module, Op, detach
from ir.dialects.pim_attrs import A_BITS, STREAMED, TARGET, UNIT, W_BITS, X_SCALE, Fact
from ir.errors import PimcError
from passes._costing.op_primitives import table_bytes
from passes._gc_pause import gc_paused
from passes._lowering import embedding
from passes._lowering.geometry import geometry, tile_count
from passes._lowering.kinds import kind_of, matrices, op_names
from passes._lowering.mvm import Crossbar
from passes._lowering.rules import LOWER, Builder
from passes.base import Pass
from passes.rewrite import dce

__all__ = ["Tile"]


def _require(op: Op, facts: tuple[Fact, ...], name: str) -> None:
    missing = [f for f in facts if not f.has(op)]
    if missing:
        fix = "partition{target=NAME}" if missing[0] is UNIT else missing[0].writer
        raise PimcError(f"tile needs {missing[0].name} on {op.name} {name} (run {fix} first)",
                        "tile")


def _crossbar_ops(graph: Graph, names: dict[Op, str]) -> list[Op]:
    ops = []
    for op in graph.ops:
        _require(op, (UNIT,), names.get(op, ""))
        if UNIT.of(op) == "crossbar" and type(op) in LOWER:
            _require(op, (W_BITS, A_BITS, X_SCALE), names[op])
            ops.append(op)
    return ops


class _Splice:
    """Ops replaced by their lowerings, the graph's list rebuilt once at `done` (one scan per
    replaced op would make tiling quadratic in the model's size). Each replacement's users are
    rewired at once, from a users map kept up to date, so a later op is lowered reading its new
    producers, as if each replacement had been spliced in on its own."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.users = graph.users()
        self.lowered: dict[int, list[Op]] = {}

    def replace(self, op: Op, ops: list[Op], value) -> None:
        old = op.results[0]
        value.name = value.name or old.name
        for user in self.users.pop(old, ()):
            user.operands = [value if v is old else v for v in user.operands]
            self.users.setdefault(value, []).append(user)
        self.graph.outputs = [value if v is old else v for v in self.graph.outputs]
        for new in ops:
            for v in new.operands:
                self.users.setdefault(v, []).append(new)
        self.lowered[id(op)] = ops

    def done(self) -> None:
        if self.lowered:
            old = self.graph.ops
            self.graph.ops = [x for op in old for x in self.lowered.get(id(op), (op,))]
            kept = set(map(id, self.graph.ops))
            detach([op for op in old if id(op) not in kept])  # replaced: results unread
            self.lowered = {}


@dataclass(frozen=True)
class Tile(Pass):
    """Lower crossbar ops to pim.mvm tiles and bank embedding bags to pim.gather shards."""

    name: ClassVar[str] = "tile"
    rows: str = "lossless"
    shards: int = 0
    profile: str = ""
    allow_streaming: bool = False

    def apply(self, module: Module) -> bool:
        from targets import load_target

        if not TARGET.has(module):
            raise PimcError(f"tile needs the module attribute {TARGET.name} (run "
                            "partition{target=NAME} first)", "tile")
        target = load_target(TARGET.of(module))
        with gc_paused():  # thousands of tiles; a collection would walk the module each time
            return self._tile(module, target)

    def _tile(self, module: Module, target) -> bool:
        graph = module.main
        names = op_names(graph)
        xbar = _crossbar_ops(graph, names)
        streamed = self._streamed(target, xbar) if xbar else target.weights == "streamed"
        splice = _Splice(graph)
        for op in xbar:
            self._lower(splice, op, names[op], target, streamed)
        splice.done()
        bags = [op for op in graph.ops
                if UNIT.of(op, None) == "bank" and kind_of(op) == "embedding"]
        self._check_banks(target, bags)
        splice = _Splice(graph)
        for op in bags:
            self._shard(splice, op, names[op], target, len(bags))
        splice.done()
        if streamed:
            STREAMED.set(module, True)
        dce(graph)
        return bool(xbar or bags)

    def _lower(self, splice: _Splice, op: Op, name: str, target, streamed: bool) -> None:
        w_bits = W_BITS.of(op)
        cb = Crossbar(geometry(target, w_bits, self.rows), w_bits, A_BITS.of(op),
                      X_SCALE.of(op), streamed)
        b = Builder(op, name, cb)
        value = LOWER[type(op)](b)
        splice.replace(op, b.ops, value)

    def _streamed(self, target, ops: list[Op]) -> bool:
        if target.weights == "streamed":
            return True
        chip = target.chip
        have = chip.tiles * chip.tile.pes * chip.tile.pe.arrays
        need = sum(tile_count(m.w.shape, geometry(target, W_BITS.of(op), self.rows))
                   for op in ops for m in matrices(op))
        if need <= have:
            return False
        if self.allow_streaming:
            return True
        bits = sorted({W_BITS.of(op) for op in ops})
        text = f"{bits[0]}" if len(bits) == 1 else f"{bits[0]}-{bits[-1]}"
        raise PimcError(f"weights need {need} crossbars ({text}-bit weights) but target "
                        f"{target.name} has {have}; use fewer bits or allow-streaming=true",
                        "tile")

    def _check_banks(self, target, bags: list[Op]) -> None:
        if not bags:
            return
        need = sum(table_bytes(op) for op in bags)
        have = target.dram.banks * target.dram.bank_size / 8
        if need > have:
            raise PimcError(f"embedding tables need {need} bytes but target {target.name}'s "
                            f"{target.dram.banks} banks hold {int(have)}", "tile")

    def _shard(self, splice: _Splice, op: Op, name: str, target, tables: int) -> None:
        if not embedding.shardable(op):
            return
        need = embedding.shards_needed(op, target.dram.bank_size / 8)
        count = self.shards or embedding.parallel_shards(
            op, target, need, max(need, target.dram.banks // max(1, tables)))
        rows = op.operands[0].type.shape[0]
        profile = self._profile(name, rows)
        ops, value = embedding.shard_bag(op, name, count, profile)
        splice.replace(op, ops, value)

    def _profile(self, name: str, rows: int) -> np.ndarray | None:
        if not self.profile:
            return None
        try:
            with np.load(self.profile) as data:
                counts = data[name] if name in data.files else None
        except (OSError, ValueError) as exc:
            raise PimcError(f"tile: cannot read profile {self.profile!r}: {exc}") from None
        if counts is None:
            return None
        counts = np.asarray(counts)
        if counts.ndim != 1 or counts.size != rows or counts.dtype.kind not in "iuf" \
                or not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise PimcError(f"tile: profile {self.profile!r} entry '{name}' is "
                            f"{counts.dtype}{list(counts.shape)}; accepted: {rows} finite "
                            f"non-negative lookup counts, one per row of the table")
        return counts
