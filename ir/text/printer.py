"""The hand-written printer of the generic text form (see pir.lark for the grammar)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from ir.core import REQUIRED, Graph, Module, Op, Value
from ir.errors import PimcError
from ir.types import TensorType

__all__ = ["print_module", "print_module_with_weights", "format_float"]

INLINE_LIMIT = 16  # constants with more elements go to the weights sidecar
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_ATTR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
MAX_DEPTH = 64  # as the parser: deeper attribute lists are refused, not a RecursionError


def format_float(x: float | np.floating) -> str:
    """The shortest text that reads back to the same value in its own precision."""
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    mag = abs(float(x))
    if mag != 0.0 and (mag >= 1e16 or mag < 1e-4):
        return np.format_float_scientific(x, unique=True, trim="0")
    return np.format_float_positional(x, unique=True, trim="0")


_quoted = json.encoder.encode_basestring_ascii  # what json.dumps writes for a str


def _scalar(x: Any) -> str:
    kind = type(x)  # the exact types first: a mapped module prints tens of thousands
    if kind is int:
        return str(x)
    if kind is str:
        return _quoted(x)
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return format_float(x if isinstance(x, np.floating) else np.float64(x))
    return json.dumps(x)


def _dense(array: np.ndarray) -> str:
    t = TensorType.of(array)
    body = "x".join([*(str(d) for d in t.shape), t.dtype])
    return f"dense<{body}, [{', '.join(_scalar(x) for x in array.reshape(-1))}]>"


class _Namer:
    """Names values canonically: their hint when it is an identifier, else a number."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.taken: set[str] = set()
        self.counter = 0

    def name(self, v: Value) -> str:
        key = id(v)
        if key not in self.names:
            self.names[key] = self._fresh(v.name)
        return "%" + self.names[key]

    def _fresh(self, hint: str | None) -> str:
        if hint:
            base = re.sub(r"[^A-Za-z0-9_.]", "_", hint)
            if not _IDENT.match(base):
                base = "v" + base if base[:1].isdigit() else "_" + base
            name, k = base, 0
            while name in self.taken:
                k += 1
                name = f"{base}_{k}"
            self.taken.add(name)
            return name
        while str(self.counter) in self.taken:
            self.counter += 1
        self.taken.add(str(self.counter))
        self.counter += 1
        return str(self.counter - 1)


class _Printer:
    def __init__(self, inline_limit: int) -> None:
        self.inline_limit = inline_limit
        self.weights: dict[str, np.ndarray] = {}
        self.lines: list[str] = []

    def attr_value(self, value: Any, result_name: str, depth: int = 0) -> str:
        if isinstance(value, np.ndarray):
            if value.size <= self.inline_limit:
                return _dense(value)
            return symbol(self._weight_name(result_name, value))
        if isinstance(value, (tuple, list)):
            if depth >= MAX_DEPTH:
                raise PimcError(f"an attribute of {result_name} is nested deeper than "
                                f"{MAX_DEPTH} lists; the text form accepts at most {MAX_DEPTH}")
            return "[" + ", ".join(self.attr_value(x, result_name, depth + 1)
                                   for x in value) + "]"
        return _scalar(value)

    def _weight_name(self, hint: str, value: np.ndarray) -> str:
        """A sidecar name: the value's name when it is a symbol, else a fresh one."""
        base = hint if _IDENT.match(hint) else f"c{hint}"
        name, k = base, 0
        while name in self.weights:
            k += 1
            name = f"{base}_{k}"
        self.weights[name] = value
        return name

    def attrs(self, op: Op, result_name: str) -> str:
        items = []
        for key, spec in op.attrs_spec.items():
            if key not in op.attrs:
                continue
            value = op.attrs[key]
            if spec.default is not REQUIRED and _same(value, spec.default):
                continue
            items.append(f"{_key(key)} = {self.attr_value(value, result_name)}")
        for key in sorted(k for k in op.attrs if k not in op.attrs_spec):
            items.append(f"{_key(key)} = "
                         f"{self.attr_value(op.attrs[key], f'{result_name}.{key}')}")
        return " {" + ", ".join(items) + "}" if items else ""

    def op(self, op: Op, namer: _Namer) -> None:
        results = [namer.name(r) for r in op.results]
        operands = f"({', '.join(namer.name(v) for v in op.operands)})" if op.operands else ""
        attrs = self.attrs(op, results[0][1:] if results else op.name)
        types = ", ".join(str(r.type) for r in op.results)
        self.lines.append(f"    {', '.join(results)} = {op.name}{operands}{attrs} : {types}")

    def graph(self, g: Graph) -> None:
        namer = _Namer()
        args = ", ".join(f"{namer.name(a)}: {a.type}" for a in g.args)
        sigs = ", ".join(f"{_out_name(n)}: {v.type}" for n, v in zip(g.output_names, g.outputs))
        self.lines.append(f"  graph {symbol(g.name)}({args}) -> ({sigs}) {{")
        for op in g.ops:
            self.op(op, namer)
        outs = ", ".join(namer.name(v) for v in g.outputs)
        self.lines.append(f"    return {outs}".rstrip())
        self.lines.append("  }")

    def module(self, m: Module) -> str:
        attrs = ""
        if m.attrs:
            items = ", ".join(f"{_key(k)} = {self.attr_value(v, k)}"
                              for k, v in sorted(m.attrs.items()))
            attrs = f" attributes {{{items}}}"
        self.lines.append(f"module {symbol(m.name)}{attrs} {{")
        for g in m.graphs:
            self.graph(g)
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    return type(a) is type(b) and a == b


def symbol(name: str) -> str:
    """`@name`, quoted (`@"my-model"`) when the name is not an identifier."""
    return "@" + (name if _IDENT.match(name) else json.dumps(name))


def _key(key: str) -> str:
    return key if _ATTR_KEY.match(key) else json.dumps(key)


def _out_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else json.dumps(name)


def print_module_with_weights(module: Module, inline_limit: int = INLINE_LIMIT
                              ) -> tuple[str, dict[str, np.ndarray]]:
    """The text of `module` and the arrays its `@name` references point to."""
    p = _Printer(inline_limit)
    text = p.module(module)
    return text, p.weights


def print_module(module: Module, inline_limit: int = INLINE_LIMIT) -> str:
    """The canonical text of `module` (large constants appear as `@name` references)."""
    return print_module_with_weights(module, inline_limit)[0]
