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
from passes._placement.layout import held

__all__ = ["crossbar_tiles", "schedule_dict", "target_summary"]

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
    """Graph positions of the scheduled ops, and the scheduled producers behind every op's
    values (through views and transfers), as positions."""

    def __init__(self, placed: list[tuple[int, Op, str]]) -> None:
        self.placed = {id(op): i for i, op, _ in placed}
        # id of an op -> the positions behind its values (views fan out: each followed once)
        self.behind: dict[int, list[int]] = {key: [i] for key, i in self.placed.items()}

    def producers(self, v: Value) -> list[int]:
        op = v.owner
        if op is None:
            return []
        got = self.behind.get(id(op))
        if got is None:
            got = self.behind[id(op)] = [p for x in op.operands for p in self.producers(x)]
        return got


def _placed(ops: list[Op]) -> tuple[list[tuple[int, Op, str]], dict[int, int]]:
    """(position, op, unit) of every op on a unit but the transfers, and the transfers'
    positions by id, in one pass over the graph."""
    placed, position = [], {}
    key, transfer = UNIT.name, pim.Transfer
    for i, op in enumerate(ops):
        if isinstance(op, transfer):
            position[id(op)] = i
        elif (unit := op.attrs.get(key)) in _UNITS:
            placed.append((i, op, unit))
    return placed, position


def _op_entries(placed: list[tuple[int, Op, str]], ids: _Ids, units: defaultdict
                ) -> tuple[list[dict], list[tuple[int, Op]]]:
    """Every scheduled op's entry (its uses added to `units`), and the (op position,
    transfer) of each transfer feeding one directly, in graph and then operand order (the
    facts read inline: one loop)."""
    out, feeds = [], []
    behind, producers = ids.behind, ids.producers
    start_k, end_k, io_k = START.name, END.name, IO_END.name
    mvm, named, transfer = pim.MVM, (pim.MVM, pim.Gather), pim.Transfer
    for i, op, unit in placed:
        attrs, inputs = op.attrs, set()
        for v in op.operands:
            owner = v.owner
            if owner is not None:
                got = behind.get(id(owner))
                if got is None:  # a constant (no operands) has none: nothing to follow
                    got = producers(v) if owner.operands else ()
                inputs.update(got)
                if isinstance(owner, transfer):
                    feeds.append((i, owner))
        loc = _locs(op)
        begin = start = int(attrs.get(start_k, 0))
        entry = {"id": i, "name": attrs.get("op", op.name) if isinstance(op, named) else op.name,
                 "kind": op.name, "unit": unit, "loc": loc, "start": start,
                 "end": int(attrs.get(end_k, 0)), "inputs": sorted(inputs)}
        if isinstance(op, mvm):
            entry["tile"] = list(attrs["tile"])
            entry["replicas"] = int(attrs.get(REPLICAS.name, 1))
            if op.crossbars > 1:
                entry["crossbars"] = op.crossbars
        if io_k in attrs:
            begin = entry["io_end"] = int(attrs[io_k])
        out.append(entry)
        _hold(units, entry, begin)
    return out, feeds


def _hold(units: defaultdict, entry: dict, begin: int) -> None:
    """An op's uses: the off-chip I/O (`io:0`) from its start until `begin`, if later, then
    its unit's resources until its end."""
    i, start, end = entry["id"], entry["start"], entry["end"]
    if begin > start:
        units["io:0"].append({"op": i, "start": start, "end": begin})
    kind = _KIND[entry["unit"]]
    for loc in held(entry["unit"], entry["loc"]):
        units[f"{kind}:{loc}"].append({"op": i, "start": begin, "end": end})


