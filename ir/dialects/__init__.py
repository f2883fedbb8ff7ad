"""Dialects: the op classes by name, registered by their modules and loaded lazily."""

from __future__ import annotations

import importlib

from ir.core import Op
from ir.errors import PimcError

__all__ = ["DIALECTS", "all_ops", "lookup", "register"]

# dialect prefix -> module defining its ops; imported on first use.
DIALECTS = {"nn": "ir.dialects.nn", "rec": "ir.dialects.rec", "pim": "ir.dialects.pim"}
_OPS: dict[str, type[Op]] = {}


def register(cls: type[Op]) -> type[Op]:
    """Class decorator: make an op class known by its dotted name."""
    if cls.name in _OPS and _OPS[cls.name] is not cls:
        raise ValueError(f"op {cls.name} registered twice")
    _OPS[cls.name] = cls
    return cls


def _load(prefix: str) -> None:
    module = DIALECTS.get(prefix)
    if module is None:
        return
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise


def lookup(name: str) -> type[Op]:
    """The op class called `name` (e.g. "rec.dense")."""
    if name not in _OPS:
        _load(name.split(".", 1)[0])
    try:
        return _OPS[name]
    except KeyError:
        prefix = name.split(".", 1)[0]
        known = sorted(n for n in _OPS if n.startswith(prefix + "."))
        hint = f"; {prefix} ops: {', '.join(known)}" if known else \
            f"; known dialects: {', '.join(DIALECTS)}"
        raise PimcError(f"unknown op '{name}'{hint}") from None


def all_ops() -> dict[str, type[Op]]:
    """Every registered op, after loading every dialect."""
    for prefix in DIALECTS:
        _load(prefix)
    return dict(sorted(_OPS.items()))
