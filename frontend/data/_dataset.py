"""The in-memory CTR data set every loader returns, and the seeded stratified split."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ir.errors import PimcError

__all__ = ["CTRData", "stratified_split", "concat"]


@dataclass(frozen=True)
class CTRData:
    """Rows of a CTR data set: dense features, categorical ids and a 0/1 label.

    `sparse[:, j]` lies in `[0, table_sizes[j])`; id 0 is "missing" and, for label-encoded
    columns, id 1 is "rare or unseen" (see `frontend.data._encode`).
    """

    dense: np.ndarray    # [n, num_dense] float32; NaN (missing) only before normalisation
    sparse: np.ndarray   # [n, num_sparse] int64
    label: np.ndarray    # [n] float32 in {0, 1}
    table_sizes: tuple[int, ...]
    dense_names: tuple[str, ...] = ()
    sparse_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.label)
        if self.dense.shape[0] != n or self.sparse.shape[0] != n:
            raise PimcError(f"CTRData: {n} labels but dense has {self.dense.shape[0]} rows "
                            f"and sparse {self.sparse.shape[0]}")
        if self.sparse.shape[1] != len(self.table_sizes):
            raise PimcError(f"CTRData: {self.sparse.shape[1]} sparse columns but "
                            f"{len(self.table_sizes)} table sizes")

    def __len__(self) -> int:
        return len(self.label)

    @property
    def num_dense(self) -> int:
        return self.dense.shape[1]

    @property
    def num_sparse(self) -> int:
        return self.sparse.shape[1]

    @property
    def positive_rate(self) -> float:
        return float(self.label.mean()) if len(self) else 0.0

    def take(self, index: np.ndarray) -> CTRData:
        """The rows at `index`, in that order."""
        return CTRData(self.dense[index], self.sparse[index], self.label[index],
                       self.table_sizes, self.dense_names, self.sparse_names)

    def batches(self, size: int, seed: int | None = None) -> Iterator[CTRData]:
        """Batches of `size` rows (the last may be shorter); shuffled when `seed` is given."""
        order = np.arange(len(self))
        if seed is not None:
            order = np.random.default_rng(seed).permutation(len(self))
        for start in range(0, len(self), size):
            yield self.take(order[start:start + size])


def stratified_split(data: CTRData, fractions: tuple[float, ...] = (0.8, 0.1, 0.1),
                     seed: int = 0) -> tuple[CTRData, ...]:
    """Split into parts of the given fractions, each with the label balance of the whole."""
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise PimcError(f"split fractions {list(fractions)} must be non-negative and sum to 1")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for cls in (0.0, 1.0):
        rows = rng.permutation(np.flatnonzero(data.label == cls))
        cuts = np.round(np.cumsum(fractions)[:-1] * len(rows)).astype(int)
        for part, chunk in zip(parts, np.split(rows, cuts)):
            part.append(chunk)
    return tuple(data.take(rng.permutation(np.concatenate(p))) for p in parts)


def concat(parts: tuple[CTRData, ...] | list[CTRData]) -> CTRData:
    """The rows of `parts` one after the other (they share columns and tables)."""
    first = parts[0]
    return CTRData(np.concatenate([p.dense for p in parts]),
                   np.concatenate([p.sparse for p in parts]),
                   np.concatenate([p.label for p in parts]), first.table_sizes,
                   first.dense_names, first.sparse_names)
