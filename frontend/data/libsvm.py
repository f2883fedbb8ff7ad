"""libsvm / libfm files (`label idx:val idx:val ...`), the format of many published CTR
benchmark splits, read into fields.

Which field a feature belongs to:

- by position, when every line has the same number of features (the i-th feature of a line
  is field `f<i>`, 1-based; frappe and MovieLens-tag in libfm form are written so);
- by a field map, a text file of `INDEX FIELD` lines (`#` starts a comment), for files whose
  lines leave features out;
- by the line itself in the libffm form `label field:idx:val` (field `f<field>`).

A field is numeric when it always uses one feature index and some value is not 1: the value
is the feature (NaN where a line lacks the field). Otherwise it is categorical (one-hot):
the feature index is the category, label-encoded over all files together, and its value
must be 1. Labels are 0/1 or -1/+1 (-1 and 0 are negatives). Train, validation and test
files are read together so that they share fields and tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from frontend.data._dataset import CTRData
from frontend.data._encode import encode_column
from ir.errors import PimcError

__all__ = ["load_libsvm", "read_field_map"]


@dataclass
class _Rows:
    """Parsed lines of all files: per row a {field: (index, value, where)}; labels; sizes."""

    rows: list[dict[str, tuple[str, float, str]]] = field(default_factory=list)
    labels: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    order: dict[str, None] = field(default_factory=dict)  # fields in order of first use
    first: tuple[int, str] | None = None  # (tokens, where) of the first line of all files


def read_field_map(path: str | Path) -> dict[str, str]:
    """Feature index -> field name, from `INDEX FIELD` lines."""
    path = Path(path)
    if not path.is_file():
        raise PimcError(f"{path}: no such file; accepted: a field map of INDEX FIELD lines")
    out: dict[str, str] = {}
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        words = text.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2:
            raise PimcError(f"'{text.strip()}' is not INDEX FIELD", f"{path}:{number}")
        out[words[0]] = words[1]
    if not out:
        raise PimcError(f"{path}: the field map is empty; accepted: INDEX FIELD lines")
    return out


def _label(token: str, where: str) -> float:
    try:
        value = float(token)
    except ValueError:
        value = float("nan")
    if value not in (-1.0, 0.0, 1.0):
        raise PimcError(f"label '{token}' is not 0/1 or -1/+1", where)
    return 1.0 if value > 0 else 0.0


def _feature(token: str, position: int, fields: dict[str, str] | None,
             where: str) -> tuple[str, str, float]:
    """(field, index, value) of one `idx:val` or `field:idx:val` token."""
    parts = token.split(":")
    try:
        value = float(parts[-1])
    except ValueError:
        value = float("nan")
    if len(parts) not in (2, 3) or not all(parts[:-1]) or np.isnan(value):
        raise PimcError(f"'{token}' is not INDEX:VALUE (or FIELD:INDEX:VALUE)", where)
    if len(parts) == 3:
        return f"f{parts[0]}", parts[1], value
    if fields is None:
        return f"f{position}", parts[0], value
    if parts[0] not in fields:
        raise PimcError(f"feature index {parts[0]} is not in the field map", where)
    return fields[parts[0]], parts[0], value


def _parse_line(tokens: list[str], fields: dict[str, str] | None, where: str,
                out: _Rows) -> None:
    row: dict[str, tuple[str, float, str]] = {}
    for i, token in enumerate(tokens[1:], start=1):
        name, index, value = _feature(token, i, fields, where)
        if name in row:
            raise PimcError(f"field {name} has two features ({row[name][0]} and {index}); "
                            "accepted: one feature per field and line", where)
        row[name] = (index, value, where)
        out.order.setdefault(name)
    out.rows.append(row)
    out.labels.append(_label(tokens[0], where))


def _read_file(path: Path, fields: dict[str, str] | None, out: _Rows) -> None:
    if not path.is_file():
        raise PimcError(f"{path}: no such file; accepted: a libsvm file (label idx:val ...)")
    count = 0
    with open(path) as f:
        for number, text in enumerate(f, start=1):
            tokens, where = text.split(), f"{path}:{number}"
            if not tokens:
                continue
            first = out.first = out.first or (len(tokens), where)
            positional = fields is None and tokens[-1].count(":") < 2  # not libffm
            if positional and len(tokens) != first[0]:
                raise PimcError(f"{len(tokens) - 1} features, but {first[1]} has "
                                f"{first[0] - 1}; accepted: the same number on every line, "
                                "or a field map (libsvm:TRAIN,...:fields=FILE)", where)
            _parse_line(tokens, fields, where, out)
            count += 1
    if count == 0:
        raise PimcError(f"{path}: no data rows")
    out.sizes.append(count)


def _is_numeric(rows: list[dict], name: str) -> bool:
    """One feature index throughout, and some value not 1 (else: one-hot categorical)."""
    seen = [r[name] for r in rows if name in r]
    if len({s[0] for s in seen}) == 1 and any(s[1] != 1.0 for s in seen):
        return True
    for index, value, where in seen:
        if value != 1.0:
            raise PimcError(f"field {name}: feature {index} has value {value:g}; a field with "
                            "several feature indices is one-hot and takes value 1", where)
    return False


def load_libsvm(paths: Sequence[str | Path], fields: str | Path | None = None,
                encoding: str = "label", max_table: int = 100_000,
                min_count: int = 1) -> tuple[CTRData, ...]:
    """One `CTRData` per file of `paths` (e.g. train, validation, test), sharing fields."""
    if not paths:
        raise PimcError("no libsvm file given; accepted: TRAIN[,VAL[,TEST]]")
    field_map = read_field_map(fields) if fields is not None else None
    data = _Rows()
    for path in paths:
        _read_file(Path(path), field_map, data)
    names = list(data.order)
    dense_names = tuple(n for n in names if _is_numeric(data.rows, n))
    sparse_names = tuple(n for n in names if n not in dense_names)
    nan = (None, float("nan"))
    dense = np.array([[r.get(n, nan)[1] for n in dense_names] for r in data.rows],
                     np.float32).reshape(len(data.rows), len(dense_names))
    encoded = [encode_column([r[n][0] if n in r else "" for r in data.rows], encoding,
                             max_table, min_count) for n in sparse_names]
    sparse = np.stack([e[0] for e in encoded], axis=1) if encoded else \
        np.zeros((len(data.rows), 0), np.int64)
    whole = CTRData(dense, sparse, np.array(data.labels, np.float32),
                    tuple(e[1] for e in encoded), dense_names, sparse_names)
    cuts = np.cumsum(data.sizes)[:-1]
    return tuple(whole.take(idx) for idx in np.split(np.arange(len(whole)), cuts))
