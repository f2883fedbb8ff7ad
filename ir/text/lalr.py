"""LALR parsers built from JSON tables shipped beside their grammar, never from a shared cache.

lark's `cache=True` unpickles a file at a predictable path in the temp folder before checking
it, so whoever can write there runs code as every user. The tables here are plain JSON (data,
never code) written next to the grammar by `python -m ir.text GRAMMAR.lark ...`; they carry
the hash of the grammar, the options and the lark version they were built from, and when any of
these differ the parser is built in-process from the grammar instead (about 20 ms).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

__all__ = ["lalr_parser", "tables_path", "tables_text"]

# Fixed for every grammar: the tables depend on them, so they are part of the key.
_OPTIONS = {"parser": "lalr", "maybe_placeholders": False}
_PAIRS = "__pairs__"  # a dict whose keys are not all strings (JSON objects have string keys)


def tables_path(grammar: Path) -> Path:
    """Where the tables of `grammar` live: beside it, `<name>.lark.json`."""
    return grammar.with_name(grammar.name + ".json")


def _key(text: str) -> str:
    blob = json.dumps([text, _OPTIONS, lark.__version__], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _encode(x: Any) -> Any:
    if isinstance(x, dict):
        if all(isinstance(k, str) for k in x) and _PAIRS not in x:
            return {k: _encode(v) for k, v in x.items()}
        return {_PAIRS: [[_encode(k), _encode(v)] for k, v in x.items()]}
    if isinstance(x, (list, tuple)):
        return [_encode(v) for v in x]
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    raise TypeError(f"lark tables hold a {type(x).__name__}; only JSON values are shipped")


def _decode(obj: dict) -> dict:
    if set(obj) != {_PAIRS}:
        return obj
    return {(tuple(k) if isinstance(k, list) else k): v for k, v in obj[_PAIRS]}


def tables_text(grammar: Path) -> str:
    """The JSON tables of `grammar`, as the generator writes them."""
    text = grammar.read_text()
    data, memo = Lark(text, **_OPTIONS).memo_serialize([TerminalDef, Rule])
    tables = _encode({"data": data, "memo": memo})
    return json.dumps({"key": _key(text), "lark": lark.__version__, "tables": tables},
                      separators=(",", ":")) + "\n"


def _shipped(grammar: Path, text: str) -> dict | None:
    """The shipped tables when they were built from exactly this grammar and lark version."""
    try:
        raw = json.loads(tables_path(grammar).read_text(), object_hook=_decode)
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("key") != _key(text):
        return None
    return raw.get("tables")


def lalr_parser(grammar: Path, transformer: Any = None) -> Lark:
    """The LALR parser of `grammar`: from its shipped tables, else built from the grammar."""
    text = grammar.read_text()
    tables = _shipped(grammar, text)
    if tables is not None:
        try:
            return Lark._load_from_dict(tables["data"], tables["memo"], transformer=transformer)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # tables from another lark layout: building from the grammar is always right
    return Lark(text, transformer=transformer, **_OPTIONS)


def main(argv: list[str]) -> int:
    """Write the tables of each grammar named in `argv` beside it."""
    for name in argv:
        grammar = Path(name)
        tables_path(grammar).write_text(tables_text(grammar))
        print(f"wrote {tables_path(grammar)}")
    return 0
