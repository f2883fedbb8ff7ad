"""Reading delimited text with line numbers, so every bad row is reported where it is."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ir.errors import PimcError

__all__ = ["read_rows", "header_of", "parse_numbers"]


def header_of(path: Path, sep: str) -> list[str]:
    """The first line's fields."""
    with open(path, newline="") as f:
        return next(csv.reader(f, delimiter=sep), [])


def read_rows(path: Path, sep: str, width: int, skip_header: bool,
              limit: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each data row; a row with another field count is an error."""
    if not path.is_file():
        raise PimcError(f"{path}: no such file; accepted: a path to a CTR data file")
    with open(path, newline="") as f:
        reader = csv.reader(f, delimiter=sep)
        count = 0
        for fields in reader:
            line = reader.line_num
            if skip_header and line == 1:
                continue
            if not fields:
                continue
            if len(fields) != width:
                raise PimcError(f"{len(fields)} fields, expected {width}", f"{path}:{line}")
            yield line, fields
            count += 1
            if limit is not None and count >= limit:
                return


def parse_numbers(path: Path, lines: list[int], column: str, values: list[str]) -> np.ndarray:
    """A numeric column (empty = NaN); a non-numeric value is an error at its line."""
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        try:
            out[i] = float(v) if v.strip() else np.nan
        except ValueError:
            raise PimcError(f"column {column}: '{v}' is not a number",
                            f"{path}:{lines[i]}") from None
    return out
