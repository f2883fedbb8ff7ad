"""The independent schedule checker: reads only schedule.json, shares no code with the
placement and scheduling passes, and names every broken invariant.

Invariants (docs/mapping.md): every weight tile is placed exactly once per replica; no
crossbar holds more than one tile or more cells than it has; no bank holds more bytes than
it has; no two ops (or transfers) use one resource at once; every dependency is respected,
including the transfer between producer and consumer when there is one.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from ir.dialects import pim
from ir.errors import PimcError

__all__ = ["check_schedule", "load_schedule", "SCHEMA", "VERSION"]

SCHEMA, VERSION = "pimc.schedule", 1
_KEYS = ("target", "batch", "interval", "latency", "ops", "tiles", "shards", "transfers", "units")


def load_schedule(path: str | Path) -> dict:
    """Read and shape-check a schedule.json; a corrupt file is a one-line PimcError."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PimcError("no such file", str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PimcError(f"not valid JSON ({exc})", str(path)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise PimcError(f"not a pimc schedule (schema must be '{SCHEMA}')", str(path))
    if data.get("version") != VERSION:
        raise PimcError(f"schedule version {data.get('version')!r}; accepted: {VERSION}",
                        str(path))
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise PimcError(f"schedule lacks {', '.join(missing)}", str(path))
    return data


def _tiles(s: dict) -> list[str]:
    errors = []
    want = {}
    for op in s["ops"]:
        if op["kind"] == pim.MVM.name:
            want[(op["name"], tuple(op["tile"]))] = op["replicas"]
    seen = Counter((t["op"], tuple(t["tile"]), t["replica"]) for t in s["tiles"])
    for (name, tile, replica), n in sorted(seen.items()):
        if (name, tile) not in want:
            errors.append(f"tile {name}{list(tile)} is placed but no op computes it")
        elif n > 1:
            errors.append(f"tile {name}{list(tile)} replica {replica} is placed {n} times")
    for (name, tile), replicas in sorted(want.items()):
        for r in range(replicas):
            if (name, tile, r) not in seen:
                errors.append(f"tile {name}{list(tile)} replica {r} is not placed")
    return errors


def _capacity(s: dict) -> list[str]:
    t, errors = s["target"], []
    per_xbar = Counter(x["crossbar"] for x in s["tiles"])
    for xbar, n in sorted(per_xbar.items()):
        if not 0 <= xbar < t["crossbars"]:
            errors.append(f"crossbar {xbar} does not exist (target has {t['crossbars']})")
        elif n > 1:
            errors.append(f"crossbar {xbar} is over capacity: {n} tiles")
    for x in s["tiles"]:
        if x["rows"] > t["crossbar_rows"] or x["columns"] > t["crossbar_columns"]:
            errors.append(f"crossbar {x['crossbar']} is over capacity: tile {x['op']}"
                          f"{x['tile']} uses {x['rows']}x{x['columns']} cells of "
                          f"{t['crossbar_rows']}x{t['crossbar_columns']}")
    per_bank: dict[int, int] = defaultdict(int)
    for sh in s["shards"]:
        per_bank[sh["bank"]] += sh["bytes"]
    for bank, used in sorted(per_bank.items()):
        if not 0 <= bank < t["banks"]:
            errors.append(f"bank {bank} does not exist (target has {t['banks']})")
        elif used > t["bank_bytes"]:
            errors.append(f"bank {bank} is over capacity: {used} bytes of {t['bank_bytes']}")
    return errors


def _exclusive(s: dict) -> list[str]:
    errors = []
    for unit, uses in sorted(s["units"].items()):
        spans = sorted((u["start"], u["end"], u["op"]) for u in uses)
        for (a0, a1, a), (b0, b1, b) in zip(spans, spans[1:]):
            if b0 < a1:
                errors.append(f"{unit} runs ops {a} and {b} at once (cycles {a0}-{a1} and "
                              f"{b0}-{b1})")
    return errors


def _dependencies(s: dict) -> list[str]:
    ops = {op["id"]: op for op in s["ops"]}
    via = {(t["src"], t["dst"]): t for t in s["transfers"]}
    errors = []
    for op in s["ops"]:
        if op["end"] < op["start"]:
            errors.append(f"op {op['id']} ({op['name']}) ends before it starts")
        for p in op["inputs"]:
            src = ops.get(p)
            if src is None:
                errors.append(f"op {op['id']} reads op {p}, which is not scheduled")
                continue
            t = via.get((p, op["id"]))
            ready = src["end"] if t is None else t["end"]
            if t is not None and t["start"] < src["end"]:
                errors.append(f"transfer {t['id']} starts at {t['start']} before its producer "
                              f"op {p} ends at {src['end']}")
            if op["start"] < ready:
                what = f"op {p} ends" if t is None else f"transfer {t['id']} from op {p} ends"
                errors.append(f"dependency broken: op {op['id']} ({op['name']}) starts at "
                              f"{op['start']} but {what} at {ready}")
    return errors


def check_schedule(s: dict) -> list[str]:
    """Every broken invariant of schedule `s`, one line each (empty when it is valid)."""
    return _tiles(s) + _capacity(s) + _exclusive(s) + _dependencies(s)
