"""What the report says about a mapping beyond its totals: used area, binding resource, path.

- ``used_area``: the target's roll-up counted only where the mapping occupies it. Per-PE parts
  (arrays, ADCs, DACs, sample-and-holds, PE buffers and units) count once per processing element
  holding at least one weight tile: a PE's converters serve only its own arrays, so a PE with no
  tile could be power-gated or left out of a smaller design. Chip-tile parts (eDRAM, bus, tile
  vector unit ...) count once per chip tile that holds a tile or runs a digital op; routers once
  per router serving such a tile. Chip-level parts (the off-chip interface, chip buffers) and the
  near-bank units of a DRAM stack count whole: every mapping needs them.
- ``binding``: the resource with the most busy cycles per batch (the one that sets the interval
  when pipelined), and the op that holds it longest.
- ``critical_path``: the chain of ops (and transfers) that ends last, followed back through the
  producer or transfer whose end each op waited for.
- ``energy_sum``: energy by component summed over ops, as the report and the simulator total it
  (``replicated``: a weight tile's primitives at its replica count, as both price it).

Each reads the placement and schedule facts of every op from ``op_facts``, which the report
reads once for all of them.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np

from ir.core import Module, Op
from ir.dialects import pim
from ir.dialects.pim_attrs import END, IO_END, LINK_CYCLES, LINKS, LOC, START, UNIT
from passes._placement.layout import held
from targets.rollup import components, rollup

__all__ = ["OpFacts", "binding", "critical_path", "energy_sum", "op_facts", "replicated",
           "used_area"]

_PER = ("pe.", "tile.", "chip.router")
_ABSENT = object()  # a fact the op does not carry

# (position, op, unit, loc, start, end, io end) of one op; an absent start, end or io end is
# _ABSENT, an absent unit None and an absent loc ()
OpFacts = list[tuple[int, Op, Any, Any, Any, Any, Any]]


def op_facts(module: Module) -> OpFacts:
    """The facts of every op the report reads, each read once (from the attributes at once:
    what each fact's ``of`` reads)."""
    unit, loc, start, end, io = UNIT.name, LOC.name, START.name, END.name, IO_END.name
    return [(i, op, (attrs := op.attrs).get(unit), attrs.get(loc, ()), attrs.get(start, _ABSENT),
             attrs.get(end, _ABSENT), attrs.get(io, _ABSENT))
            for i, op in enumerate(module.main.ops)]


def _used_places(facts: OpFacts, target) -> tuple[set[int], set[int]]:
    """(PEs holding a weight tile, chip tiles holding a tile or running a digital op). The
    crossbars of every tile are divided down in numpy, all at once: thousands a tile, one by
    one they took 1.4 ms of a nasrec-float search-loop candidate on isaac."""
    chip = target.chip
    per_pe = chip.tile.pe.arrays
    per_tile = chip.tile.pes * per_pe
    held = [loc for _, op, unit, loc, _, _, _ in facts
            if unit == "crossbar" and isinstance(op, pim.MVM)]
    tiles = {loc[0] for _, _, unit, loc, _, _, _ in facts if unit == "digital" and loc}
    if not held:
        return set(), tiles
    crossbars = np.fromiter(itertools.chain.from_iterable(held), np.int64)
    tiles.update(np.flatnonzero(np.bincount(crossbars // per_tile)).tolist())
    return set(np.flatnonzero(np.bincount(crossbars // per_pe)).tolist()), tiles


def used_area(module: Module, target, facts: OpFacts | None = None) -> dict:
    """{chip_mm2, used_mm2, by_component} (see the module docstring); `facts`: `op_facts`
    the module, if known."""
    roll = rollup(target)
    chip = target.chip
    if chip is None:
        return {"chip_mm2": roll.area, "used_mm2": roll.area, "by_component": roll.area_breakdown}
    pes, tiles = _used_places(op_facts(module) if facts is None else facts, target)
    all_pes, all_tiles = chip.tiles * chip.tile.pes, chip.tiles
    routers = chip.network.routers.count if chip.network and chip.network.routers else 0
    conc = max(1, -(-all_tiles // max(1, routers))) if routers else 1
    share = {"pe.": len(pes) / all_pes, "tile.": len(tiles) / all_tiles,
             "chip.router": len({t // conc for t in tiles}) / max(1, routers)}
    used: dict[str, float] = {}
    for row in components(target):
        whole = row.count * row.part.area
        frac = next((f for prefix, f in share.items() if row.name.startswith(prefix)), 1.0)
        used[row.name] = used.get(row.name, 0.0) + whole * frac
    return {"chip_mm2": roll.area, "used_mm2": sum(used.values()), "by_component": used}


_KIND = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}


def _busy(facts: OpFacts) -> dict[str, dict]:
    """Per kind of resource, each resource's busy cycles per batch (``_holds``)."""
    busy: dict[str, dict] = {}
    for _, op, unit, loc, start, end, io_end in facts:
        if start is _ABSENT:
            continue
        for kind, resources, d in _holds(op, unit, loc, start, end, io_end):
            of = busy.setdefault(kind, {})
            for r in resources:
                of[r] = of.get(r, 0) + d
    return busy


def _holds(op: Op, unit, loc, start, end, io_end) -> list[tuple[str, Any, int]]:
    """(kind, resources of it, cycles it holds each) an op or transfer holds per batch: a
    unit's resources by number, the I/O and links (kind "") by name."""
    start, end = int(start), int(END.of(op) if end is _ABSENT else end)
    if isinstance(op, pim.Transfer):
        return [("", (r,), d) for r, d in zip(LINKS.of(op, ()), LINK_CYCLES.of(op, ()))]
    kind = _KIND.get(unit)
    io_end = start if io_end is _ABSENT else int(io_end)
    out = [("", ("io:0",), io_end - start)] if io_end > start else []
    if kind:  # a crossbar op's tile: one resource, as the schedule holds it (`held`)
        out.append((kind, held(unit, loc), end - io_end))
    return out


def _longest(facts: OpFacts, kind: str, r) -> int:
    """The position of the first op holding resource r (of `kind`) longest (a KeyError when
    none holds it for a cycle or more, or for none)."""
    best, top = None, -1
    for i, op, unit, loc, start, end, io_end in facts:
        if start is _ABSENT or not _may_hold(op, unit, loc, kind, r):
            continue
        for k, resources, d in _holds(op, unit, loc, start, end, io_end):
            if k == kind and r in resources and d > top:
                best, top = i, d
    if best is None:
        raise KeyError(r)
    return best


def _may_hold(op: Op, unit, loc, kind: str, r) -> bool:
    """Whether ``_holds`` may list r of `kind` for the op: a link only for a transfer on it,
    the I/O only for another op, a unit's resource only for an op on it."""
    if isinstance(op, pim.Transfer):
        return not kind and r in op.attrs.get(LINKS.name, ())
    if kind:
        return _KIND.get(unit) == kind and r in loc
    return r == "io:0"


def _name(op: Op) -> str:
    return str(op.attrs.get("op", op.name)) if isinstance(op, (pim.MVM, pim.Gather)) else op.name


def binding(module: Module, facts: OpFacts | None = None) -> dict:
    """The busiest resource per batch and the op that holds it longest."""
    facts = op_facts(module) if facts is None else facts
    busy = _busy(facts)
    most = max((max(of.values()) for of in busy.values() if of), default=None)
    if most is None:
        return {}
    name, kind, r = min((f"{kind}:{r}" if kind else r, kind, r) for kind, of in busy.items()
                        for r, b in of.items() if b == most)  # on a tie the first by name
    i = _longest(facts, kind, r)
    return {"resource": name, "busy_cycles": most, "op": f"{i}:{_name(module.main.ops[i])}"}


def critical_path(module: Module, facts: OpFacts | None = None) -> list[str]:
    """The ops (and transfers) on the path that ends last, first to last."""
    ends = [(int(END.of(op) if end is _ABSENT else end), -i) for i, op, _, _, start, end, _
            in (op_facts(module) if facts is None else facts) if start is not _ABSENT]
    if not ends:
        return []
    ops = module.main.ops
    index = {id(op): i for i, op in enumerate(ops)}
    op = ops[-max(ends)[1]]  # the latest end; on a tie the first
    path = []
    while op is not None:
        path.append(f"{index[id(op)]}:{_name(op)}")
        op = _waited_for(op)
    return path[::-1]


def _waited_for(op: Op) -> Op | None:
    """The timed producer (through untimed views) whose end is latest among op's inputs."""
    best, latest = None, 0
    stack = [v.owner for v in op.operands if v.owner is not None]
    seen = set()
    while stack:
        p = stack.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        if START.has(p):
            end = int(END.of(p))
            if best is None or end > latest:
                best, latest = p, end
        else:
            stack.extend(v.owner for v in p.operands if v.owner is not None)
    return best


def energy_sum(parts: list[dict[str, float]], seq: list[int]) -> dict[str, float]:
    """The energy by component of ops whose energies are `parts[k]` for k in `seq`: each
    component summed in `seq` order from 0.0, to the last bit what adding them one op at a
    time gives (a cumulative sum adds in order; an absent component adds 0.0, which changes
    no sum that starts at 0.0), components in first-seen order. `parts` are in the order of
    their first use in `seq`; any value not a float is added one op at a time."""
    keys = list(dict.fromkeys(k for p in parts for k in p))
    if not all(type(j) is float for p in parts for j in p.values()):
        total: dict[str, float] = {}
        for k in seq:
            for key, j in parts[k].items():
                total[key] = total.get(key, 0.0) + j
        return total
    table = np.zeros((len(parts) + 1, len(keys)))  # row 0: the 0.0 every sum starts from
    for row, p in enumerate(parts, 1):
        table[row] = [p.get(key, 0.0) for key in keys]
    rows = np.fromiter(seq, np.int64, len(seq)) + 1
    sums = np.cumsum(table[np.concatenate([np.zeros(1, np.int64), rows])], axis=0)[-1]
    return dict(zip(keys, sums.tolist()))


def replicated(prims: tuple, r: int) -> tuple:
    """`prims` with `r` replicas (a copy re-validates every field: only where they differ)."""
    for p in prims:
        if p.replicas != r:
            return tuple(p if p.replicas == r else dataclasses.replace(p, replicas=r)
                         for p in prims)
    return prims
