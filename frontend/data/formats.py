"""Loaders for the Criteo Kaggle, Avazu and generic CSV formats (`frontend.data.spec` names
them, with MovieLens and libsvm, in the `--data` spec)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from frontend.data._csv import header_of, parse_numbers, read_rows
from frontend.data._dataset import CTRData
from frontend.data._encode import encode_column, log_counts
from ir.errors import PimcError

__all__ = ["CRITEO_COLUMNS", "AVAZU_SPARSE", "load_criteo", "load_avazu", "load_csv"]

CRITEO_DENSE = tuple(f"I{i}" for i in range(1, 14))
CRITEO_SPARSE = tuple(f"C{i}" for i in range(1, 27))
CRITEO_COLUMNS = ("label", *CRITEO_DENSE, *CRITEO_SPARSE)
AVAZU_SPARSE = ("C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
                "app_domain", "app_category", "device_id", "device_ip", "device_model",
                "device_type", "device_conn_type", "C14", "C15", "C16", "C17", "C18", "C19",
                "C20", "C21")


class _Table:
    """Columns of a file read row by row: name -> list of strings, and each row's line."""

    def __init__(self, path: Path, names: Sequence[str], rows) -> None:
        self.path, self.names = path, list(names)
        self.lines: list[int] = []
        cols: list[list[str]] = [[] for _ in names]
        for line, fields in rows:
            self.lines.append(line)
            for col, v in zip(cols, fields):
                col.append(v)
        self.cols = dict(zip(self.names, cols))
        if not self.lines:
            raise PimcError(f"{path}: no data rows")

    def labels(self, column: str) -> np.ndarray:
        y = parse_numbers(self.path, self.lines, column, self.cols[column])
        bad = np.flatnonzero(~np.isin(y, (0.0, 1.0)))
        if bad.size:
            raise PimcError(f"label column {column}: '{self.cols[column][bad[0]]}' is not 0 "
                            "or 1", f"{self.path}:{self.lines[bad[0]]}")
        return y.astype(np.float32)

    def dense(self, columns: Sequence[str], log: bool = True) -> np.ndarray:
        arrays = [parse_numbers(self.path, self.lines, c, self.cols[c]) for c in columns]
        x = np.stack(arrays, axis=1) if arrays else np.zeros((len(self.lines), 0))
        return log_counts(x) if log else x.astype(np.float32)

    def sparse(self, columns: Sequence[str], encoding: str, max_size: int,
               min_count: int) -> tuple[np.ndarray, tuple[int, ...]]:
        encoded = [encode_column(self.cols[c], encoding, max_size, min_count) for c in columns]
        ids = np.stack([e[0] for e in encoded], axis=1) if encoded else \
            np.zeros((len(self.lines), 0), np.int64)
        return ids, tuple(e[1] for e in encoded)


def load_criteo(path: str | Path, encoding: str = "hash", max_table: int = 100_000,
                min_count: int = 1, limit: int | None = None) -> CTRData:
    """Criteo Kaggle rows: label, I1..I13 (counts), C1..C26 (hashed categoricals).

    The original files are tab-separated without a header; a file whose first line starts
    with `label,` is read as comma-separated with that header (DeepCTR's sample).
    """
    path = Path(path)
    with_header = path.is_file() and header_of(path, ",")[:1] == ["label"]
    sep = "," if with_header else "\t"
    if with_header and header_of(path, ",") != list(CRITEO_COLUMNS):
        raise PimcError("header is not label,I1..I13,C1..C26", f"{path}:1")
    t = _Table(path, CRITEO_COLUMNS, read_rows(path, sep, 40, with_header, limit))
    ids, sizes = t.sparse(CRITEO_SPARSE, encoding, max_table, min_count)
    return CTRData(t.dense(CRITEO_DENSE), ids, t.labels("label"), sizes, CRITEO_DENSE,
                   CRITEO_SPARSE)


def _checked_header(path: Path, need: Sequence[str]) -> list[str]:
    header = header_of(path, ",") if path.is_file() else []
    if not path.is_file():
        raise PimcError(f"{path}: no such file; accepted: a path to a CTR data file")
    missing = [c for c in need if c not in header]
    if missing:
        raise PimcError(f"header lacks column(s) {', '.join(missing)}", f"{path}:1")
    return header


def load_avazu(path: str | Path, encoding: str = "label", max_table: int = 100_000,
               min_count: int = 1, limit: int | None = None) -> CTRData:
    """Raw Avazu rows (CSV with a header): `click` and 21 categoricals, plus the hour of day
    from `hour` (YYMMDDHH) as a 22nd categorical; `id` is dropped."""
    path = Path(path)
    header = _checked_header(path, ("click", "hour", *AVAZU_SPARSE))
    t = _Table(path, header, read_rows(path, ",", len(header), True, limit))
    t.cols["hour_of_day"] = [h[-2:] for h in t.cols["hour"]]
    names = (*AVAZU_SPARSE, "hour_of_day")
    ids, sizes = t.sparse(names, encoding, max_table, min_count)
    return CTRData(t.dense(()), ids, t.labels("click"), sizes, (), names)


def _is_float_text(values: Sequence[str]) -> bool:
    """A column written with decimals or exponents (not ids); empty values are ignored."""
    return any(("." in v or "e" in v.lower()) for v in values if v) and \
        all(_number(v) for v in values if v)


def _number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def load_csv(path: str | Path, label: str = "label", dense: Sequence[str] | None = None,
             drop: Sequence[str] = (), encoding: str = "label", max_table: int = 100_000,
             min_count: int = 1, limit: int | None = None) -> CTRData:
    """A CSV with a header and a named 0/1 label column; other columns are features.

    `dense` names the numeric columns (default: those written as decimals, e.g. `3.9`);
    the rest are categoricals, label-encoded (ids stay categorical even when numeric).
    Dense columns are kept as read, NaN where empty (not log-transformed: they are not always
    counts); `frontend.data.normalise` transforms them before training.
    """
    path = Path(path)
    header = _checked_header(path, (label, *(dense or ()), *drop))
    t = _Table(path, header, read_rows(path, ",", len(header), True, limit))
    features = [c for c in header if c != label and c not in drop]
    if dense is None:
        dense = [c for c in features if _is_float_text(t.cols[c])]
    sparse = [c for c in features if c not in dense]
    ids, sizes = t.sparse(sparse, encoding, max_table, min_count)
    return CTRData(t.dense(dense, log=False), ids, t.labels(label), sizes, tuple(dense),
                   tuple(sparse))
