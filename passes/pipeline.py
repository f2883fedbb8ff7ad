"""Pipeline spec strings (`a,b{k=v}`) parsed into configured pass objects, and back."""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from functools import lru_cache
from pathlib import Path

from ir.errors import PimcError
from passes import get_pass
from passes.base import Pass

__all__ = ["parse_pipeline", "pipeline_spec"]


@lru_cache(maxsize=1)
def _lark():
    from ir.text.lalr import lalr_parser

    return lalr_parser(Path(__file__).with_name("pipeline.lark"))


# (pass name, [(option key, value)]): what a spec says, read by `_scan` or from lark's tree.
Parsed = list[tuple[str, list[tuple[str, object]]]]

# pipeline.lark's terminals, for `_scan`. Its WS is [ \t\f\r\n]; WORD excludes every \s.
_TOKENS = re.compile(r'[ \t\f\r\n]*(?:([{},=\[\]])|("[^"]*")|([^,{}\[\]=\s"]+))')
_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_BLANK = re.compile(r"[ \t\f\r\n]*\Z")


class _Unread(Exception):
    """`_scan` met something it does not read; lark reads it (or words the error)."""


class _Scanner:
    """pipeline.lark's grammar by hand, over the tokens of `_TOKENS`."""

    def __init__(self, spec: str) -> None:
        self.tokens, pos = [], 0
        while not _BLANK.match(spec, pos):
            m = _TOKENS.match(spec, pos)
            if m is None:
                raise _Unread
            self.tokens.append(m.groups())
            pos = m.end()
        self.i = 0

    def at(self, char: str) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i][0] == char

    def take(self, char: str) -> None:
        if not self.at(char):
            raise _Unread
        self.i += 1

    def word(self, form: re.Pattern | None = None) -> str:
        text = self.tokens[self.i][2] if self.i < len(self.tokens) else None
        if text is None or (form is not None and not form.match(text)):
            raise _Unread
        self.i += 1
        return text

    def listed(self, close: str, item) -> list:
        """Items separated by commas up to `close` (none is allowed), which is taken."""
        out = []
        while not self.at(close):
            if out:
                self.take(",")
            out.append(item())
        self.take(close)
        return out

    def value(self) -> object:
        if self.at("["):
            self.take("[")
            return self.listed("]", self.word)
        string = self.tokens[self.i][1] if self.i < len(self.tokens) else None
        if string is not None:
            self.i += 1
            return string[1:-1]
        return self.word()

    def option(self) -> tuple[str, object]:
        key = self.word(_KEY)
        self.take("=")
        return key, self.value()

    def pass_(self) -> tuple[str, list[tuple[str, object]]]:
        name = self.word(_NAME)
        if self.at("{"):
            self.take("{")
            return name, self.listed("}", self.option)
        return name, []

    def spec(self) -> Parsed:
        out = [self.pass_()] if self.tokens else []
        while self.i < len(self.tokens):
            self.take(",")
            out.append(self.pass_())
        return out


def _scan(spec: str) -> Parsed | None:
    """`spec` read without lark (whose import is 10 ms of a small whole-process compile),
    exactly as pipeline.lark reads it; None for anything else, errors included, which lark
    then parses and words. Every spec the driver builds is read here."""
    try:
        return _Scanner(spec).spec()
    except _Unread:
        return None


def _parsed(spec: str) -> Parsed:
    """What `spec` says, by `_scan` or else by lark (which raises its syntax errors)."""
    found = _scan(spec)
    if found is not None:
        return found
    from lark import UnexpectedInput

    try:
        tree = _lark().parse(spec)
    except UnexpectedInput as exc:
        raise PimcError(_syntax_error(spec, exc)) from None
    return [(str(p.children[0]),
             [(str(o.children[0]), _value(o.children[1]))
              for o in (p.children[1].children if len(p.children) > 1 else [])])
            for p in tree.children]


def _convert(pass_name: str, key: str, raw: object, kind: object) -> object:
    where = f"option '{key}' of pass '{pass_name}'"
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        items = raw if isinstance(raw, list) else [raw]
        return tuple(_convert(pass_name, key, x, item) for x in items)
    if isinstance(raw, list):
        raise PimcError(f"{where} takes one value, not a list")
    text = str(raw)
    if kind is bool:
        if text not in ("true", "false"):
            raise PimcError(f"{where} is '{text}'; accepted: true, false")
        return text == "true"
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise PimcError(f"{where} is '{text}'; accepted: {kind.__name__}") from None
    return text


def _build(name: str, options: dict[str, object]) -> Pass:
    cls = get_pass(name)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, object] = {}
    for key, raw in options.items():
        if "." in key and "per_op" in fields:  # per-op-type options: rec.attention=16
            kwargs["per_op"] = (*kwargs.get("per_op", ()), (key, str(raw)))
            continue
        field = key.replace("-", "_")
        if field not in fields:
            names = [f.replace("_", "-") for f in fields]
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PimcError(f"pass '{name}' has no option '{key}'{hint}; options: "
                            f"{', '.join(names) or 'none'}")
        kwargs[field] = _convert(name, key, raw, hints[field])
    return cls(**kwargs)


def _value(tree) -> object:
    if hasattr(tree, "data") and tree.data == "list_":
        return [str(t) for t in tree.children]
    text = str(tree)
    return text[1:-1] if text.startswith('"') else text


# What each grammar terminal means to someone writing a spec.
_EXPECTED = {"NAME": "a pass name (lower-case, e.g. canonicalize)",
             "KEY": "an option name (KEY=VALUE, e.g. default=8)", "EQUAL": "'=' and a value",
             "RBRACE": "'}'", "LBRACE": "'{'", "COMMA": "','", "WORD": "a value",
             "STRING": "a value", "LSQB": "a value", "$END": "the end of the spec"}


def _syntax_error(spec: str, exc) -> str:
    """Where, what was found and what was expected, and the spec with a caret at the spot."""
    col = max(getattr(exc, "column", 1) or 1, 1)
    if getattr(getattr(exc, "token", None), "type", "") == "$END":  # lark points at the last
        col = len(spec.rstrip()) + 1                                 # token; the gap is after it
    names = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ()
    wanted = sorted({_EXPECTED.get(n, n.lower()) for n in names})
    found = repr(spec[col - 1:col]) if spec[col - 1:col] else "the end of the spec"
    hint = f"expected {' or '.join(wanted)}" if wanted else "unexpected text"
    bare = spec[col - 1:].split(",")[0].split("}")[0]
    if "KEY" in names and bare and "=" not in bare:  # a value without its option name
        hint += f"; a value needs its option's name, e.g. {{default={bare}}}"
    # One line (the CLI prints errors as one line), the caret inside the spec at the spot
    return (f"pipeline syntax error at column {col}: found {found}, {hint}; at the caret: "
            f"{spec[:col - 1]}^{spec[col - 1:]}")


def parse_pipeline(spec: str) -> list[Pass]:
    """Parse `spec` into pass objects; unknown names and options fail with the known ones."""
    passes = []
    for name, options in _parsed(spec):
        opts: dict[str, object] = {}
        for key, value in options:
            if key in opts:
                raise PimcError(f"option '{key}' of pass '{name}' is given twice")
            opts[key] = value
        passes.append(_build(name, opts))
    return passes


def pipeline_spec(passes: list[Pass]) -> str:
    """The spec string that rebuilds `passes`."""
    return ",".join(p.spec() for p in passes)
