"""The placement problem read off a pim-level module: what runs where, and for how long.

Nothing here imports a solver. ``Problem.of(module)`` collects, in graph order:

- ``ops``: every op with a unit (``pim.unit``: crossbar, digital or bank), its producers with a
  unit (looking through free views and transfers) and its duration in cycles;
- ``groups``: the crossbar ops (``pim.mvm`` tiles sharing an ``op`` name): their tiles and
  the crossbars each takes, the replica counts worth trying (the least count giving each
  distinct ceil(vectors / r)) and every tile's duration at each count;
- ``shards``: the ``pim.gather`` ops with their bytes and durations (bank placement).

``Problem.shared(module)`` builds it once for the passes that read it in turn (place,
lower-bound, schedule): it is kept in ``module.analyses`` under ``ANALYSIS`` while the graph
holds the same ops in the same order (place and lower-bound only write attributes it does not
read, and say so in their ``preserves``).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any

from ir.core import Graph, Module, Op, Value
from ir.dialects import pim
from ir.dialects.pim_attrs import BATCH, STREAMED, TARGET, UNIT
from ir.errors import PimcError
from passes._costing.op_primitives import (
    gather_shares,
    offchip_part,
    offchip_span,
    primitives,
)
from passes._placement.mesh import Mesh
from targets import load_target
from targets.coster import OpCoster, shared_coster
from targets.hardware import Target
from targets.rollup import rollup

__all__ = ["ANALYSIS", "UNITS", "Group", "OpInfo", "Problem", "producers_of"]

ANALYSIS = "placement-problem"  # its name in Module.analyses

UNITS = ("crossbar", "digital", "bank")


@dataclass
class OpInfo:
    index: int
    op: Op
    unit: str
    preds: tuple[int, ...]  # indices of producer ops with a unit
    cycles: int  # at one replica
    group: str = ""  # crossbar ops: the op they are a tile of
    crossbars: int = 1  # a tile's crossbars per replica
    io_cycles: int = 0  # of `cycles`, the part spent on the chip's off-chip I/O (first)

    def io_part(self, d: int) -> int:
        """Of a run of `d` cycles, those that hold the chip's off-chip I/O (first); the op's
        unit is held for the rest (at least one cycle)."""
        return offchip_span(self.io_cycles, d)


@dataclass
class Group:
    name: str
    ops: list[int] = field(default_factory=list)  # op indices of its tiles, graph order
    vectors: int = 1
    choices: tuple[int, ...] = (1,)
    cycles: dict[int, tuple[int, ...]] = field(default_factory=dict)  # op -> per choice
    # op -> crossbars per replica, where a tile takes more than one
    crossbars: dict[int, int] = field(default_factory=dict)
    _slowest: tuple = field(default=(None, ()), repr=False, compare=False)  # duration's cache

    def crossbars_of(self, op: int) -> int:
        """The crossbars tile `op` takes per replica."""
        return self.crossbars.get(op, 1)

    @property
    def weight_tiles(self) -> int:
        """Crossbars one copy of the op's weights takes (its tiles' crossbars)."""
        return sum(self.crossbars_of(i) for i in self.ops)

    def offsets(self) -> dict[int, int]:
        """Op -> the position of its first crossbar in one copy of the weights (tiles in
        graph order, each on consecutive crossbars)."""
        out, at = {}, 0
        for i in self.ops:
            out[i] = at
            at += self.crossbars_of(i)
        return out

    def duration(self, choice: int) -> int:
        """The group's time at replica-count index `choice` (its slowest tile)."""
        if self._slowest[0] is not self.cycles:  # worked out once per cycles table
            self._slowest = (self.cycles, tuple(max(c[k] for c in self.cycles.values())
                                                for k in range(len(self.choices))))
        return self._slowest[1][choice]


def producers_of(v: Value, memo: dict[int, tuple[Op, ...]]) -> tuple[Op, ...]:
    """The ops with a unit whose results `v` carries (through views and transfers)."""
    op = v.owner
    if op is None:
        return ()
    key = id(v)
    if key not in memo:
        if UNIT.of(op, None) in UNITS and not isinstance(op, pim.Transfer):
            memo[key] = (op,)
        else:
            seen: dict[int, Op] = {}
            for x in op.operands:
                for p in producers_of(x, memo):
                    seen.setdefault(id(p), p)
            memo[key] = tuple(seen.values())
    return memo[key]


