"""Column preprocessing as the CTR literature does it.

Counts become `log(1 + max(x, 0))` with a missing value as 0 (DLRM's Criteo recipe).
Categoricals become ids in a table of bounded size, with id 0 reserved for a missing value:

- `hash`: id = 1 + stable_hash(value) mod (size - 1) (no vocabulary; tables of any size);
- `label`: ids 2.. in order of decreasing frequency (ties by value), values seen fewer than
  `min_count` times or beyond the table's size share id 1, the "rare" id (DeepCTR/FuxiCTR).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ir.errors import PimcError

__all__ = ["ENCODINGS", "log_counts", "encode_column", "stable_hash"]

ENCODINGS = ("hash", "label")
MISSING, RARE = 0, 1


def log_counts(values: np.ndarray) -> np.ndarray:
    """log(1 + x) of counts, negatives clipped to 0, NaN (missing) as 0."""
    x = np.nan_to_num(values.astype(np.float64), nan=0.0)
    return np.log1p(np.maximum(x, 0.0)).astype(np.float32)


def stable_hash(value: str) -> int:
    """A hash that is the same in every process (Python's `hash` is salted)."""
    return zlib.crc32(value.encode("utf-8"))


def _hash_ids(values: Sequence[str], size: int) -> np.ndarray:
    return np.array([MISSING if v == "" else 1 + stable_hash(v) % (size - 1) for v in values],
                    dtype=np.int64)


def _label_ids(values: Sequence[str], size: int, min_count: int) -> tuple[np.ndarray, int]:
    counts = Counter(v for v in values if v != "")
    ranked = sorted((v for v, c in counts.items() if c >= min_count),
                    key=lambda v: (-counts[v], v))[:size - 2]
    vocab = {v: i + 2 for i, v in enumerate(ranked)}
    ids = [MISSING if v == "" else vocab.get(v, RARE) for v in values]
    return np.array(ids, dtype=np.int64), len(vocab) + 2


def encode_column(values: Sequence[str], encoding: str = "label", max_size: int = 100_000,
                  min_count: int = 1) -> tuple[np.ndarray, int]:
    """Ids of one categorical column and its table size (at most `max_size`)."""
    if encoding not in ENCODINGS:
        raise PimcError(f"unknown categorical encoding '{encoding}'; accepted: "
                        f"{', '.join(ENCODINGS)}")
    if max_size < 3:
        raise PimcError(f"table size bound {max_size} is too small; accepted: 3 or more")
    if encoding == "hash":
        return _hash_ids(values, max_size), max_size
    return _label_ids(values, max_size, min_count)
