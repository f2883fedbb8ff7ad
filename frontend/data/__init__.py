"""CTR data: loaders for Criteo, Avazu, generic CSV, MovieLens and libsvm/libfm files, the
numeric transform, splits and metrics.

Torch-free, so the compile path and the search can read data. Every loader returns a
`CTRData`; malformed rows raise `PimcError` naming the file and line. `load_splits(spec)`
and `load_data(spec)` read the `--data` spec strings (see `frontend.data.spec`).
"""

from frontend.data._dataset import CTRData, concat, stratified_split
from frontend.data._encode import encode_column, log_counts, stable_hash
from frontend.data.formats import (
    AVAZU_SPARSE,
    CRITEO_COLUMNS,
    load_avazu,
    load_criteo,
    load_csv,
)
from frontend.data.libsvm import load_libsvm
from frontend.data.metrics import auc, constant_logloss, logloss
from frontend.data.movielens import load_movielens
from frontend.data.normalise import NUMERIC, Normaliser
from frontend.data.spec import DATA_KINDS, Splits, load_data, load_splits

__all__ = ["CTRData", "concat", "stratified_split", "logloss", "auc", "constant_logloss",
           "encode_column", "log_counts", "stable_hash",
           "load_criteo", "load_avazu", "load_csv", "load_movielens", "load_libsvm",
           "load_data", "load_splits", "Splits", "DATA_KINDS", "NUMERIC", "Normaliser",
           "CRITEO_COLUMNS", "AVAZU_SPARSE"]
