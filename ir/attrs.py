"""Attribute specs and the normalisation every op construction runs its attributes through.

An op class declares its attributes as `Attr`s (a kind, a default or `REQUIRED`, allowed
choices); a value is converted to the kind's normal form (ints as Python ints, lists as
tuples, ...) or refused with a one-line error. Dialect-prefixed attributes (`pim.unit`) are
normalised by `_extra_attr`. Values already in normal form, the common case of values the IR
wrote itself, are kept as they are without a conversion (`Attr.keeps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ir.errors import PimcError
from ir.types import DTYPES

__all__ = ["Attr", "REQUIRED"]

REQUIRED = object()
_KINDS = ("int", "float", "bool", "str", "ints", "floats", "strs", "array", "dtype")


@dataclass(frozen=True)
class Attr:
    """The spec of one attribute: its kind, a default (or REQUIRED) and allowed choices."""

    kind: str
    default: Any = REQUIRED
    choices: tuple | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown attribute kind {self.kind!r}")
        # What `keeps` accepts as it is for this kind (an exact type; a tuple's exact item
        # type), looked up once here: every op construction normalises through its specs.
        object.__setattr__(self, "_keep", _KEEP.get(self.kind))
        item = _KEEP_ITEMS.get(self.kind)
        object.__setattr__(self, "_items", None if item is None else frozenset((item,)))

    def keeps(self, value: Any) -> bool:
        """Whether `value` is already what the conversion would make of it (an equal value of
        the same type): the common case of a value the IR wrote itself, which is then not
        converted again."""
        t = type(value)
        return t is self._keep or (t is tuple and self._items is not None
                                   and self._items.issuperset(map(type, value)))

    def normalize(self, op_name: str, key: str, value: Any) -> Any:
        out = value if self.keeps(value) else _coerce(self.kind, value)
        if out is None:
            raise PimcError(f"attribute '{key}' of {op_name} must be {self.kind}, got {value!r}")
        if self.choices is not None and out not in self.choices:
            accepted = ", ".join(repr(c) for c in self.choices)
            raise PimcError(f"attribute '{key}' of {op_name} is {out!r}; accepted: {accepted}")
        return out


# The exact type a kind keeps as it is (`_coerce` would return an equal value of that type).
_KEEP = {"int": int, "float": float, "bool": bool, "str": str}
_KEEP_ITEMS = {"ints": int, "floats": float, "strs": str}  # the same for a tuple's items
_PLAIN = frozenset((int, float, bool, str))  # exact types `_extra_attr` keeps as they are


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _coerce_scalar(kind: str, v: Any) -> Any:
    if kind == "int":
        return int(v) if _is_int(v) else None
    if kind == "float":
        return float(v) if _is_int(v) or isinstance(v, (float, np.floating)) else None
    if kind == "bool":
        return bool(v) if isinstance(v, (bool, np.bool_)) else None
    if kind == "str":
        return v if isinstance(v, str) else None
    if kind == "dtype":
        return v if isinstance(v, str) and v in DTYPES else None
    return None


def _coerce(kind: str, v: Any) -> Any:
    if kind == "array":
        return v if isinstance(v, np.ndarray) else None
    if kind in ("ints", "floats", "strs"):
        if not isinstance(v, (list, tuple, np.ndarray)):
            return None
        items = [_coerce_scalar(kind[:-1], x) for x in v]
        return None if any(x is None for x in items) else tuple(items)
    return _coerce_scalar(kind, v)


def _extra_attr(op_name: str, key: str, value: Any) -> Any:
    """A dialect-prefixed attribute any op may carry (`pim.unit`, `pim.start`, ...)."""
    if type(value) in _PLAIN:
        return value
    if type(value) is tuple and _PLAIN.issuperset(map(type, value)):
        return value
    if isinstance(value, np.ndarray) or _is_int(value) or isinstance(value, (bool, str)):
        return int(value) if _is_int(value) else value
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return tuple(_extra_attr(op_name, key, v) for v in value)
    raise PimcError(f"attribute '{key}' of {op_name} has an unsupported value {value!r}")
