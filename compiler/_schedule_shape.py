"""The shape of schedule.json (docs/mapping.md): every key the checker and the simulator read,
with its type, so a missing key or a wrong type is one line naming it before any rule runs.

A schedule holds tens of thousands of small objects (one per op, transfer, link and unit
use), so a list is first tried whole, one pass per key (`_all_shaped`); only a list that
fails that is walked item by item, for the line that names the first bad one."""

from __future__ import annotations

from itertools import chain
from operator import itemgetter

from ir.dialects import pim

__all__ = ["shape_problem"]

_NUM = (int, float)
_TOP = {"target": dict, "batch": int, "interval": int, "latency": int, "ops": list,
        "tiles": list, "shards": list, "transfers": list, "units": dict}
_TOP_OPTIONAL = {"pipelined": bool, "objective": str}
_TARGET = {"name": str, "clock_hz": _NUM, "crossbars": int, "crossbar_rows": int,
           "crossbar_columns": int, "banks": int, "bank_bytes": int, "chip_tiles": int}
_TARGET_OPTIONAL = {"weights": str, "link_bytes_per_cycle": _NUM}
_OP = {"id": int, "name": str, "kind": str, "unit": str, "loc": list, "start": int, "end": int,
       "inputs": list}
_OP_OPTIONAL = {"tile": list, "replicas": int, "crossbars": int, "io_end": int}
_MVM = {"tile": list, "replicas": int}
_TILE = {"op": str, "tile": list, "replica": int, "crossbar": int, "rows": int, "columns": int}
_SHARD = {"op": str, "shard": int, "bank": int, "rows": int, "bytes": int}
_TRANSFER = {"id": int, "src": int, "dst": int, "bytes": int, "hops": int, "start": int,
             "end": int}
_LINK = {"link": str, "bytes": int, "cycles": int}
_USE = {"op": int, "start": int, "end": int}


def _type_name(t) -> str:
    return " or ".join(x.__name__ for x in t) if isinstance(t, tuple) else t.__name__


def _wrong(value, t) -> bool:
    if isinstance(value, bool):  # a bool is an int to Python, never to the schema
        return t is not bool
    return not isinstance(value, t)


def _fields(obj, where: str, required: dict, optional: dict | None = None) -> str | None:
    if not isinstance(obj, dict):
        return f"{where} must be an object, got {type(obj).__name__}"
    for key, t in required.items():
        if key not in obj:
            return f"{where} lacks '{key}'"
        value = obj[key]
        if type(value) is not t and _wrong(value, t):  # the exact type: the common case
            return f"{where}.{key} must be {_type_name(t)}, got {type(value).__name__}"
    for key, t in (optional or {}).items():
        if key in obj and type(obj[key]) is not t and _wrong(obj[key], t):
            return f"{where}.{key} must be {_type_name(t)}, got {type(obj[key]).__name__}"
    return None


def _ints(values: list, where: str) -> str | None:
    for i, x in enumerate(values):
        if _wrong(x, int):
            return f"{where}[{i}] must be int, got {type(x).__name__}"
    return None


def _exact(t) -> frozenset:
    return frozenset(t) if isinstance(t, tuple) else frozenset((t,))


def _all_shaped(items: list, required: dict, optional: dict | None = None) -> bool:
    """Whether every item is a dict holding every required key, each key (and each optional
    one it holds) of exactly a listed type: only what `_fields` accepts (a bool is never an
    int here either). False only says that the items must be looked at one by one."""
    if not set(map(type, items)) <= {dict}:
        return False
    try:
        for key, t in required.items():
            if not set(map(type, map(itemgetter(key), items))) <= _exact(t):
                return False
    except KeyError:
        return False
    return all({type(d[key]) for d in items if key in d} <= _exact(t)
               for key, t in (optional or {}).items())


def _each(items: list, where: str, required: dict, optional: dict | None = None) -> str | None:
    if _all_shaped(items, required, optional):
        return None
    for i, item in enumerate(items):
        problem = _fields(item, f"{where}[{i}]", required, optional)
        if problem:
            return problem
    return None


def _ops(ops: list) -> str | None:
    problem = _each(ops, "ops", _OP, _OP_OPTIONAL)
    if problem:
        return problem
    numbers = chain.from_iterable(chain(op["loc"], op["inputs"]) for op in ops)
    if set(map(type, numbers)) <= {int} and \
            _all_shaped([op for op in ops if op["kind"] == pim.MVM.name], _MVM):
        return None
    for i, op in enumerate(ops):
        problem = problem or _ints(op["loc"], f"ops[{i}].loc") or \
            _ints(op["inputs"], f"ops[{i}].inputs")
        if not problem and op["kind"] == pim.MVM.name:
            problem = _fields(op, f"ops[{i}] (pim.mvm)", _MVM)
    return problem


def _transfers(transfers: list) -> str | None:
    problem = _each(transfers, "transfers", _TRANSFER, {"links": list})
    if problem:
        return problem
    if _all_shaped(list(chain.from_iterable(t.get("links", ()) for t in transfers)), _LINK):
        return None
    for i, t in enumerate(transfers):
        problem = problem or _each(t.get("links", []), f"transfers[{i}].links", _LINK)
    return problem


def _units(units: dict) -> str | None:
    if set(map(type, units.values())) <= {list} and \
            _all_shaped(list(chain.from_iterable(units.values())), _USE):
        return None
    for name, uses in units.items():
        if not isinstance(uses, list):
            return f"units['{name}'] must be list, got {type(uses).__name__}"
        problem = _each(uses, f"units['{name}']", _USE)
        if problem:
            return problem
    return None


def shape_problem(s: object) -> str | None:
    """The first key of schedule `s` that is missing or of the wrong type, as one line."""
    problem = _fields(s, "schedule", _TOP, _TOP_OPTIONAL)
    if problem:
        return problem
    return (_fields(s["target"], "target", _TARGET, _TARGET_OPTIONAL) or _ops(s["ops"])
            or _each(s["tiles"], "tiles", _TILE) or _each(s["shards"], "shards", _SHARD)
            or _transfers(s["transfers"]) or _units(s["units"]))
