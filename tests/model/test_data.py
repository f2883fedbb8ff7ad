"""CTR loaders on the real samples, malformed rows, preprocessing, split, synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from frontend.data import (
    auc,
    constant_logloss,
    encode_column,
    load_avazu,
    load_criteo,
    load_csv,
    load_data,
    logloss,
    stratified_split,
)
from frontend.synthetic import SyntheticCTR
from ir.errors import PimcError

CRITEO_FILES = {"criteo_sample.txt": 200, "criteo_sample_torchrechub.csv": 115}
CSV_FILES = {  # file: (label, drop, rows, dense, sparse)
    "avazu_preprocessed_torchrechub_train.csv": ("label", (), 70, 0, 22),
    "taobao_ad_sample_fuxictr.csv": ("clk", (), 100, 1, 17),
    "aliexpress_sample_torchrechub.csv": ("click", ("conversion",), 100, 60, 20),
}


@pytest.mark.parametrize("name", sorted(CRITEO_FILES))
@pytest.mark.parametrize("encoding", ["hash", "label"])
def test_criteo_files(data_dir, name, encoding):
    d = load_criteo(data_dir / name, encoding=encoding, max_table=1000)
    assert (len(d), d.num_dense, d.num_sparse) == (CRITEO_FILES[name], 13, 26)
    assert d.dense.dtype == np.float32 and d.sparse.dtype == np.int64
    assert np.all(d.dense >= 0)  # log(1 + max(x, 0))
    assert np.all((d.sparse >= 0) & (d.sparse < np.array(d.table_sizes)))
    assert np.all(np.array(d.table_sizes) <= 1000)
    assert set(np.unique(d.label)) == {0.0, 1.0}


def test_criteo_missing_values_get_id_zero(data_dir):
    d = load_criteo(data_dir / "criteo_sample.txt", encoding="label")
    # row 1 of the file leaves C19 and C20 empty
    assert d.sparse[0, 18] == 0 and d.sparse[0, 19] == 0 and d.sparse[0, 0] >= 2
    assert d.dense[0, 0] == 0.0 and d.dense[0, 1] == pytest.approx(np.log1p(3))


def test_criteo_tab_separated_without_header(tmp_path, data_dir):
    lines = (data_dir / "criteo_sample.txt").read_text().splitlines()[1:6]
    path = tmp_path / "train.txt"
    path.write_text("".join(line.replace(",", "\t") + "\n" for line in lines))
    a = load_criteo(path, encoding="hash")
    b = load_criteo(data_dir / "criteo_sample.txt", encoding="hash", limit=5)
    np.testing.assert_array_equal(a.sparse, b.sparse)
    np.testing.assert_array_equal(a.dense, b.dense)


def test_avazu_raw(data_dir):
    d = load_avazu(data_dir / "avazu_sample.txt")
    assert (len(d), d.num_dense, d.num_sparse) == (100, 0, 22)
    assert d.sparse_names[-1] == "hour_of_day" and d.positive_rate == pytest.approx(0.2)


@pytest.mark.parametrize("name", sorted(CSV_FILES))
def test_generic_csv(data_dir, name):
    label, drop, rows, dense, sparse = CSV_FILES[name]
    d = load_csv(data_dir / name, label=label, drop=drop)
    assert (len(d), d.num_dense, d.num_sparse) == (rows, dense, sparse)
    assert label not in d.sparse_names and label not in d.dense_names


@pytest.mark.parametrize("row, message", [
    ("0,1,2\n", "3 fields, expected 40"),
    ("0,abc" + ",1" * 12 + ",a" * 26 + "\n", "column I1: 'abc' is not a number"),
    ("2" + ",1" * 13 + ",a" * 26 + "\n", "label column label: '2' is not 0 or 1"),
])
def test_malformed_criteo_rows_name_file_and_line(tmp_path, data_dir, row, message):
    good = (data_dir / "criteo_sample.txt").read_text().splitlines()[:4]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(good) + "\n" + row)
    with pytest.raises(PimcError) as err:
        load_criteo(path)
    assert err.value.where == f"{path}:5" and message in err.value.message


def test_malformed_generic_row(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("clk,a,b\n1,x,y\n0,x\n")
    with pytest.raises(PimcError, match=r"g.csv:3: 2 fields, expected 3"):
        load_csv(path, label="clk")


def test_label_encoding_bounds_and_rare_id():
    values = ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d", "", "e"]
    ids, size = encode_column(values, "label", max_size=4)
    assert size == 4 and list(ids[:10]) == [2] * 5 + [3] * 3 + [1] * 2
    assert ids[11] == 0 and ids[10] == 1 and ids[12] == 1
    hashed, hsize = encode_column(values, "hash", max_size=16)
    assert hsize == 16 and hashed[11] == 0 and np.all((hashed < 16))


def test_stratified_split_keeps_label_balance(criteo):
    parts = stratified_split(criteo, (0.5, 0.25, 0.25), seed=3)
    assert [len(p) for p in parts] == [100, 50, 50]
    for p in parts:
        assert abs(p.positive_rate - criteo.positive_rate) < 0.02
    again = stratified_split(criteo, (0.5, 0.25, 0.25), seed=3)
    np.testing.assert_array_equal(parts[1].sparse, again[1].sparse)


def test_synthetic_has_criteo_schema_and_power_law():
    gen = SyntheticCTR(seed=1)
    d = gen.dataset(40_000, max_table=None)
    assert (d.num_dense, d.num_sparse) == (13, 26)
    assert min(d.table_sizes) < 100 and max(d.table_sizes) > 1_000_000
    assert 0.2 < d.positive_rate < 0.3
    counts = np.sort(np.bincount(d.sparse[:, 2]))[::-1]
    assert counts[0] > 20 * counts[100]  # a few hot ids and a long tail
    small = gen.dataset(1000, max_table=500)
    assert max(small.table_sizes) == 500 and small.sparse.max() < 500


def test_load_data_specs(data_dir):
    assert load_data("synthetic", rows=500).num_sparse == 26
    assert len(load_data(f"criteo:{data_dir / 'criteo_sample.txt'}")) == 200
    d = load_data(f"csv:{data_dir / 'taobao_ad_sample_fuxictr.csv'}:label=clk")
    assert d.num_sparse == 17
    with pytest.raises(PimcError, match="accepted: synthetic, criteo:PATH"):
        load_data("parquet:x")


def test_metrics():
    y = np.array([0, 0, 1, 1])
    assert auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert logloss(y, np.full(4, 0.5)) == pytest.approx(np.log(2))
    assert constant_logloss(y) == pytest.approx(np.log(2))
