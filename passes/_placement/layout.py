"""A layout: where every op with a unit runs and how many weight copies each crossbar op has.

A candidate placement is evaluated as a `Layout` value, never by writing the module: the
timeline reads locations and replica counts from here. Only the chosen layout is written onto
the ops (`write_layout`, as `pim.loc` and `pim.replicas`); the schedule pass reads a written
one back (`read_layout`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ir.dialects.pim_attrs import LOC, REPLICAS
from ir.errors import PimcError
from passes._placement.problem import OpInfo, Problem

__all__ = ["Layout", "held", "read_layout", "write_layout"]


def held(unit: str, locs):
    """The locations of an op on `unit` that stand for the resources it holds: a crossbar op's
    first crossbar, every location of another op (a digital op's chip tile, a bank op's
    banks). A tile's crossbars, every one of every replica, are held together, from its start
    to its end, and by nothing else (resident weights: no two tiles share a crossbar; a
    streamed target's tiles are one crossbar each, with one copy), so one resource per tile
    schedules, checks and simulates the same as one per crossbar, without walking the
    thousands of crossbars a tile's copies hold."""
    return locs[:1] if unit == "crossbar" else locs


@dataclass(frozen=True)
class Layout:
    """`loc`: op index -> crossbar ids (a tile's crossbars, replica by replica), bank ids or a
    chip tile;
    `replicas`: op index -> copies of a crossbar op's weights (absent: one)."""

    loc: Mapping[int, tuple[int, ...]]
    replicas: Mapping[int, int]
    # What is worked out from this layout once for all who read it (`moves._spots`); a
    # layout's locations are not changed once it is scored (the list schedule's working copy,
    # which they are, is never scored)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def locs(self, info: OpInfo) -> tuple[int, ...]:
        loc = self.loc.get(info.index)
        if loc is None:
            raise PimcError(f"{info.op.name} (op {info.index}) has no '{LOC.name}'; "
                            "run place first")
        return loc

    def replicas_of(self, info: OpInfo) -> int:
        return self.replicas.get(info.index, 1)

    def with_locs(self, updates: Mapping[int, tuple[int, ...]]) -> Layout:
        return Layout({**self.loc, **updates}, self.replicas)


def read_layout(prob: Problem) -> Layout:
    """The layout written on the module's ops (by an earlier `place`)."""
    loc, replicas = {}, {}
    for info in prob.ops:
        if LOC.has(info.op):
            value = LOC.of(info.op)
            loc[info.index] = value if isinstance(value, tuple) else (value,)
        if REPLICAS.has(info.op):
            replicas[info.index] = int(REPLICAS.of(info.op))
    return Layout(loc, replicas)


def write_layout(prob: Problem, layout: Layout) -> None:
    """Write `pim.loc` on every placed op and `pim.replicas` on crossbar tiles."""
    for info in prob.ops:
        if info.index in layout.replicas:
            REPLICAS.set(info.op, layout.replicas[info.index])
        if info.index in layout.loc:
            LOC.set(info.op, layout.loc[info.index])
