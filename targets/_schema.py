"""Build frozen dataclasses from parsed YAML, with errors that name the file and the field.

A hardware class declares its fields with :func:`quantity` (a number with a unit), :func:`count`
(an integer) or a plain annotation (``str``, a ``Literal`` of accepted words, a nested hardware
class, a tuple of either, or ``X | None``). :func:`build` walks the annotations, so the schema is
the class itself; a class may add cross-field rules in a ``check()`` method returning
``(field, message)`` pairs.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, get_args, get_origin

from targets._units import UNITS, UnitError, parse_quantity
from targets.errors import TargetError

__all__ = ["build", "count", "quantity"]


def quantity(dimension: str, default: Any = dataclasses.MISSING, *, doc: str = "") -> Any:
    """A field holding a number with a unit of ``dimension`` (stored in the canonical unit)."""
    return dataclasses.field(default=default, metadata={"dimension": dimension, "doc": doc})


def count(default: Any = dataclasses.MISSING, *, minimum: int = 0, doc: str = "") -> Any:
    """A field holding a whole number no smaller than ``minimum``."""
    return dataclasses.field(default=default, metadata={"minimum": minimum, "doc": doc})


def build(cls: type, data: Any, *, file: str, path: str = "") -> Any:
    """Validate ``data`` against hardware class ``cls`` and return the frozen instance."""
    if not isinstance(data, dict):
        _fail(file, path, f"expected a mapping of {cls.__name__} fields, got "
              f"{type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        _fail(file, _join(path, unknown[0]), f"unknown field; accepted fields of "
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
    dimension = spec.metadata.get("dimension")
    if dimension is not None:
        return _convert_quantity(value, dimension, file, where)
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


def _convert_quantity(value: Any, dimension: str, file: str, where: str) -> float:
    try:
        number = parse_quantity(value, dimension)
    except UnitError as err:
        _fail(file, where, str(err))
    if number < 0:
        _fail(file, where, f"negative {dimension} {value!r}; must be >= 0 "
              f"(accepted units: {', '.join(UNITS[dimension])})")
    return number


def _convert_choice(choices: tuple, value: Any, file: str, where: str) -> str:
    if value not in choices:
        _fail(file, where, f"{value!r} is not accepted; accepted values: {', '.join(choices)}")
    return value


def _convert_tuple(item: Any, spec: dataclasses.Field, value: Any, file: str, where: str):
    if not isinstance(value, list):
        _fail(file, where, f"expected a list, got {type(value).__name__}")
    return tuple(_convert(item, spec, v, file, f"{where}[{i}]") for i, v in enumerate(value))


def _convert_scalar(hint: Any, spec: dataclasses.Field, value: Any, file: str, where: str):
    if hint is str:
        if not isinstance(value, str):
            _fail(file, where, f"expected text, got {type(value).__name__} {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(file, where, f"expected a whole number, got {type(value).__name__} {value!r}")
        minimum = spec.metadata.get("minimum", 0)
        if value < minimum:
            _fail(file, where, f"{value} is too small; must be >= {minimum}")
        return value
    raise TypeError(f"unsupported schema type {hint!r} at {where}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fail(file: str, where: str, message: str) -> typing.NoReturn:
    raise TargetError(f"field '{where}': {message}", where=file)
