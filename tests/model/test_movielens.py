"""MovieLens loaders: GroupLens and RecBole files of the same ratings give the same rows;
labels, joins, missing values, the spec, and bad files named by file:line."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from frontend.data import load_data, load_movielens, load_splits
from frontend.data.movielens import CATEGORICAL, GENRES, NUMERIC_COLUMNS
from ir.errors import PimcError

# (user, item, rating); user 3 has no line in the user file, item 40 none in the item file
RATINGS = [(1, 10, 5), (1, 20, 3), (2, 10, 4), (3, 30, 1), (2, 20, 2), (2, 30, 4), (1, 40, 4)]
USERS = {1: (24, "M", "technician", "85711"), 2: (53, "F", "other", "94043")}
ITEMS = {10: ("Toy Story", "01-Jan-1995", ("Animation", "Children's", "Comedy")),
         20: ("Nothing Known", "", ("unknown",)),
         30: ("Heat", "15-Dec-1995", ("Action", "Crime", "Thriller"))}


def write_grouplens(folder: Path, items: dict = ITEMS) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t88125{n:04d}\n"
                                           for n, (u, i, r) in enumerate(RATINGS)))
    (folder / "u.user").write_text("".join(f"{u}|{a}|{g}|{o}|{z}\n"
                                           for u, (a, g, o, z) in USERS.items()))
    lines = []
    for i, (title, date, genres) in items.items():
        flags = "|".join("1" if g in genres else "0" for g in GENRES)
        year = f" ({date[-4:]})" if date else ""
        lines.append(f"{i}|{title}{year}|{date}||http://x/{i}|{flags}\n")
    (folder / "u.item").write_text("".join(lines), encoding="latin-1")
    return folder


def write_recbole(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "ml.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"{u}\t{i}\t{r}\t88125{n:04d}\n" for n, (u, i, r) in enumerate(RATINGS)))
    (folder / "ml.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        + "".join(f"{u}\t{a}\t{g}\t{o}\t{z}\n" for u, (a, g, o, z) in USERS.items()))
    (folder / "ml.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        + "".join(f"{i}\t{t}\t{d[-4:] or 'unkonwn'}\t{' '.join(g)}\n"
                  for i, (t, d, g) in ITEMS.items()))
    return folder


@pytest.fixture
def grouplens(tmp_path):
    return write_grouplens(tmp_path / "gl")


def test_grouplens_rows_labels_and_features(grouplens):
    d = load_movielens(grouplens)
    assert (d.sparse_names, d.dense_names) == (CATEGORICAL, NUMERIC_COLUMNS)
    assert list(d.label) == [1, 0, 1, 0, 0, 1, 1]  # rating >= 4
    ages, years = d.dense[:, 0], d.dense[:, 1]
    assert list(ages[:3]) == [24, 24, 53] and np.isnan(ages[3])  # user 3: no user line
    assert years[0] == 1995 and np.isnan(years[1]) and np.isnan(years[6])  # no date, no item
    users = d.sparse[:, 0]
    assert users[0] == users[1] != users[2] and np.all(users >= 2)
    genre = d.sparse[:, CATEGORICAL.index("genre")]
    assert genre[0] == genre[2] != genre[3] and genre[6] == 0  # item 40: missing genre
    assert d.sparse[3, CATEGORICAL.index("gender")] == 0


def test_grouplens_and_recbole_give_the_same_rows(tmp_path):
    a = load_movielens(write_grouplens(tmp_path / "gl"))
    b = load_movielens(write_recbole(tmp_path / "rb"))
    c = load_movielens(tmp_path / "rb" / "ml.inter")
    for other in (b, c):
        np.testing.assert_array_equal(a.sparse, other.sparse)
        np.testing.assert_array_equal(a.dense, other.dense)  # NaN where missing, in both
        np.testing.assert_array_equal(a.label, other.label)
        assert a.table_sizes == other.table_sizes


def test_recbole_year_from_title_when_the_field_is_not_a_year(tmp_path):
    folder = write_recbole(tmp_path / "rb")
    text = (folder / "ml.item").read_text().replace("Heat\t1995", "Heat (1996)\tV")
    (folder / "ml.item").write_text(text)
    d = load_movielens(folder)
    assert d.dense[3, 1] == 1996
    (folder / "ml.item").write_text(text.replace("Heat (1996)", "Heat"))
    with pytest.raises(PimcError) as err:  # no year in the title either
        load_movielens(folder)
    assert err.value.where == f"{folder / 'ml.item'}:4" and "'V' is not a number" in str(err.value)


@pytest.mark.parametrize("name, old, new, line, message", [
    ("u.data", "1\t20\t3\t", "1\t20\tthree\t", 2, "rating 'three' is not a number"),
    ("u.data", "2\t10\t4\t", "2\t10\t\t", 3, "rating '' is missing"),
    ("u.data", "3\t30\t1\t", "3\t30\t1\t5\t", 4, "5 fields, expected 4"),
    ("u.user", "2|53|", "2|fifty|", 2, "age 'fifty' is not a number"),
    ("u.item", "|http://x/20|1|", "|http://x/20|2|", 2, "genre flags must be 0 or 1"),
    ("u.item", "15-Dec-1995", "15-Dec-19x5", 3, "release date year '19x5' is not a number"),
])
def test_bad_grouplens_files_name_file_and_line(grouplens, name, old, new, line, message):
    path = grouplens / name
    text = path.read_text(encoding="latin-1")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="latin-1")
    with pytest.raises(PimcError) as err:
        load_movielens(grouplens)
    assert err.value.where == f"{path}:{line}" and message in err.value.message
    assert "\n" not in str(err.value)


def test_bad_recbole_header_and_folders(tmp_path):
    folder = write_recbole(tmp_path / "rb")
    inter = folder / "ml.inter"
    inter.write_text(inter.read_text().replace("rating:float", "score:float"))
    with pytest.raises(PimcError, match=r"ml.inter:1: header lacks field\(s\) rating"):
        load_movielens(folder)
    with pytest.raises(PimcError, match="no u.data or .inter file; accepted: a folder"):
        load_movielens(tmp_path)
    (tmp_path / "rb" / "other.inter").write_text("user_id:token\n")
    with pytest.raises(PimcError, match="2 .inter files"):
        load_movielens(folder)


def test_movielens_spec_splits_and_standardises_on_train_only(grouplens, tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    # 70 ratings: enough rows for a stratified 80/10/10 split
    (big / "u.data").write_text("".join(f"{1 + n % 2}\t{(10, 20, 30)[n % 3]}\t{1 + n % 5}\t0\n"
                                        for n in range(70)))
    for name in ("u.user", "u.item"):
        (big / name).write_bytes((grouplens / name).read_bytes())
    s = load_splits(f"movielens:{big}", seed=1)
    assert [len(p) for p in (s.train, s.val, s.test)] == [56, 7, 7]
    raw = load_movielens(big)
    assert s.normaliser.kind == "standard"
    assert np.abs(s.train.dense.mean(axis=0)).max() < 1e-5  # centred on train
    ages = raw.dense[:, 0]
    assert s.normaliser.center[0] != pytest.approx(float(np.nanmean(ages)))  # not all rows
    whole = load_data(f"movielens:{big}:numeric=none", seed=1)
    assert not np.isnan(whole.dense).any() and whole.dense[:, 0].max() == 53
    with pytest.raises(PimcError, match="option 'numerc=log' is not one of numeric="):
        load_data(f"movielens:{big}:numerc=log")


ML100K = Path(os.environ.get("PIMC_MOVIELENS", "/tmp/ml100k"))


@pytest.mark.skipif(not (ML100K / "ml-100k.inter").is_file(),
                    reason="MovieLens-100K not fetched (../shared/data/fetch-movielens-100k.sh)")
def test_movielens_100k():
    d = load_movielens(ML100K)
    assert len(d) == 100_000 and d.positive_rate == pytest.approx(0.5537, abs=1e-4)
    assert d.table_sizes[:2] == (943 + 2, 1682 + 2)  # ids 0 and 1 are missing and rare
    assert np.isnan(d.dense[:, 1]).sum() == 9  # item 267's ratings: year "unkonwn"
