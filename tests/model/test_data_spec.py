"""The numeric transform (fitted on training rows only, missing values) and the `--data`
spec strings: options per kind, defaults, and the errors for bad specs."""

from __future__ import annotations

import numpy as np
import pytest

from frontend.data import (
    CTRData,
    Normaliser,
    load_csv,
    load_data,
    load_splits,
    stratified_split,
)
from ir.errors import PimcError


def _data(dense) -> CTRData:
    dense = np.array(dense, np.float32).reshape(len(dense), -1)
    n = len(dense)
    return CTRData(dense, np.zeros((n, 1), np.int64), (np.arange(n) % 2).astype(np.float32),
                   (3,), tuple(f"x{i}" for i in range(dense.shape[1])), ("c",))


def test_standard_uses_training_statistics_and_fills_missing():
    train = _data([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0]])
    fitted = Normaliser.fit(train, "standard")
    assert fitted.center == (2.0, 5.0) and fitted.scale == (1.0, 1.0)  # constant column: 1
    out = fitted.apply(_data([[4.0, 7.0], [np.nan, np.nan]]))
    np.testing.assert_allclose(out.dense, [[2.0, 2.0], [0.0, 0.0]])  # missing -> the mean
    assert out.dense.dtype == np.float32


def test_log_and_none_read_missing_as_zero():
    d = _data([[np.e - 1], [-3.0], [np.nan]])
    np.testing.assert_allclose(Normaliser.fit(d, "log").apply(d).dense[:, 0], [1.0, 0.0, 0.0],
                               rtol=1e-6)
    np.testing.assert_array_equal(Normaliser.fit(d, "none").apply(d).dense[:, 0],
                                  np.array([np.e - 1, -3.0, 0.0], np.float32))
    with pytest.raises(PimcError, match="unknown numeric transform 'zscore'; accepted: log"):
        Normaliser.fit(d, "zscore")
    with pytest.raises(PimcError, match="fitted on 1 numeric columns; the data has 2"):
        Normaliser.fit(d, "none").apply(_data([[1.0, 2.0]]))


def test_csv_spec_standardises_a_year_column(tmp_path):
    rows = [f"{n % 2},{1950 + 7 * (n % 9)},{'abc'[n % 3]}" for n in range(40)]
    path = tmp_path / "d.csv"
    path.write_text("y,year,kind\n" + "\n".join(rows[:5]) + "\n1,,a\n" + "\n".join(rows[5:])
                    + "\n")
    raw = load_data(f"csv:{path}:label=y:dense=year:numeric=none")
    assert raw.dense_names == ("year",) and raw.dense[5, 0] == 0.0  # the empty year
    data = load_data(f"csv:{path}:label=y:dense=year", seed=3)
    train = stratified_split(data, seed=3)[0]
    # train rows: mean 0, sd 1 (a little under 1 if the missing year, set to 0, is there)
    assert abs(float(train.dense.mean())) < 1e-5
    assert float(train.dense.std()) == pytest.approx(1.0, abs=0.02)
    assert data.dense[5, 0] == pytest.approx(0.0, abs=1e-6)  # missing: the training mean
    s = load_splits(f"csv:{path}:dense=year:label=y", seed=3)
    np.testing.assert_array_equal(s.train.dense, train.dense)  # the same fit either way
    years = load_csv(path, label="y", dense=("year",)).dense[:, 0]
    assert np.isnan(years[5])  # the loader keeps "missing" for the transform to fill
    assert s.normaliser.center[0] != pytest.approx(float(np.nanmean(years)))  # not all rows


def test_default_transforms_leave_criteo_as_read(data_dir):
    path = data_dir / "criteo_sample.txt"
    assert load_splits(f"criteo:{path}").normaliser.kind == "none"
    a, b = load_data(f"criteo:{path}"), load_data(f"criteo:{path}:numeric=standard")
    assert a.dense.min() >= 0 and b.dense.min() < 0


@pytest.mark.parametrize("spec, message", [
    ("parquet:x", "unknown data 'parquet:x'; accepted: synthetic, criteo:PATH"),
    ("movielens", "data 'movielens' names no file; accepted: movielens:DIR"),
    ("libsvm:", "names no file; accepted: libsvm:TRAIN[,VAL[,TEST]][:fields=FILE]"),
    ("csv:x.csv:label", "option 'label' is not one of label=..., dense=..., drop=..., numeric=..."),
    ("criteo:x:label=y", "option 'label=y' is not one of numeric=..."),
    ("synthetic:numeric=minmax", "numeric=minmax; accepted: log, standard, none"),
])
def test_bad_specs(spec, message):
    with pytest.raises(PimcError) as err:
        load_data(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_synthetic_splits_match_the_old_path():
    s = load_splits("synthetic", rows=2000, max_table=100, seed=4)
    old = stratified_split(load_data("synthetic", rows=2000, max_table=100, seed=4), seed=4)
    for a, b in zip((s.train, s.val, s.test), old):
        np.testing.assert_array_equal(a.sparse, b.sparse)
        np.testing.assert_array_equal(a.dense, b.dense)
