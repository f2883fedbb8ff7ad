"""MovieLens as a CTR task: GroupLens files (`u.data`, `u.user`, `u.item` of ml-100k) or
RecBole atomic files (`NAME.inter`, `NAME.user`, `NAME.item`).

Each rating is a row; its label is 1 when the rating is at least `threshold` (4 of 5). The
rating's user and movie add their features: categorical `user_id`, `item_id`, `gender`,
`occupation`, `zip_code` and `genre` (the movie's set of genres as one value, e.g.
"Animation Children's Comedy"); numeric `age` and `release_year` (left as read, NaN when
missing: see `frontend.data.normalise`). A rating whose user or movie is not in the user or
item file gets missing values for their features.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from frontend.data._dataset import CTRData
from frontend.data._encode import encode_column
from ir.errors import PimcError

__all__ = ["load_movielens", "GENRES", "CATEGORICAL", "NUMERIC_COLUMNS"]

# The 19 genre flags of u.item, in file order (GroupLens ml-100k README, u.genre).
GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western")
USER_COLUMNS = ("gender", "occupation", "zip_code")
CATEGORICAL = ("user_id", "item_id", *USER_COLUMNS, "genre")
NUMERIC_COLUMNS = ("age", "release_year")
# Spellings of "no value" in numeric columns; RecBole's ml-100k writes item 267's year as
# "unkonwn".
MISSING = frozenset({"", "unknown", "unkonwn", "na", "nan", "null", "none", "?"})
ACCEPTED = "a folder with u.data, u.user, u.item (GroupLens) or NAME.inter, NAME.user, " \
    "NAME.item (RecBole)"


@dataclass
class _Ratings:
    """What the files say: ratings, and the features of each user and movie by id."""

    users: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    ratings: list[float] = field(default_factory=list)
    user_features: dict[str, dict] = field(default_factory=dict)
    item_features: dict[str, dict] = field(default_factory=dict)


def _lines(path: Path, sep: str, width: int | None,
           encoding: str = "utf-8") -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-empty line; no quoting (titles hold quotes)."""
    if not path.is_file():
        raise PimcError(f"{path}: no such file; accepted: {ACCEPTED}")
    with open(path, encoding=encoding, errors="replace") as f:
        for number, text in enumerate(f, start=1):
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            fields = text.split(sep)
            if width is not None and len(fields) != width:
                raise PimcError(f"{len(fields)} fields, expected {width}", f"{path}:{number}")
            yield number, fields


def _number(value: str, what: str, where: str) -> float:
    if value.strip().lower() in MISSING:
        return float("nan")
    try:
        return float(value)
    except ValueError:
        raise PimcError(f"{what} '{value}' is not a number", where) from None


def _add_rating(out: _Ratings, user: str, item: str, rating: str, where: str) -> None:
    value = _number(rating, "rating", where)
    if np.isnan(value):
        raise PimcError(f"rating '{rating}' is missing; accepted: a number", where)
    out.users.append(user.strip())
    out.items.append(item.strip())
    out.ratings.append(value)


def _year(date: str, where: str) -> float:
    """The year of a GroupLens release date such as 01-Jan-1995 (empty: missing)."""
    return _number(date.rsplit("-", 1)[-1], "release date year", where)


def _grouplens(folder: Path) -> _Ratings:
    out = _Ratings()
    for line, (user, item, rating, _) in _lines(folder / "u.data", "\t", 4):
        _add_rating(out, user, item, rating, f"{folder / 'u.data'}:{line}")
    for line, (user, age, *rest) in _lines(folder / "u.user", "|", 5):
        out.user_features[user.strip()] = {
            "age": _number(age, "age", f"{folder / 'u.user'}:{line}"),
            **dict(zip(USER_COLUMNS, (v.strip() for v in rest)))}
    path = folder / "u.item"
    for line, fields in _lines(path, "|", 5 + len(GENRES), encoding="latin-1"):
        flags = fields[5:]
        if any(f not in ("0", "1") for f in flags):
            raise PimcError("genre flags must be 0 or 1", f"{path}:{line}")
        out.item_features[fields[0].strip()] = {
            "release_year": _year(fields[2], f"{path}:{line}"),
            "genre": " ".join(g for g, f in zip(GENRES, flags) if f == "1")}
    return out


