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
"""

from __future__ import annotations

from ir.core import Module, Op
from ir.dialects import pim
from ir.dialects.pim_attrs import END, IO_END, LINK_CYCLES, LINKS, LOC, START, UNIT
from targets.rollup import components, rollup

__all__ = ["binding", "critical_path", "used_area"]

_PER = ("pe.", "tile.", "chip.router")


def _used_places(module: Module, target) -> tuple[set[int], set[int]]:
    """(PEs holding a weight tile, chip tiles holding a tile or running a digital op)."""
    chip = target.chip
    per_pe = chip.tile.pe.arrays
    per_tile = chip.tile.pes * per_pe
    pes, tiles = set(), set()
    for op in module.main.ops:
        unit, loc = UNIT.of(op, None), LOC.of(op, ())
        if unit == "crossbar" and isinstance(op, pim.MVM):
            pes.update(x // per_pe for x in loc)
            tiles.update(x // per_tile for x in loc)
        elif unit == "digital" and loc:
            tiles.add(loc[0])
    return pes, tiles


def used_area(module: Module, target) -> dict:
    """{chip_mm2, used_mm2, by_component} (see the module docstring)."""
    roll = rollup(target)
    chip = target.chip
    if chip is None:
        return {"chip_mm2": roll.area, "used_mm2": roll.area, "by_component": roll.area_breakdown}
    pes, tiles = _used_places(module, target)
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


def _holds(op: Op) -> list[tuple[str, int]]:
    """(resource, cycles) an op or transfer holds per batch."""
    start, end = int(START.of(op)), int(END.of(op))
    if isinstance(op, pim.Transfer):
        return list(zip(LINKS.of(op, ()), LINK_CYCLES.of(op, ())))
    kind = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}.get(UNIT.of(op, None))
    io_end = int(IO_END.of(op, start))
    held = [("io:0", io_end - start)] if io_end > start else []
    return held + ([(f"{kind}:{x}", end - io_end) for x in LOC.of(op, ())] if kind else [])


def _name(op: Op) -> str:
    return str(op.attrs.get("op", op.name)) if isinstance(op, (pim.MVM, pim.Gather)) else op.name


def binding(module: Module) -> dict:
    """The busiest resource per batch and the op that holds it longest."""
    busy: dict[str, int] = {}
    longest: dict[str, tuple[int, str]] = {}
    for i, op in enumerate(module.main.ops):
        if not START.has(op):
            continue
        for r, d in _holds(op):
            busy[r] = busy.get(r, 0) + d
            if d > longest.get(r, (-1, ""))[0]:
                longest[r] = (d, f"{i}:{_name(op)}")
    if not busy:
        return {}
    resource = max(sorted(busy), key=lambda r: busy[r])
    return {"resource": resource, "busy_cycles": busy[resource], "op": longest[resource][1]}


def critical_path(module: Module) -> list[str]:
    """The ops (and transfers) on the path that ends last, first to last."""
    ops = [op for op in module.main.ops if START.has(op)]
    if not ops:
        return []
    index = {id(op): i for i, op in enumerate(module.main.ops)}
    op = max(ops, key=lambda o: (int(END.of(o)), -index[id(o)]))
    path = []
    while op is not None:
        path.append(f"{index[id(op)]}:{_name(op)}")
        op = _waited_for(op)
    return path[::-1]


def _waited_for(op: Op) -> Op | None:
    """The timed producer (through untimed views) whose end is latest among op's inputs."""
    best = None
    stack = [v.owner for v in op.operands if v.owner is not None]
    seen = set()
    while stack:
        p = stack.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        if START.has(p):
            if best is None or int(END.of(p)) > int(END.of(best)):
                best = p
        else:
            stack.extend(v.owner for v in p.operands if v.owner is not None)
    return best
