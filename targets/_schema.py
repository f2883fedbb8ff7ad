"""Build frozen dataclasses from parsed YAML, with errors that name the file and the field.

A hardware class declares its fields with :func:`quantity` (a number with a unit), :func:`count`
(an integer) or a plain annotation (``str``, a ``Literal`` of accepted words, a nested hardware
class, a tuple of either, or ``X | None``). :func:`build` walks the annotations, so the schema is
the class itself; a class may add cross-field rules in a ``check()`` method returning
``(field, message)`` pairs.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from typing import Any, Literal, get_args, get_origin

from targets._units import UNITS, UnitError, parse_quantity
from targets.errors import TargetError

__all__ = ["build", "count", "quantity", "COUNT_LIMIT"]

# Not hardware facts: the largest count a compile is built to handle in reasonable time (every
# pass walks arrays, tiles or banks); larger ones are refused before any work, naming the limit.
COUNT_LIMIT = 1 << 20
_SHOWN = re.compile(r"[A-Za-z0-9_.+\-/ ]{1,40}")  # values short and plain enough to quote back
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def quantity(dimension: str, default: Any = dataclasses.MISSING, *, positive: bool = False,
             doc: str = "") -> Any:
    """A field holding a number with a unit of ``dimension`` (stored in the canonical unit);
    ``positive`` refuses zero (for the quantities something is divided by)."""
    return dataclasses.field(default=default, metadata={"dimension": dimension, "doc": doc,
                                                        "positive": positive})


def count(default: Any = dataclasses.MISSING, *, minimum: int = 0, maximum: int = COUNT_LIMIT,
          doc: str = "") -> Any:
    """A field holding a whole number from ``minimum`` to ``maximum``."""
    return dataclasses.field(default=default, metadata={"minimum": minimum, "maximum": maximum,
                                                        "doc": doc})


def shown(value: Any) -> str:
    """`value` quoted back when it is short and plain; else only its kind and size, so an error
    about a file that is not a target description never repeats what is in it."""
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, str) and _SHOWN.fullmatch(value):
        return repr(value)
    if isinstance(value, str):
        return f"a {len(value)}-character text (not shown)"
    return f"a {type(value).__name__} (not shown)"


def build(cls: type, data: Any, *, file: str, path: str = "") -> Any:
    """Validate ``data`` against hardware class ``cls`` and return the frozen instance."""
    if not isinstance(data, dict):
        _fail(file, path, f"expected a mapping of {cls.__name__} fields, got "
              f"{type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted((k for k in data if k not in fields), key=str)
    if unknown:
        key = unknown[0]
        if not (isinstance(key, str) and _KEY.fullmatch(key)):
            _fail(file, path, f"a key that is not a field name (not shown); accepted fields "
                  f"of {cls.__name__}: {', '.join(fields)}")
        _fail(file, _join(path, key), f"unknown field; accepted fields of "
              f"{cls.__name__}: {', '.join(fields)}")
    values = {}
    for name, spec in fields.items():
        where = _join(path, name)
        if name not in data:
            if _required(spec):
                _fail(file, where, f"missing required field of {cls.__name__}")
            continue
        values[name] = _convert(hints[name], spec, data[name], file, where)
    obj = cls(**values)
    for field_name, message in getattr(obj, "check", lambda: [])():
        _fail(file, _join(path, field_name), message)
    return obj


def _required(spec: dataclasses.Field) -> bool:
    return spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING


def _convert(hint: Any, spec: dataclasses.Field, value: Any, file: str, where: str) -> Any:
    if spec.metadata.get("dimension") is not None:
        return _convert_quantity(value, spec, file, where)
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        inner = [a for a in get_args(hint) if a is not type(None)][0]
        return _convert(inner, spec, value, file, where)
    if origin is Literal:
        return _convert_choice(get_args(hint), value, file, where)
    if origin is tuple:
        return _convert_tuple(get_args(hint)[0], spec, value, file, where)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, file=file, path=where)
    return _convert_scalar(hint, spec, value, file, where)


def _convert_quantity(value: Any, spec: dataclasses.Field, file: str, where: str) -> float:
    dimension = spec.metadata["dimension"]
    if isinstance(value, str) and not _SHOWN.fullmatch(value):
        _fail(file, where, f"{shown(value)} is not a {dimension} such as "
              f"'1.0 {next(iter(UNITS[dimension]))}'")
    try:
        number = parse_quantity(value, dimension)
    except UnitError as err:
        _fail(file, where, str(err))
    if not math.isfinite(number):
        _fail(file, where, f"{value} is not finite")
    if number < 0:
        _fail(file, where, f"negative {dimension} {value!r}; must be >= 0 "
              f"(accepted units: {', '.join(UNITS[dimension])})")
    if number == 0 and spec.metadata.get("positive"):
        _fail(file, where, f"{value} is not accepted; must be > 0 (it divides)")
    return number


def _convert_choice(choices: tuple, value: Any, file: str, where: str) -> str:
    if not isinstance(value, str) or value not in choices:
        _fail(file, where, f"{shown(value)} is not accepted; accepted values: "
              f"{', '.join(choices)}")
    return value


def _convert_tuple(item: Any, spec: dataclasses.Field, value: Any, file: str, where: str):
    if not isinstance(value, list):
        _fail(file, where, f"expected a list, got {type(value).__name__}")
    return tuple(_convert(item, spec, v, file, f"{where}[{i}]") for i, v in enumerate(value))


def _convert_scalar(hint: Any, spec: dataclasses.Field, value: Any, file: str, where: str):
    if hint is str:
        if not isinstance(value, str):
            _fail(file, where, f"expected text, got {type(value).__name__} {shown(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(file, where, f"expected a whole number, got {type(value).__name__} "
                  f"{shown(value)}")
        minimum = spec.metadata.get("minimum", 0)
        maximum = spec.metadata.get("maximum", COUNT_LIMIT)
        if value < minimum:
            _fail(file, where, f"{value} is too small; must be >= {minimum}")
        if value > maximum:
            _fail(file, where, f"{value} is too large; must be <= {maximum} (a limit that "
                  "keeps a compile tractable)")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            _fail(file, where, f"{shown(value)} is not accepted; accepted values: true, false")
        return value
    raise TypeError(f"unsupported schema type {hint!r} at {where}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fail(file: str, where: str, message: str) -> typing.NoReturn:
    raise TargetError(f"field '{where}': {message}", where=file)
