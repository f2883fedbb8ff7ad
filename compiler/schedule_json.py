"""schedule.json (docs/mapping.md, version 2) from a placed, scheduled module."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from compiler.checker import SCHEMA, VERSION
from ir.core import Module, Op, Value
from ir.dialects import pim
from ir.dialects.pim_attrs import (
    BATCH,
    END,
    INTERVAL,
    IO_END,
    LATENCY,
    LINK_BYTES,
    LINK_CYCLES,
    LINKS,
    LOC,
    PIPELINED,
    REPLICAS,
    START,
    UNIT,
)
from passes._costing.op_primitives import table_bytes
from passes._gc_pause import gc_paused

__all__ = ["schedule_dict", "target_summary"]

_UNITS = ("crossbar", "digital", "bank")


def target_summary(target: Any) -> dict:
    """The target facts the checker needs, from a targets.Target."""
    out = {"name": target.name, "clock_hz": float(target.clock), "crossbars": 0,
           "crossbar_rows": 0, "crossbar_columns": 0, "banks": 0, "bank_bytes": 0,
           "chip_tiles": 0}
    chip = target.chip
    if chip is not None:
        array = chip.tile.pe.array
        extra = 1 if array.signed_weights == "offset_column" else 0
        out.update(crossbars=chip.tiles * chip.tile.pes * chip.tile.pe.arrays,
                   crossbar_rows=array.rows, crossbar_columns=array.columns + extra,
                   chip_tiles=chip.tiles)
    if target.dram is not None:
        out.update(banks=target.dram.banks, bank_bytes=int(target.dram.bank_size // 8))
    out["weights"] = target.weights
    net = chip.network if chip is not None else None
    if net is not None:
        out["link_bytes_per_cycle"] = float(net.link_bandwidth / 8 / target.clock)
    return out


def _locs(op: Op) -> list[int]:
    loc = LOC.of(op, ())
    return list(map(int, loc if isinstance(loc, tuple) else (loc,)))


class _Ids:
    """Graph positions of the scheduled ops, and the scheduled producers behind every value
    (through views and transfers), as positions."""

    def __init__(self, placed: list[tuple[int, Op, str]]) -> None:
        self.placed = {id(op): i for i, op, _ in placed}
        self._behind: dict[int, list[int]] = {}  # id of a view's or transfer's value -> them

    def producers(self, v: Value) -> list[int]:
        op = v.owner
        if op is None:
            return []
        i = self.placed.get(id(op))
        if i is not None:
            return [i]
        got = self._behind.get(id(v))
        if got is None:  # views fan out, so each is followed back once
            got = self._behind[id(v)] = [p for x in op.operands for p in self.producers(x)]
        return got


def _name(op: Op) -> str:
    return op.attrs.get("op", op.name) if isinstance(op, (pim.MVM, pim.Gather)) else op.name


def _op_entry(i: int, op: Op, unit: str, ids: _Ids) -> dict:
    inputs: set[int] = set()
    for v in op.operands:
        inputs.update(ids.producers(v))
    entry = {"id": i, "name": _name(op), "kind": op.name, "unit": unit, "loc": _locs(op),
             "start": int(START.of(op, 0)), "end": int(END.of(op, 0)), "inputs": sorted(inputs)}
    if isinstance(op, pim.MVM):
        entry.update(tile=list(op.attrs["tile"]), replicas=int(REPLICAS.of(op, 1)))
    if IO_END.has(op):
        entry["io_end"] = int(IO_END.of(op))
    return entry


def _tile_entries(op: pim.MVM, loc: list[int], columns: Callable[[int, int], int]) -> list[dict]:
    (r0, r1), (c0, c1) = op.attrs["rows"], op.attrs["cols"]
    name, tile, width = op.attrs["op"], op.attrs["tile"], columns(c1 - c0, op.attrs["w_bits"])
    return [{"op": name, "tile": list(tile), "replica": r, "crossbar": xbar, "rows": r1 - r0,
             "columns": width} for r, xbar in enumerate(loc)]


def _columns(target: Any) -> Callable[[int, int], int]:
    """Columns a tile of so many weight columns at so many bits takes (an offset column
    included)."""
    from targets._geometry import columns_per_weight

    array = target.chip.tile.pe.array
    extra = 1 if array.signed_weights == "offset_column" else 0
    per_weight: dict[int, int] = {}  # weight bits -> columns a weight takes

    def columns(cols: int, bits: int) -> int:
        width = per_weight.get(bits)
        if width is None:
            width = per_weight[bits] = columns_per_weight(array, bits)
        return cols * width + extra
    return columns


def _shard_entry(op: pim.Gather) -> dict:
    """A shard's bytes as tile and place size it (`table_bytes`: at the table's assigned
    weight precision), so the checker's bank capacities agree with the placement's."""
    loc = _locs(op)
    return {"op": op.attrs["op"], "shard": op.attrs["shard"], "bank": loc[0] if loc else -1,
            "rows": op.operands[0].type.shape[0], "bytes": table_bytes(op)}


_KIND = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}


def _units(ops: list[dict], transfers: list[dict]) -> dict[str, list[dict]]:
    """Resource -> what holds it when: ops on their units (after the off-chip read, which holds
    `io:0`), transfers on every link of their routes (ids are graph positions, shared)."""
    units: defaultdict[str, list[dict]] = defaultdict(list)
    for op in ops:
        i, start, end = op["id"], op["start"], op["end"]
        begin = op.get("io_end", start)
        if begin > start:
            units["io:0"].append({"op": i, "start": start, "end": begin})
        kind = _KIND[op["unit"]]
        for loc in op["loc"]:
            units[f"{kind}:{loc}"].append({"op": i, "start": begin, "end": end})
    seen: set[int] = set()
    for t in transfers:
        if t["id"] in seen:
            continue
        seen.add(t["id"])
        i, start = t["id"], t["start"]
        for link in t["links"]:
            units[link["link"]].append({"op": i, "start": start, "end": start + link["cycles"]})
    return {name: units[name] for name in sorted(units)}


def _links(t: Op) -> list[dict]:
    return [{"link": k, "bytes": b, "cycles": c} for k, b, c in zip(
        LINKS.of(t, ()), map(int, LINK_BYTES.of(t, ())), map(int, LINK_CYCLES.of(t, ())))]


def _transfers(placed: list[tuple[int, Op, str]], ids: _Ids, position: dict[int, int]
               ) -> list[dict]:
    """Every (transfer, producer) pair feeding a scheduled op directly, in graph order."""
    out = []
    known: dict[int, tuple] = {}  # a transfer feeding several ops: its fields read once
    handed: set[int] = set()  # transfers whose links an entry holds (the next ones copy them)
    for i, op, _ in placed:
        for v in op.operands:
            t = v.owner
            if not isinstance(t, pim.Transfer):
                continue
            fields = known.get(id(t))
            if fields is None:
                fields = known[id(t)] = (position[id(t)], t.attrs["bytes"], t.attrs["hops"],
                                         int(START.of(t, 0)), int(END.of(t, 0)), _links(t))
            tid, size, hops, start, end, links = fields
            for p in ids.producers(t.operands[0]):
                route = list(map(dict.copy, links)) if id(t) in handed else links
                handed.add(id(t))
                out.append({"id": tid, "src": p, "dst": i, "bytes": size, "hops": hops,
                            "start": start, "end": end, "links": route})  # each its own
    return out


def schedule_dict(module: Module, target: Any, objective: str) -> dict:
    """The schedule of `module` (placed and scheduled for `target`) as a JSON-ready dict."""
    with gc_paused():  # a tree of small dicts with no cycles; a collection would walk the module
        return _schedule_dict(module, target, objective)


def _schedule_dict(module: Module, target: Any, objective: str) -> dict:
    graph = module.main
    placed = [(i, op, unit) for i, op in enumerate(graph.ops)
              if (unit := UNIT.of(op, None)) in _UNITS and not isinstance(op, pim.Transfer)]
    ids = _Ids(placed)
    ops = [_op_entry(i, op, unit, ids) for i, op, unit in placed]
    position = {id(op): i for i, op in enumerate(graph.ops) if isinstance(op, pim.Transfer)}
    transfers = _transfers(placed, ids, position)
    columns = _columns(target) if any(isinstance(op, pim.MVM) for _, op, _ in placed) else None
    return {
        "schema": SCHEMA, "version": VERSION, "target": target_summary(target),
        "batch": int(BATCH.of(module, 0)), "objective": objective,
        "pipelined": bool(PIPELINED.of(module, False)),
        "interval": int(INTERVAL.of(module, 0)), "latency": int(LATENCY.of(module, 0)),
        "ops": ops,
        "tiles": [t for (_, op, _), entry in zip(placed, ops) if isinstance(op, pim.MVM)
                  for t in _tile_entries(op, entry["loc"], columns)],
        "shards": [_shard_entry(op) for _, op, _ in placed if isinstance(op, pim.Gather)],
        "transfers": transfers,
        "units": _units(ops, transfers),
    }
