"""Where each number of a target description comes from: the YAML comment written beside it.

A target file cites its sources in comments (``resolution: 8  # ISAAC Table I``) and in a
component's ``source:`` field. PyYAML drops comments, so they are read here at the line level,
with PyYAML's own scanner saying where the last token of each line ends: what follows it after
``#`` is that line's comment (a ``#`` inside a quoted value belongs to the token, so it is never
taken for one). A comment-only line indented deeper than the line above it, with nothing between,
continues that line's comment.

A numeric field (a quantity or a count in ``targets.hardware``) takes the comment on the line of
its value; failing that, the ``source:`` field of the component that holds it; failing that it
has no source, and ``pimc targets show`` says so.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import get_args, get_origin

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["Sourced", "line_comments", "read_sources"]


@dataclass(frozen=True)
class Sourced:
    """One number of a target file: ``field`` as in ``chip.tile.pe.adc.resolution`` (list items
    by their ``name``, else their index), ``value`` as written, and its ``source`` ('' if none);
    ``inherited`` when the source is the holding component's ``source:`` field."""

    field: str
    value: str
    source: str
    line: int
    inherited: bool = False


def read_sources(text: str, cls: type) -> tuple[Sourced, ...]:
    """Every numeric field of ``text`` (a target file already validated as ``cls``), in file
    order, with its source."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    found: list[Sourced] = []
    if root is not None:
        _walk(cls, root, "", line_comments(text), found)
    return tuple(found)


def line_comments(text: str) -> dict[int, str]:
    """0-based line -> the comment trailing that line, continuation lines joined to it."""
    lines = text.splitlines()
    ends: dict[int, int] = {}      # line -> column just after its last token
    starts: dict[int, int] = {}    # line -> column of its first token
    inside: set[int] = set()       # lines wholly inside a multi-line token (a folded text)
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        first, last = token.start_mark, token.end_mark
        if last.index == first.index:
            continue  # zero-width markers (block start/end, stream end) hold no text
        starts.setdefault(first.line, first.column)
        if last.line == first.line:
            ends[first.line] = max(ends.get(first.line, 0), last.column)
            continue
        ends[first.line] = len(lines[first.line])
        inside.update(range(first.line + 1, last.line))
        if last.line < len(lines):
            ends[last.line] = max(ends.get(last.line, 0), last.column)
    comments: dict[int, str] = {}
    owner = None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if number in ends:
            rest = line[ends[number]:].strip()
            owner = number if rest.startswith("#") else None
            if owner is not None:
                comments[number] = rest[1:].strip()
        elif number in inside or not stripped.startswith("#"):
            owner = None
        elif owner is not None and line.index("#") > starts[owner]:
            comments[owner] += " " + stripped[1:].strip()
        else:
            owner = None  # a comment of its own (a heading, or text above a key)
    return comments


def _walk(cls: type, node: Node, path: str, comments: dict[int, str],
          found: list[Sourced]) -> None:
    if not isinstance(node, MappingNode):
        return
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    held = next((v.value for k, v in node.value
                 if k.value == "source" and isinstance(v, ScalarNode)), "")
    for key, value in node.value:
        spec = fields.get(key.value)
        if spec is None:
            continue
        where = f"{path}.{key.value}" if path else key.value
        hint = _optional(hints[key.value])
        if {"dimension", "minimum"} & set(spec.metadata):
            found += _numbers(where, value, comments, held)
        elif get_origin(hint) is tuple and isinstance(value, SequenceNode):
            for index, item in enumerate(value.value):
                _walk(get_args(hint)[0], item, f"{where}[{_label(item, index)}]", comments,
                      found)
        elif dataclasses.is_dataclass(hint):
            _walk(hint, value, where, comments, found)


def _numbers(where: str, value: Node, comments: dict[int, str], held: str) -> list[Sourced]:
    if isinstance(value, SequenceNode):  # a list of counts (network dims)
        return [_sourced(f"{where}[{index}]", item, comments, held)
                for index, item in enumerate(value.value)]
    if isinstance(value, ScalarNode) and value.value != "":
        return [_sourced(where, value, comments, held)]
    return []


def _optional(hint: typing.Any) -> typing.Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    args = [a for a in get_args(hint) if a is not type(None)]
    return args[0] if type(None) in get_args(hint) and len(args) == 1 else hint


def _label(item: Node, index: int) -> str:
    if isinstance(item, MappingNode):
        for key, value in item.value:
            if key.value == "name" and isinstance(value, ScalarNode):
                return value.value
    return str(index)


def _sourced(field: str, node: Node, comments: dict[int, str], held: str) -> Sourced:
    own = comments.get(node.end_mark.line, "")
    text = node.value if isinstance(node, ScalarNode) else "?"
    return Sourced(field, text, own or held, node.start_mark.line + 1,
                   inherited=not own and bool(held))
