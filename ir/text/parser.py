"""The parser of the generic text form: lark LALR with a Transformer that builds IR directly.

Errors are PimcErrors located as file:line:col, saying what was expected.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
from lark import Lark, Token, Transformer, UnexpectedInput
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError

from ir.core import Graph, Module, Value
from ir.dialects import lookup
from ir.errors import PimcError
from ir.text.lalr import lalr_parser
from ir.types import DTYPES, TensorType

__all__ = ["MAX_DEPTH", "parse"]

MAX_DEPTH = 64  # nested attribute lists: far beyond any op's need, far below Python's stack

_READABLE = {"VALUE": "a value (%name)", "SYMBOL": "a symbol (@name)", "OPNAME": "an op name",
             "NAME": "a name", "INT": "an integer", "FLOAT": "a float",
             "STRING": "a string", "TYPE_BODY": "a shape and element type (4x8xf32)",
             "$END": "end of input"}


def _type_body(tok: Token, where: str) -> tuple[tuple[int, ...], str]:
    m = re.fullmatch(r"((?:[0-9]+x)*)([a-z]+[0-9]*)", str(tok))
    dims, dtype = m.group(1).split("x")[:-1], m.group(2)
    if dtype not in DTYPES:
        raise PimcError(f"unknown element type '{dtype}'; accepted: {', '.join(DTYPES)}", where)
    if any(len(d) > 18 for d in dims):  # beyond int64 arithmetic on sizes and offsets
        raise PimcError("a dimension has more than 18 digits; accepted: up to 10^18", where)
    return tuple(int(d) for d in dims), dtype


def _depth(value: object) -> int:
    """How many lists deep `value` is, counted without recursion (it may be very deep)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list):
            if depth + 1 > MAX_DEPTH:
                return depth + 1
            deepest = max(deepest, depth + 1)
            stack.extend((x, depth + 1) for x in item)
    return deepest


