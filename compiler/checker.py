"""The independent schedule checker: reads only schedule.json, shares no code with the
placement and scheduling passes, and names every broken invariant.

Invariants (docs/mapping.md): the file has every key with its type (checked first); every
weight tile is placed exactly once per replica; no crossbar holds more cells than it has, and
with resident weights no more than one tile; no bank holds more bytes than it has; every use
of a resource lasts at least a cycle; no two ops (or transfers) use one resource at once, in
one batch or across batches: batch k repeats batch 0 k x interval later, so every entry of
"units" must fit a modulo reservation table of the interval; every transfer holds each link
at least its bytes over the link bandwidth (when the target block gives it); with streamed
weights (several tiles take turns in one crossbar) no tile is loaded or used between another
tile's load and its use; every dependency is respected, including the transfer between
producer and consumer when there is one.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

from compiler._schedule_shape import shape_problem
from ir.dialects import pim
from ir.errors import PimcError
from passes._gc_pause import gc_paused

__all__ = ["check_schedule", "load_schedule", "SCHEMA", "VERSION", "VERSIONS"]

SCHEMA, VERSION = "pimc.schedule", 2
VERSIONS = (1, 2)  # version 1 has no link or I/O entries; both are checked alike


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
    if data.get("version") not in VERSIONS:
        raise PimcError(f"schedule version {data.get('version')!r}; accepted: "
                        f"{', '.join(map(str, VERSIONS))}", str(path))
    problem = shape_problem(data)
    if problem:
        raise PimcError(problem, str(path))
    return data


def _tiles(s: dict) -> list[str]:
    errors = []
    want = {}
    for op in s["ops"]:  # a tile over k crossbars: column tiles tile[1] .. tile[1] + k - 1
        if op["kind"] == pim.MVM.name:
            i, j = op["tile"]
            for x in range(op.get("crossbars", 1)):
                want[(op["name"], (i, j + x))] = op["replicas"]
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


def _streamed(s: dict) -> bool:
    """Weights loaded per layer: the target says so, or (version 1) the program loads them."""
    return s["target"].get("weights") == "streamed" or any(
        op["kind"] == pim.Load.name for op in s["ops"])


def _capacity(s: dict) -> list[str]:
    t, errors = s["target"], []
    per_xbar = Counter(x["crossbar"] for x in s["tiles"])
    many = not _streamed(s)  # streamed tiles take turns; _residency checks them instead
    for xbar, n in sorted(per_xbar.items()):
        if not 0 <= xbar < t["crossbars"]:
            errors.append(f"crossbar {xbar} does not exist (target has {t['crossbars']})")
        elif n > 1 and many:
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


def _overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[tuple, tuple]]:
    """Pairs of (start, end, what) spans that share a cycle, each later span reported once."""
    out, last = [], None
    for span in sorted(spans):
        if last is not None and span[0] < last[1]:
            out.append((last, span))
        if last is None or span[1] > last[1]:
            last = span
    return out


def _modulo(spans: list[tuple[int, int, str]], ii: int) -> list[tuple[tuple, tuple]]:
    """Pairs that share a cycle once every span repeats each `ii` cycles (batch k's copy of
    [s, e) is [s + k ii, e + k ii)): overlaps of the spans folded onto [0, ii)."""
    folded = []
    for span in spans:
        a, b = span[0] % ii, span[0] % ii + span[1] - span[0]
        folded.append((a, min(b, ii), span))
        if b > ii:
            folded.append((0, b - ii, span))
    return [(x[2], y[2]) for x, y in _overlaps(folded) if x[2] is not y[2]]


def _exclusive(s: dict) -> list[str]:
    """No resource used by two ops at once, in batch 0 or across batches at the interval."""
    found, ii = [], s["interval"]
    longest = ii if ii > 0 else math.inf
    for unit, uses in s["units"].items():
        if len(uses) == 1 and 0 < uses[0]["end"] - uses[0]["start"] <= longest:
            continue  # one use that fits: nothing to share (most crossbars hold one tile)
        errors = _unit_spans(unit, [(u["start"], u["end"], f"op {u['op']}") for u in uses], ii)
        if errors:
            found.append((unit, errors))
    return [e for _, errors in sorted(found) for e in errors]  # by unit, as they are named


def _unit_spans(unit: str, spans: list[tuple[int, int, str]], ii: int) -> list[str]:
    errors = []
    for a0, a1, a in spans:
        if a1 <= a0:
            errors.append(f"{unit} holds {a} for {a1 - a0} cycles (cycles {a0}-{a1}); every "
                          "use lasts at least one cycle")
        elif ii > 0 and a1 - a0 > ii:
            errors.append(f"{unit} is held by {a} for {a1 - a0} cycles, longer than the "
                          f"interval {ii}: the next batch would use it at once")
    same = _overlaps(spans)
    for (a0, a1, a), (b0, b1, b) in same:
        errors.append(f"{unit} runs {a} and {b} at once (cycles {a0}-{a1} and {b0}-{b1})")
    if ii <= 0:
        return errors
    seen = {(x, y) for x, y in same}
    for x, y in _modulo([sp for sp in spans if sp[1] > sp[0]], ii):
        if (x, y) not in seen and (y, x) not in seen:
            errors.append(f"{unit} is used by two batches at once at interval {ii}: {x[2]} "
                          f"(cycles {x[0]}-{x[1]}) and {y[2]} (cycles {y[0]}-{y[1]}) of "
                          "another batch")
    return errors


def _times(s: dict) -> list[str]:
    errors = []
    if s["interval"] < 1:
        errors.append(f"interval is {s['interval']} cycles; a batch takes at least one")
    ends = [op["end"] for op in s["ops"]] + [t["end"] for t in s["transfers"]]
    starts = [op["start"] for op in s["ops"]] + [t["start"] for t in s["transfers"]]
    span = max(ends, default=0) - min(starts, default=0)
    if ends and s["latency"] != span:
        errors.append(f"latency is {s['latency']} cycles but the ops run from cycle "
                      f"{min(starts)} to {max(ends)} ({span} cycles)")
    return errors


def _bandwidth(s: dict) -> list[str]:
    """Every transfer holds each link of its route at least its bytes over the link bandwidth
    (a transfer between chip tiles of one router crosses no link, and holds none)."""
    rate = s["target"].get("link_bytes_per_cycle")
    if not rate:
        return []
    held = {(name, u["op"]): (u["start"], u["end"]) for name, uses in s["units"].items()
            if name.startswith("link:") for u in uses}
    errors, seen = [], set()
    for t in s["transfers"]:
        if t["id"] in seen:
            continue
        seen.add(t["id"])
        for link in t.get("links", ()):
            name, use = link["link"], held.get((link["link"], t["id"]))
            if use is None or use[0] != t["start"]:
                errors.append(f"{name} is on transfer {t['id']}'s route but units holds it "
                              f"{'never' if use is None else f'from cycle {use[0]}'} for it "
                              f"(the transfer starts at {t['start']})")
                continue
            cycles = min(link["cycles"], use[1] - use[0])
            if cycles * rate < link["bytes"] * (1 - 1e-9):
                errors.append(f"{name} is held by transfer {t['id']} for {cycles} cycles but "
                              f"its {link['bytes']} bytes need "
                              f"{math.ceil(link['bytes'] / rate)} at {rate:g} bytes/cycle")
    return errors


def _clash(a: tuple, b: tuple, ii: int) -> int | None:
    """The batch distance k at which span `b`, shifted by k x ii, shares a cycle with `a`."""
    if ii <= 0:
        return 0 if b[0] < a[1] and a[0] < b[1] else None
    k = (a[0] - b[1]) // ii + 1  # the least k with a[0] < b[1] + k ii
    return k if b[0] + k * ii < a[1] else None


def _held_tiles(s: dict) -> tuple[dict[str, list[tuple]], list[str]]:
    """crossbar unit -> (load start, use end, load id, use op) of every streamed tile on it."""
    ops = {op["id"]: op for op in s["ops"]}
    held: dict[str, list[tuple]] = defaultdict(list)
    errors = []
    for op in s["ops"]:
        loads = [ops[p] for p in op["inputs"] if p in ops and ops[p]["kind"] == pim.Load.name]
        for load in loads if op["kind"] == pim.MVM.name else ():
            for x in op["loc"]:
                if x not in load["loc"]:
                    errors.append(f"crossbar:{x} runs op {op['id']} on a tile that op "
                                  f"{load['id']} loaded into crossbar {load['loc']}")
                    continue
                # from when the load takes the crossbar: after its off-chip part, if any
                took = load.get("io_end", load["start"])
                held[f"crossbar:{x}"].append((took, op["end"], load["id"], op))
    return held, errors


def _residency(s: dict) -> list[str]:
    """Streamed weights: from a tile's load to the end of its use, its crossbar holds it, so
    nothing else may load or use that crossbar (in any batch)."""
    if not _streamed(s):
        return []
    held, errors = _held_tiles(s)
    for unit, tiles in sorted(held.items()):
        others = [(u["start"], u["end"], u["op"]) for u in s["units"].get(unit, ())]
        for a0, a1, p, op in tiles:
            clashes = ((b, _clash((a0, a1), (b0, b1), s["interval"]), b0, b1)
                       for b0, b1, b in others if b not in (p, op["id"]))
            b, k, b0, b1 = next((c for c in clashes if c[1] is not None), (0, None, 0, 0))
            if k is not None:
                errors.append(f"{unit} loses tile {op['name']}{op['tile']} (loaded by op {p} "
                              f"at cycle {a0}, used by op {op['id']} until {a1}): op {b} uses "
                              f"it at cycles {b0}-{b1}{f' of batch +{k}' if k else ''}; load "
                              "each streamed tile after the previous one is used")
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
    """Every broken invariant of schedule `s`, one line each (empty when it is valid); a
    missing key or a wrong type is the only line when there is one."""
    with gc_paused():  # its tuples and lists are temporaries; see passes/_gc_pause.py
        problem = shape_problem(s)
        if problem:
            return [problem]
        return (_tiles(s) + _capacity(s) + _exclusive(s) + _bandwidth(s) + _residency(s)
                + _times(s) + _dependencies(s))
