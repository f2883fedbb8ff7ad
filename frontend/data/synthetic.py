"""A synthetic CTR data set with the Criteo schema: the built-in default, no file needed.

Rows have 13 count-like dense features and 26 categorical features whose ids follow a
power law (a few hot ids, a long tail), over tables from tens to millions of ids. Labels
come from a hidden teacher: a logistic model over the dense features, per-id biases and a
few planted pairwise interactions between categorical fields, with its intercept set so
that about a quarter of the rows are positive, as in Criteo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from frontend.data._dataset import CTRData

__all__ = ["CTRBatch", "SyntheticCTR", "CRITEO_LIKE_TABLES", "bounded_tables"]

# Table sizes spread from tens to millions of ids, like Criteo's 26 fields.
CRITEO_LIKE_TABLES: tuple[int, ...] = (
    1460, 583, 10_131_227, 2_202_608, 305, 24, 12_517, 633, 3, 93_145, 5_683, 8_351_593,
    3_194, 27, 14_992, 5_461_306, 10, 5_652, 2_173, 4, 7_046_547, 18, 15, 286_181, 105,
    142_572,
)


def bounded_tables(sizes: tuple[int, ...], max_table: int | None) -> tuple[int, ...]:
    """Table sizes capped at `max_table` (ids are folded in by modulo, like hashing)."""
    return sizes if max_table is None else tuple(min(s, max_table) for s in sizes)


@dataclass(frozen=True)
class CTRBatch:
    dense: np.ndarray   # [n, num_dense] float32, log(1 + count)
    sparse: np.ndarray  # [n, num_sparse] int64 ids, column j in [0, table_sizes[j])
    label: np.ndarray   # [n] float32 in {0, 1}


@dataclass(frozen=True)
class SyntheticCTR:
    """Deterministic generator: the same seed gives the same rows and the same teacher."""

    table_sizes: tuple[int, ...] = CRITEO_LIKE_TABLES
    num_dense: int = 13
    zipf: float = 1.2
    positive_rate: float = 0.25
    interactions: int = 6
    seed: int = 0
    _teacher: dict = field(default_factory=dict, repr=False, compare=False)

    def _rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream])

    def _ids(self, rng: np.random.Generator, n: int, size: int) -> np.ndarray:
        # Zipf ranks folded into the table, then scrambled so hot ids are not all small.
        ranks = rng.zipf(self.zipf, n) - 1
        return (ranks * 2_654_435_761 % size).astype(np.int64)

    def teacher(self) -> dict:
        if not self._teacher:
            rng = self._rng(1)
            f = len(self.table_sizes)
            pairs = rng.choice(f * f, self.interactions, replace=False)
            self._teacher.update(
                w_dense=rng.normal(0, 0.4, self.num_dense),
                pairs=[(int(p) // f, int(p) % f) for p in pairs if p // f != p % f],
                salt=rng.integers(1, 2**31, f),
            )
            # The intercept is calibrated once, on a sample, to the wanted positive rate.
            sample = self._rows(self._rng(2), 20_000)
            self._teacher["bias"] = float(np.quantile(self._logit(*sample),
                                                      1 - self.positive_rate))
        return self._teacher

    def _logit(self, dense: np.ndarray, sparse: np.ndarray) -> np.ndarray:
        t = self.teacher()
        # A per-id effect from a hash, so tables of millions need no stored weights.
        effect = ((sparse * t["salt"]) % 1009 / 1009.0 - 0.5) * 1.2
        logit = dense @ t["w_dense"] * 0.3 + effect.sum(axis=1) * 0.4
        for a, b in t["pairs"]:
            logit += 1.5 * np.sign(effect[:, a]) * np.sign(effect[:, b])
        return logit

    def _rows(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.lognormal(1.0, 1.5, (n, self.num_dense)).astype(np.int64)
        dense = np.log1p(counts).astype(np.float32)
        sparse = np.stack([self._ids(rng, n, s) for s in self.table_sizes], axis=1)
        return dense, sparse

    def batch(self, n: int, start: int = 0) -> CTRBatch:
        """A batch of n rows; different `start`s give independent batches."""
        rng = self._rng(1000 + start)
        dense, sparse = self._rows(rng, n)
        logit = self._logit(dense, sparse) - self.teacher()["bias"]
        prob = 1 / (1 + np.exp(-logit * 2.0))
        label = (rng.random(n) < prob).astype(np.float32)
        return CTRBatch(dense, sparse, label)

    def dataset(self, n: int, start: int = 0, max_table: int | None = None,
                chunk: int = 50_000):
        """`n` rows as a `CTRData`; ids folded into tables of at most `max_table` rows (the
        labels still come from the unfolded ids)."""
        parts = [self.batch(min(chunk, n - i), start + i // chunk) for i in range(0, n, chunk)]
        sizes = bounded_tables(self.table_sizes, max_table)
        sparse = np.concatenate([p.sparse for p in parts]) % np.array(sizes, dtype=np.int64)
        return CTRData(np.concatenate([p.dense for p in parts]), sparse,
                       np.concatenate([p.label for p in parts]), sizes,
                       tuple(f"I{i + 1}" for i in range(self.num_dense)),
                       tuple(f"C{j + 1}" for j in range(len(self.table_sizes))))