def _atomic(path: Path, need: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """Rows of a RecBole atomic file (header `name:type`, tab-separated) as dicts."""
    rows = _lines(path, "\t", None)
    header = [h.split(":", 1)[0] for h in next(rows, (1, []))[1]]
    missing = [c for c in need if c not in header]
    if missing:
        raise PimcError(f"header lacks field(s) {', '.join(missing)}", f"{path}:1")
    for line, fields in rows:
        if len(fields) != len(header):
            raise PimcError(f"{len(fields)} fields, expected {len(header)}", f"{path}:{line}")
        yield f"{path}:{line}", dict(zip(header, fields))


def _recbole(inter: Path) -> _Ratings:
    out = _Ratings()
    for where, row in _atomic(inter, ("user_id", "item_id", "rating")):
        _add_rating(out, row["user_id"], row["item_id"], row["rating"], where)
    for where, row in _atomic(inter.with_suffix(".user"), ("user_id",)):
        out.user_features[row["user_id"].strip()] = {
            "age": _number(row.get("age", ""), "age", where),
            **{c: row.get(c, "").strip() for c in USER_COLUMNS}}
    for where, row in _atomic(inter.with_suffix(".item"), ("item_id",)):
        # ml-100k names the genre field `class`, ml-1m `genre`
        genre = row.get("class", row.get("genre", ""))
        out.item_features[row["item_id"].strip()] = {
            "release_year": _recbole_year(row, where),
            "genre": " ".join(genre.split())}
    return out


def _recbole_year(row: dict[str, str], where: str) -> float:
    """`release_year`, or the year a title ends with, "(1995)", when the field is not a
    number (RecBole's ml-100k has year "V" and title "... (1995)" for item 1412)."""
    year, title = row.get("release_year", ""), row.get("movie_title", "").strip()
    match = re.search(r"\((\d{4})\)$", title)
    if match and not _is_number(year) and year.strip().lower() not in MISSING:
        return float(match.group(1))
    return _number(year, "release_year", where)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read(path: Path) -> _Ratings:
    if path.is_file() and path.suffix == ".inter":
        return _recbole(path)
    if (path / "u.data").is_file():
        return _grouplens(path)
    inters = sorted(path.glob("*.inter")) if path.is_dir() else []
    if len(inters) == 1:
        return _recbole(inters[0])
    found = f"{len(inters)} .inter files" if inters else "no u.data or .inter file"
    raise PimcError(f"{path}: {found}; accepted: {ACCEPTED}")


def load_movielens(path: str | Path, encoding: str = "label", max_table: int = 100_000,
                   min_count: int = 1, threshold: float = 4.0) -> CTRData:
    """The ratings in `path` (a folder, or a RecBole `.inter` file) as CTR rows."""
    r = _read(Path(path))
    if not r.ratings:
        raise PimcError(f"{path}: no ratings")
    users = [r.user_features.get(u, {}) for u in r.users]
    items = [r.item_features.get(i, {}) for i in r.items]
    columns = {"user_id": r.users, "item_id": r.items,
               **{c: [u.get(c, "") for u in users] for c in USER_COLUMNS},
               "genre": [i.get("genre", "") for i in items]}
    encoded = [encode_column(columns[c], encoding, max_table, min_count) for c in CATEGORICAL]
    dense = np.stack([[u.get("age", np.nan) for u in users],
                      [i.get("release_year", np.nan) for i in items]], axis=1)
    label = (np.array(r.ratings) >= threshold).astype(np.float32)
    return CTRData(dense.astype(np.float32), np.stack([e[0] for e in encoded], axis=1), label,
                   tuple(e[1] for e in encoded), NUMERIC_COLUMNS, CATEGORICAL)