class _Build(Transformer):
    """Builds IR bottom-up while LALR reduces; SSA names are resolved per graph."""

    def __init__(self, file: str, weights: Mapping[str, np.ndarray] | None) -> None:
        super().__init__()
        self.file = file
        self.weights = weights
        self.scope: dict[str, Value] = {}

    def _at(self, tok: Token) -> str:
        return f"{self.file}:{tok.line}:{tok.column}"

    # -- attribute values ------------------------------------------------------------------
    def int_(self, c):
        return int(c[0])

    def float_(self, c):
        return float(c[0])

    def string(self, c):
        return self._unquote(c[0])

    def _unquote(self, tok: Token, text: str | None = None) -> str:
        try:
            value = json.loads(tok if text is None else text, strict=False)
            value.encode("utf-8")
        except json.JSONDecodeError as exc:
            raise PimcError(f"bad string literal ({exc.msg})", self._at(tok)) from None
        except UnicodeEncodeError:
            raise PimcError("bad string literal (a lone surrogate escape)", self._at(tok)) from None
        return value

    def true(self, _):
        return True

    def false(self, _):
        return False

    def list_(self, c):
        return list(c)

    def dense(self, c):
        tok, values = c[0], c[1:]
        shape, dtype = _type_body(tok, self._at(tok))
        size = math.prod(shape)
        if size != len(values):
            raise PimcError(f"dense<{tok}> needs {size} values, got {len(values)}", self._at(tok))
        try:
            with np.errstate(over="raise"):  # 1e300 in an f16 is an error, not a silent inf
                return np.array(values, dtype=DTYPES[dtype]).reshape(shape)
        except (OverflowError, ValueError, FloatingPointError):
            raise PimcError(f"values do not fit {dtype}", self._at(tok)) from None

    def _symbol(self, tok: Token) -> str:
        """The name of `@name` or `@"any text"`."""
        return self._unquote(tok, tok[1:]) if tok[1:2] == '"' else str(tok)[1:]

    def weight_ref(self, c):
        tok = c[0]
        name = self._symbol(tok)
        if self.weights is None or name not in self.weights:
            where = "no weights sidecar was given" if self.weights is None else \
                "the weights sidecar has no such array"
            raise PimcError(f"unknown weight @{name}: {where}", self._at(tok))
        return np.asarray(self.weights[name])

    def type(self, c):
        tok = c[0]
        shape, dtype = _type_body(tok, self._at(tok))
        bits = int(c[1]) if len(c) > 1 else None
        try:
            return TensorType(shape, dtype, bits)
        except PimcError as exc:
            raise PimcError(exc.message, self._at(tok)) from None

    def attr(self, c):
        tok, value = c[0], c[1]
        if _depth(value) > MAX_DEPTH:
            raise PimcError(f"attribute value nested deeper than {MAX_DEPTH} lists; accepted: "
                            f"at most {MAX_DEPTH}", self._at(tok))
        return (tok, value)

    def attr_dict(self, c):
        out = {}
        for tok, value in c:
            key = self._unquote(tok) if tok.type == "STRING" else str(tok)
            if key in out:
                raise PimcError(f"attribute '{key}' is given twice", self._at(tok))
            out[key] = value
        return out

    # -- ops and graphs --------------------------------------------------------------------
    def operands(self, c):
        return [self._use(tok) for tok in c]

    def value_list(self, c):
        return list(c)

    def _use(self, tok: Token) -> Value:
        try:
            return self.scope[str(tok)]
        except KeyError:
            raise PimcError(f"use of undefined value {tok}", self._at(tok)) from None

    def _define(self, tok: Token, value: Value) -> None:
        if str(tok) in self.scope:
            raise PimcError(f"value {tok} is defined twice", self._at(tok))
        name = str(tok)[1:]
        value.name = None if name.isdigit() else name
        self.scope[str(tok)] = value

    def op(self, c):
        names, optok, rest = c[0], c[1], c[2:]
        operands = rest.pop(0) if rest and isinstance(rest[0], list) else []
        attrs = rest.pop(0) if rest and isinstance(rest[0], dict) else {}
        try:
            op = lookup(str(optok))(operands, attrs, rest)
        except PimcError as exc:
            raise PimcError(exc.message, self._at(optok)) from None
        if len(names) != len(op.results):
            raise PimcError(f"{optok} defines {len(op.results)} value(s), "
                            f"{len(names)} named", self._at(optok))
        for tok, r in zip(names, op.results):
            self._define(tok, r)
        return op

    def arg(self, c):
        return (c[0], c[1])

    def result_sig(self, c):
        tok = c[0]
        name = self._unquote(tok) if tok.type == "STRING" else str(tok)
        return (name, c[1])

    def graph_head(self, c):
        self.scope = {}
        name, items = c[0], c[1:]
        args, sigs = [], []
        for item in items:
            if isinstance(item[0], Token) and item[0].type == "VALUE":
                value = Value(item[1])
                self._define(item[0], value)
                args.append(value)
            else:
                sigs.append(item)
        return (self._symbol(name), args, sigs)

    def ret(self, c):
        return ("return", [self._use(tok) for tok in c], c[0] if c else None)

    def graph(self, c):
        (name, args, sigs), ops, (_, outs, tok) = c[0], c[1:-1], c[-1]
        if len(outs) != len(sigs):
            raise PimcError(f"graph @{name} declares {len(sigs)} result(s) but returns "
                            f"{len(outs)}", self._at(tok) if tok else self.file)
        for (out_name, t), v in zip(sigs, outs):
            if not t.same_data(v.type):
                raise PimcError(f"output {out_name} is declared {t} but returns {v.type}",
                                self._at(tok))
        return Graph(name, args, list(ops), outs, [n for n, _ in sigs])

    def module_attrs(self, c):
        return c[0]

    def module(self, c):
        name, rest = c[0], c[1:]
        attrs = rest.pop(0) if rest and isinstance(rest[0], dict) else {}
        return Module(self._symbol(name), list(rest), attrs)

    def start(self, c):
        return c[0]


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _Build]:
    build = _Build("<string>", None)
    return lalr_parser(Path(__file__).with_name("pir.lark"), transformer=build), build


def _expected(exc: UnexpectedInput) -> str:
    names = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or [])
    readable = [_READABLE.get(n, _literal(n)) for n in names]
    return ", ".join(readable[:8]) + (", ..." if len(readable) > 8 else "")


def _literal(name: str) -> str:
    from lark.load_grammar import _TERMINAL_NAMES

    for literal, term in _TERMINAL_NAMES.items():
        if term == name:
            return f"'{literal}'"
    return f"'{name.lower()}'" if name.isupper() else name


def _syntax_error(exc: UnexpectedInput, file: str, text: str) -> PimcError:
    where = f"{file}:{exc.line}:{exc.column}" if exc.line > 0 else \
        f"{file}:{text.count(chr(10)) + 1}:1"
    if isinstance(exc, UnexpectedToken):
        got = "end of input" if exc.token.type == "$END" else f"'{exc.token}'"
    elif isinstance(exc, UnexpectedCharacters):
        got = f"'{text[exc.pos_in_stream]}'"
    else:
        got = "end of input"
    if isinstance(exc, UnexpectedEOF):
        got = "end of input"
    return PimcError(f"syntax error: expected {_expected(exc)}; got {got}", where)


def parse(text: str, weights: Mapping[str, np.ndarray] | None = None,
          file: str = "<string>") -> Module:
    """Parse .pir text into a Module; `weights` resolves `@name` references."""
    lark, build = _parser()
    build.file, build.weights, build.scope = file, weights, {}
    try:
        return lark.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, file, text) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, PimcError):
            raise exc.orig_exc from None
        raise
