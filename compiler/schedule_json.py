"""schedule.json (docs/mapping.md, version 2) from a placed, scheduled module."""

from __future__ import annotations

from typing import Any

from compiler.checker import SCHEMA, VERSION
from ir.core import Graph, Module, Op, Value
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
    return [int(x) for x in (loc if isinstance(loc, tuple) else (loc,))]


class _Ids:
    """Op ids and the scheduled producers behind every value (through views and transfers)."""

    def __init__(self, graph: Graph) -> None:
        self.id = {id(op): i for i, op in enumerate(graph.ops)}
        self._behind: dict[int, list[Op]] = {}  # id of a view's or transfer's value -> producers

    def producers(self, v: Value) -> list[Op]:
        op = v.owner
        if op is None:
            return []
        if isinstance(op, pim.Transfer) or UNIT.of(op, None) not in _UNITS:
            got = self._behind.get(id(v))
            if got is None:  # views fan out, so each is followed back once
                got = self._behind[id(v)] = [p for x in op.operands for p in self.producers(x)]
            return got
        return [op]

    def transfers_into(self, op: Op) -> list[tuple[Op, Op]]:
        """(transfer, producer) pairs feeding `op` directly."""
        out = []
        for v in op.operands:
            t = v.owner
            if isinstance(t, pim.Transfer):
                out += [(t, p) for p in self.producers(t.operands[0])]
        return out


def _name(op: Op) -> str:
    return op.attrs.get("op", op.name) if isinstance(op, (pim.MVM, pim.Gather)) else op.name


def _op_entry(op: Op, ids: _Ids) -> dict:
    entry = {"id": ids.id[id(op)], "name": _name(op), "kind": op.name,
             "unit": UNIT.of(op), "loc": _locs(op),
             "start": int(START.of(op, 0)), "end": int(END.of(op, 0)),
             "inputs": sorted({ids.id[id(p)] for v in op.operands for p in ids.producers(v)})}
    if isinstance(op, pim.MVM):
        entry.update(tile=list(op.attrs["tile"]), replicas=int(REPLICAS.of(op, 1)))
    if IO_END.has(op):
        entry["io_end"] = int(IO_END.of(op))
    return entry


def _tile_entries(op: pim.MVM, target: Any) -> list[dict]:
    from targets._geometry import columns_per_weight

    array = target.chip.tile.pe.array
    (r0, r1), (c0, c1) = op.attrs["rows"], op.attrs["cols"]
    extra = 1 if array.signed_weights == "offset_column" else 0
    columns = (c1 - c0) * columns_per_weight(array, op.attrs["w_bits"]) + extra
    return [{"op": op.attrs["op"], "tile": list(op.attrs["tile"]), "replica": r,
             "crossbar": xbar, "rows": r1 - r0, "columns": columns}
            for r, xbar in enumerate(_locs(op))]


def _shard_entry(op: pim.Gather) -> dict:
    """A shard's bytes as tile and place size it (`table_bytes`: at the table's assigned
    weight precision), so the checker's bank capacities agree with the placement's."""
    loc = _locs(op)
    return {"op": op.attrs["op"], "shard": op.attrs["shard"], "bank": loc[0] if loc else -1,
            "rows": op.operands[0].type.shape[0], "bytes": table_bytes(op)}


def _units(ops: list[dict], transfers: list[dict]) -> dict[str, list[dict]]:
    """Resource -> what holds it when: ops on their units (after the off-chip read, which holds
    `io:0`), transfers on every link of their routes (ids are graph positions, shared)."""
    units: dict[str, list[dict]] = {}
    kind = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}
    for op in ops:
        begin = op.get("io_end", op["start"])
        if begin > op["start"]:
            units.setdefault("io:0", []).append(
                {"op": op["id"], "start": op["start"], "end": begin})
        for loc in op["loc"]:
            units.setdefault(f"{kind[op['unit']]}:{loc}", []).append(
                {"op": op["id"], "start": begin, "end": op["end"]})
    seen: set[int] = set()
    for t in transfers:
        if t["id"] in seen:
            continue
        seen.add(t["id"])
        for link in t["links"]:
            units.setdefault(link["link"], []).append(
                {"op": t["id"], "start": t["start"], "end": t["start"] + link["cycles"]})
    return dict(sorted(units.items()))


def _links(t: Op) -> list[dict]:
    return [{"link": k, "bytes": int(b), "cycles": int(c)}
            for k, b, c in zip(LINKS.of(t, ()), LINK_BYTES.of(t, ()), LINK_CYCLES.of(t, ()))]


def _transfers(graph: Graph, ids: _Ids, scheduled: set[int]) -> list[dict]:
    out = []
    links: dict[int, list[dict]] = {}  # a transfer feeding several ops: its links built once
    for op in graph.ops:
        if id(op) not in scheduled:
            continue
        for t, p in ids.transfers_into(op):
            known = links.get(id(t))
            if known is None:
                known = links[id(t)] = _links(t)
            out.append({"id": ids.id[id(t)], "src": ids.id[id(p)], "dst": ids.id[id(op)],
                        "bytes": t.attrs["bytes"], "hops": t.attrs["hops"],
                        "start": int(START.of(t, 0)), "end": int(END.of(t, 0)),
                        "links": [dict(x) for x in known]})  # each entry its own copy
    return out


def schedule_dict(module: Module, target: Any, objective: str) -> dict:
    """The schedule of `module` (placed and scheduled for `target`) as a JSON-ready dict."""
    with gc_paused():  # a tree of small dicts with no cycles; a collection would walk the module
        return _schedule_dict(module, target, objective)


def _schedule_dict(module: Module, target: Any, objective: str) -> dict:
    graph = module.main
    ids = _Ids(graph)
    placed = [op for op in graph.ops if UNIT.of(op, None) in _UNITS
              and not isinstance(op, pim.Transfer)]
    ops = [_op_entry(op, ids) for op in placed]
    transfers = _transfers(graph, ids, {id(op) for op in placed})
    return {
        "schema": SCHEMA, "version": VERSION, "target": target_summary(target),
        "batch": int(BATCH.of(module, 0)), "objective": objective,
        "pipelined": bool(PIPELINED.of(module, False)),
        "interval": int(INTERVAL.of(module, 0)), "latency": int(LATENCY.of(module, 0)),
        "ops": ops,
        "tiles": [t for op in placed if isinstance(op, pim.MVM) for t in _tile_entries(op, target)],
        "shards": [_shard_entry(op) for op in placed if isinstance(op, pim.Gather)],
        "transfers": transfers,
        "units": _units(ops, transfers),
    }