def replica_choices(vectors: int, most: int) -> tuple[int, ...]:
    """The least replica count for each distinct ceil(vectors / r), r = 1 .. most."""
    most = max(1, min(vectors, most))
    return tuple(sorted({math.ceil(vectors / math.ceil(vectors / r)) for r in range(1, most + 1)}))


@dataclass
class Problem:
    module: Module
    target: Target
    coster: OpCoster
    mesh: Mesh
    ops: list[OpInfo]
    groups: dict[str, Group]
    shares: dict[int, float]
    streamed: bool
    batch: int
    memo: dict = field(default_factory=dict)
    by_op: dict[int, OpInfo] = field(default_factory=dict)
    read_bytes: dict[tuple[int, int], int] = field(default_factory=dict)  # moves.read_bytes' cache
    timelines: dict[tuple, Any] = field(default_factory=dict)  # placement.evaluate's, by layout
    layouts: dict[tuple, Any] = field(default_factory=dict)  # placement.evaluate's, by placement
    held: dict[tuple, int] = field(default_factory=dict)  # placement._shared_held's, likewise
    leakage_per_cycle: float = 0.0  # J the whole target leaks per clock cycle
    prims: dict[int, tuple] = field(default_factory=dict)  # crossbar tile -> its primitives
    by_index: dict[int, OpInfo] = field(default_factory=dict)
    _inputs: dict[int, tuple] = field(default_factory=dict)  # inputs' cache
    _slots: dict[int, dict] = field(default_factory=dict)  # slots' cache
    edges: dict[tuple[int, int], int] | None = None  # moves.edge_bytes' cache
    routes: dict[tuple, tuple] = field(default_factory=dict)  # moves' routes, by their sends
    least: dict[tuple, int] = field(default_factory=dict)  # moves.least_cycles', by sends
    move_reads: list | None = None  # moves._reads' cache
    spots: dict[tuple, tuple] = field(default_factory=dict)  # moves._spot's cache
    spot_numbers: dict[tuple, int] = field(default_factory=dict)  # moves._spot's, by shares
    pairs: dict[tuple[int, int], tuple] = field(default_factory=dict)  # moves._send's cache
    _mvm_readers: dict[int, int] | None = None  # first_mvm_reader's cache
    bounds: tuple[int, int] | None = None  # lower_bounds' cache
    capacity: int | None = None  # lower_bounds._capacity's (place reads it, then lower-bound)
    loads: dict[int, OpInfo] | None = None  # steps._loads' cache
    group_locs: dict[tuple[str, int, int], list] = field(default_factory=dict)
    _read: tuple = ()  # (target attribute, every op of the graph) as `of` read them

    @classmethod
    def of(cls, module: Module) -> Problem:
        name = TARGET.of(module, None)
        if not name:
            raise PimcError(f"module has no '{TARGET.name}'; run partition{{target=NAME}} first")
        target = load_target(str(name))
        graph = module.main
        prob = cls(module, target, shared_coster(target), Mesh.of(target), [], {},
                   gather_shares(graph.ops), bool(STREAMED.of(module, False)),
                   int(BATCH.of(module, 1)))
        prob.leakage_per_cycle = rollup(target).leakage / target.clock
        prob._collect(graph)
        prob._choose_replicas()
        prob._read = (name, list(graph.ops))
        return prob

    @classmethod
    def shared(cls, module: Module) -> Problem:
        """`of(module)`, or the problem an earlier pass left in `module.analyses` while it
        still describes the module (the same target and the same ops in the same order); a new
        one is left there for the passes after."""
        prob = module.analyses.get(ANALYSIS)
        if prob is None or not prob._describes(module):
            prob = module.analyses[ANALYSIS] = cls.of(module)
        return prob

    def _describes(self, module: Module) -> bool:
        name, ops = self._read
        now = module.main.ops
        return (self.module is module and TARGET.of(module, None) == name
                and len(now) == len(ops) and all(map(operator.is_, now, ops)))

    def _collect(self, graph: Graph) -> None:
        memo, target = self.memo, self.target
        index = {id(op): i for i, op in enumerate(graph.ops)}
        for i, op in enumerate(graph.ops):
            unit = UNIT.of(op, None)
            if unit not in UNITS or isinstance(op, pim.Transfer):
                continue
            preds = {index[id(p)]: None for v in op.operands for p in producers_of(v, memo)}
            share = self.shares.get(id(op), 1.0)
            prims = primitives(op, target, share)
            whole = prims if share == 1.0 else primitives(op, target)
            info = OpInfo(i, op, unit, tuple(preds), self._cycles_of(op, prims, (1,))[0],
                          io_cycles=self._io(whole))
            if unit == "crossbar" and isinstance(op, pim.MVM):
                info.group = op.attrs["op"]
                group = self.groups.setdefault(info.group, Group(info.group))
                group.ops.append(i)
                info.crossbars = op.crossbars
                if info.crossbars > 1:
                    group.crossbars[i] = info.crossbars
                group.vectors = whole[0].vectors
                self.prims[i] = prims
            self.ops.append(info)
            self.by_op[id(op)] = info
            self.by_index[i] = info
        if not self.ops:
            raise PimcError(f"no op carries '{UNIT.name}'; run partition and tile first")

    def _choose_replicas(self) -> None:
        needed = sum(g.weight_tiles for g in self.groups.values())
        spare = self.mesh.crossbars - needed
        if not self.streamed and self.groups and spare < 0:
            raise PimcError(f"the model needs {needed} crossbars, target "
                            f"'{self.target.name}' has {self.mesh.crossbars}; use fewer "
                            "weight bits or a target with streamed weights")
        replicated = self.coster.cycles_replicated
        for g in self.groups.values():
            most = 1 if self.streamed else 1 + spare // g.weight_tiles
            g.choices = replica_choices(g.vectors, most)
            g.cycles = {i: replicated(self.prims[i], g.choices) for i in g.ops}

    def cycles(self, op: Op, replicas: int = 1) -> int:
        """The duration of `op` in cycles with `replicas` copies of its weights."""
        return self.cycles_at(op, (replicas,))[0]

    def cycles_at(self, op: Op, counts: tuple[int, ...]) -> tuple[int, ...]:
        """`cycles(op, r)` for every r of `counts` (the op's primitives are derived once)."""
        return self._cycles_of(op, primitives(op, self.target, self.shares.get(id(op), 1.0)),
                               counts)

    def _cycles_of(self, op: Op, prims: tuple, counts: tuple[int, ...]) -> tuple[int, ...]:
        if not isinstance(op, pim.MVM):
            return (self.coster.cycles(prims),) * len(counts)
        return self.coster.cycles_replicated(prims, counts)

    def _io(self, prims: tuple) -> int:
        prims = offchip_part(prims, self.target)
        return self.coster.cycles(prims) if prims else 0

    def inputs(self, info: OpInfo) -> tuple[tuple[Value, tuple[OpInfo, ...]], ...]:
        """Each distinct operand of `info`, in order, with the ops with a unit producing it."""
        got = self._inputs.get(info.index)
        if got is None:
            by_op, memo = self.by_op, self.memo
            got = self._inputs[info.index] = tuple(
                (v, tuple(by_op[id(p)] for p in producers_of(v, memo)))
                for v in dict.fromkeys(info.op.operands))
        return got

    def slots(self, index: int) -> dict[int, tuple[int, tuple[int, ...]]]:
        """Of op `index`: id of each distinct operand -> its position among them and the
        indices of its producers."""
        got = self._slots.get(index)
        if got is None:
            got = self._slots[index] = {
                id(v): (k, tuple(p.index for p in prods))
                for k, (v, prods) in enumerate(self.inputs(self.by_index[index]))}
        return got

    def first_mvm_reader(self, v: Value) -> int | None:
        """The index of the first pim.mvm (in graph order) that reads `v`, or None."""
        if self._mvm_readers is None:
            first: dict[int, int] = {}
            for user in self.ops:
                if isinstance(user.op, pim.MVM):
                    for x in user.op.operands:
                        first.setdefault(id(x), user.index)
            self._mvm_readers = first
        return self._mvm_readers.get(id(v))

    def shards(self) -> list[OpInfo]:
        return [info for info in self.ops if isinstance(info.op, pim.Gather)]

