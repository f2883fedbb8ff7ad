"""schedule: start and end cycles of every placed op, and the transfers between chip tiles.

`schedule{pipeline=auto|true|false}`. Reads the placement (`pim.loc`, `pim.replicas`), writes
`pim.start` / `pim.end` on every op with a unit, inserts a `pim.transfer` (src/dst chip tile,
bytes, hops, its own start and end) before the first consumer of a value that crosses the
mesh (with the links it holds: `pim.links`, `pim.link_bytes`, `pim.link_cycles`), and sets
`pim.latency` and `pim.interval` on the module. `auto` pipelines batches when the placement's
objective is throughput, energy or a mix; otherwise (latency) batches run one after another
(interval = latency). The list scheduler is in `passes._placement.timeline`; deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Graph, Module, Value
from ir.dialects import pim
from ir.dialects.pim_attrs import (
    END,
    INTERVAL,
    IO_END,
    LATENCY,
    LINK_BYTES,
    LINK_CYCLES,
    LINKS,
    PIPELINED,
    PLACE_FACTS,
    START,
)
from ir.errors import PimcError
from passes._gc_pause import gc_paused
from passes._placement.layout import read_layout
from passes._placement.moves import Move
from passes._placement.placement import PIPELINED_OBJECTIVES, timeline_of
from passes._placement.problem import ANALYSIS, Problem
from passes.base import Pass

__all__ = ["Schedule"]

_PIPELINE = ("auto", "true", "false")


def _drop_transfers(graph: Graph) -> None:
    """Forget an earlier schedule's transfers (their consumers read the value again)."""
    dropped = graph.find(pim.Transfer)
    if not dropped:
        return
    back = {id(t.result): t.operands[0] for t in dropped}

    def source(v):
        while id(v) in back:  # a transfer of a transfer: back to the first value
            v = back[id(v)]
        return v

    for op in graph.ops:
        op.operands = [source(v) for v in op.operands]
    graph.outputs = [source(v) for v in graph.outputs]
    graph.remove(dropped)


def _transfer(m: Move) -> pim.Transfer:
    """The pim.transfer of one move: its route, its cycles and the links it holds."""
    return pim.Transfer([m.value], {
        "src": m.src, "dst": m.dst, "bytes": m.bytes, "hops": m.hops, START.name: m.start,
        END.name: m.end, LINKS.name: tuple(m.links), LINK_BYTES.name: tuple(m.links.values()),
        LINK_CYCLES.name: tuple(m.occupancy.values())})


def _insert(graph: Graph, moves: list[Move], indexed: list) -> None:
    """Every move becomes a pim.transfer just before its first consumer (in graph order; the
    consumers are ops that were there before, and `indexed` is the graph's list as it was, so
    the first consumer is the one of least index)."""
    before: dict[int, list] = {}
    swaps: dict[int, dict[int, Value]] = {}  # consumer index -> id(value) -> transferred value
    for m in moves:
        t = _transfer(m)
        before.setdefault(min(m.consumers), []).append(t)
        for c in m.consumers:  # an earlier move of the value to this consumer took its uses
            swaps.setdefault(c, {}).setdefault(id(m.value), t.results[0])
    for c, swap in swaps.items():  # each consumer's operands rewritten once (a combine of
        op = indexed[c]            # many tiles receives many transfers)
        op.operands = [swap.get(id(v), v) for v in op.operands]
    ops: list = []
    done = 0
    for i in sorted(before):  # the list rebuilt once, in slices between the insertion points
        ops += indexed[done:i]
        ops += before[i]
        done = i
    graph.ops = ops + indexed[done:]


@dataclass(frozen=True)
class Schedule(Pass):
    name: ClassVar[str] = "schedule"

    pipeline: str = "auto"

    def _pipelined(self, module: Module) -> bool:
        if self.pipeline not in _PIPELINE:
            raise PimcError(f"schedule: pipeline '{self.pipeline}'; accepted: "
                            f"{', '.join(_PIPELINE)}")
        if self.pipeline != "auto":
            return self.pipeline == "true"
        return PLACE_FACTS["objective"].of(module, "throughput") in PIPELINED_OBJECTIVES

    def apply(self, module: Module) -> bool:
        pipelined = self._pipelined(module)
        graph = module.main
        _drop_transfers(graph)
        with gc_paused():
            prob = Problem.shared(module)
            module.analyses.pop(ANALYSIS)  # the transfers this inserts make it stale
            layout = read_layout(prob)
            for info in prob.ops:
                layout.locs(info)  # every op placed, or a one-line error naming the first
            tl = timeline_of(prob, layout, pipelined)
            for info in prob.ops:
                START.set(info.op, tl.start[info.index])
                END.set(info.op, tl.end[info.index])
                IO_END.drop(info.op)
                io = info.io_part(tl.end[info.index] - tl.start[info.index])
                if io:
                    IO_END.set(info.op, tl.start[info.index] + io)
            _insert(graph, tl.moves, list(graph.ops))
            facts = int(tl.latency), int(tl.interval), bool(tl.pipelined)
            # the problem and the timeline go now, by reference counting: alive when the
            # collector comes back, they would all be walked by its first collection
            del prob, layout, tl
        LATENCY.set(module, facts[0])
        INTERVAL.set(module, facts[1])
        PIPELINED.set(module, facts[2])
        return True
