"""The synthetic Criteo-like data set, under the name the demo and the docs use.

The generator lives in `frontend.data.synthetic` (a leaf of the data package), so that the
`synthetic` data spec needs no import from outside the package.
"""

from frontend.data.synthetic import CRITEO_LIKE_TABLES, CTRBatch, SyntheticCTR, bounded_tables

__all__ = ["CTRBatch", "SyntheticCTR", "CRITEO_LIKE_TABLES", "bounded_tables"]