def crossbar_tiles(op: pim.MVM, loc: list[int]) -> list[tuple[list[int], int, int]]:
    """(tile, replica, crossbar) of every crossbar of a placed `pim.mvm`: a tile over k
    crossbars is column tiles tile[1] .. tile[1] + k - 1, and `loc` lists them replica by
    replica."""
    (i, j), k = op.attrs["tile"], op.crossbars
    return [([i, j + n % k], n // k, xbar) for n, xbar in enumerate(loc)]


def _tiles(placed: list[tuple[int, Op, str]], ops: list[dict],
           columns: Callable[[int, int], int] | None) -> list[dict]:
    """Every replica of every weight tile's crossbars: its crossbar, rows and columns."""
    out = []
    extend, mvm = out.extend, pim.MVM
    for (_, op, _), entry in zip(placed, ops):
        if not isinstance(op, mvm):
            continue
        attrs = op.attrs
        (r0, r1), (c0, c1) = attrs["rows"], attrs["cols"]
        name, rows, first = attrs["op"], r1 - r0, attrs["tile"][1]
        per = attrs["crossbar_cols"] or c1 - c0  # weight columns a crossbar, the last the rest
        k, i = op.crossbars, attrs["tile"][0]
        widths = [columns(min(per, c1 - c0 - x * per), attrs["w_bits"]) for x in range(k)]
        # as `crossbar_tiles` lists them, without its tuples (about 16k crossbars a candidate)
        extend([{"op": name, "tile": [i, first + n % k], "replica": n // k, "crossbar": xbar,
                 "rows": rows, "columns": widths[n % k]} for n, xbar in enumerate(entry["loc"])])
    return out


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


def _links(t: Op) -> list[dict]:
    return [{"link": k, "bytes": b, "cycles": c} for k, b, c in zip(
        LINKS.of(t, ()), map(int, LINK_BYTES.of(t, ())), map(int, LINK_CYCLES.of(t, ())))]


def _transfers(feeds: list[tuple[int, Op]], ids: _Ids, position: dict[int, int],
               units: defaultdict) -> list[dict]:
    """Every (transfer, producer) pair feeding a scheduled op directly, in graph order
    (`feeds`: the (op position, transfer) pairs of ``_op_entries``); the first of each
    transfer adds its uses to `units`: every link of its route, from its start."""
    out = []
    known: dict[int, tuple] = {}  # a transfer feeding several ops: its fields read once
    handed: set[int] = set()  # transfers whose links an entry holds (the next ones copy them)
    start_k, end_k = START.name, END.name
    for i, t in feeds:
        fields = known.get(id(t))
        if fields is None:
            attrs = t.attrs
            fields = known[id(t)] = (position[id(t)], attrs["bytes"], attrs["hops"],
                                     int(attrs.get(start_k, 0)), int(attrs.get(end_k, 0)),
                                     _links(t), ids.producers(t.operands[0]))
        tid, size, hops, start, end, links, srcs = fields
        for p in srcs:
            if id(t) in handed:
                route = list(map(dict.copy, links))
            else:
                handed.add(id(t))
                route = links
                for link in links:
                    units[link["link"]].append({"op": tid, "start": start,
                                                "end": start + link["cycles"]})
            out.append({"id": tid, "src": p, "dst": i, "bytes": size, "hops": hops,
                        "start": start, "end": end, "links": route})  # each its own
    return out


def schedule_dict(module: Module, target: Any, objective: str, tiles: bool = True) -> dict:
    """The schedule of `module` (placed and scheduled for `target`) as a JSON-ready dict;
    without `tiles`, no ``tiles`` list (every crossbar of every replica: thousands of entries
    that only the checker and the folder's cross-check read), for a caller that only
    simulates it."""
    with gc_paused():  # a tree of small dicts with no cycles; a collection would walk the module
        return _schedule_dict(module, target, objective, tiles)


def _schedule_dict(module: Module, target: Any, objective: str, tiles: bool) -> dict:
    placed, position = _placed(module.main.ops)
    ids = _Ids(placed)
    # resource -> what holds it when (ids are graph positions, shared): ops on their units
    # (after the off-chip read, which holds `io:0`), transfers on every link of their routes
    units: defaultdict[str, list[dict]] = defaultdict(list)
    ops, feeds = _op_entries(placed, ids, units)
    transfers = _transfers(feeds, ids, position, units)
    columns = _columns(target) if tiles and any(isinstance(op, pim.MVM) for _, op, _ in placed) \
        else None
    return {
        "schema": SCHEMA, "version": VERSION, "target": target_summary(target),
        "batch": int(BATCH.of(module, 0)), "objective": objective,
        "pipelined": bool(PIPELINED.of(module, False)),
        "interval": int(INTERVAL.of(module, 0)), "latency": int(LATENCY.of(module, 0)),
        "ops": ops,
        **({"tiles": _tiles(placed, ops, columns)} if tiles else {}),
        "shards": [_shard_entry(op) for _, op, _ in placed if isinstance(op, pim.Gather)],
        "transfers": transfers,
        "units": {name: units[name] for name in sorted(units)},
    }
