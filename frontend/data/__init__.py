"""CTR data: loaders for Criteo, Avazu and generic CSV files, preprocessing and splits.

Torch-free, so the compile path and the search can read data. Every loader returns a
`CTRData`; malformed rows raise `PimcError` naming the file and line.
"""

from frontend.data._dataset import CTRData, stratified_split
from frontend.data._encode import encode_column, log_counts, stable_hash
from frontend.data.formats import (
    AVAZU_SPARSE,
    CRITEO_COLUMNS,
    load_avazu,
    load_criteo,
    load_csv,
    load_data,
)
from frontend.data.metrics import auc, constant_logloss, logloss

__all__ = ["CTRData", "stratified_split", "logloss", "auc", "constant_logloss",
           "encode_column", "log_counts", "stable_hash",
           "load_criteo", "load_avazu", "load_csv", "load_data", "CRITEO_COLUMNS",
           "AVAZU_SPARSE"]
