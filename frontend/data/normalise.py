"""Numeric features: one documented transform, fitted on the training split only.

Loaders keep numeric columns as read, with NaN for a missing value. Before training, one
transform applies to every numeric column of a data set:

- `log`: y = log(1 + max(x, 0)), a missing value read as 0 (DLRM's recipe for counts);
- `standard`: y = (x - m) / s, where m and s are the column's mean and standard deviation
  over the training rows (s = 1 when the column is constant there); a missing value
  becomes m, so 0 after the transform;
- `none`: y = x, a missing value read as 0.

Fitting on the training rows only keeps validation and test statistics out of the model
(a release year of about 1996 fed unscaled made supernet training diverge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frontend.data._dataset import CTRData
from frontend.data._encode import log_counts
from ir.errors import PimcError

__all__ = ["NUMERIC", "Normaliser"]

NUMERIC = ("log", "standard", "none")


@dataclass(frozen=True)
class Normaliser:
    """A fitted transform of the numeric columns: `kind` and, per column, (center, scale)."""

    kind: str
    center: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()

    @staticmethod
    def fit(train: CTRData, kind: str) -> Normaliser:
        """The transform `kind` with its statistics taken from `train`'s rows."""
        if kind not in NUMERIC:
            raise PimcError(f"unknown numeric transform '{kind}'; accepted: "
                            f"{', '.join(NUMERIC)}")
        if kind != "standard" or train.num_dense == 0:
            return Normaliser(kind, (0.0,) * train.num_dense, (1.0,) * train.num_dense)
        x = train.dense.astype(np.float64)
        seen = ~np.isnan(x)
        count = seen.sum(axis=0)
        # a column with no value in the training rows is all "missing": centre 0, scale 1
        mean = np.where(count > 0, np.nansum(x, axis=0) / np.maximum(count, 1), 0.0)
        var = np.where(seen, (np.nan_to_num(x) - mean) ** 2, 0.0).sum(axis=0) / \
            np.maximum(count, 1)
        std = np.sqrt(var)
        scale = np.where(std > 1e-12, std, 1.0)
        return Normaliser(kind, tuple(map(float, mean)), tuple(map(float, scale)))

    def apply(self, data: CTRData) -> CTRData:
        """`data` with its numeric columns transformed; no NaN is left."""
        if data.num_dense != len(self.center):
            raise PimcError(f"the transform was fitted on {len(self.center)} numeric columns; "
                            f"the data has {data.num_dense}")
        if self.kind == "log":
            dense = log_counts(data.dense)
        else:
            center = np.array(self.center, np.float64)
            x = np.where(np.isnan(data.dense), center, data.dense.astype(np.float64))
            dense = ((x - center) / np.array(self.scale, np.float64)).astype(np.float32)
        return CTRData(dense, data.sparse, data.label, data.table_sizes, data.dense_names,
                       data.sparse_names)

    def describe(self, names: tuple[str, ...]) -> dict:
        """The transform as plain data (for summaries and logs)."""
        return {"transform": self.kind,
                "columns": {n: {"center": c, "scale": s}
                            for n, c, s in zip(names, self.center, self.scale)}}
