"""The `--data` spec: one string names a data set, its files and options.

    synthetic | criteo:PATH | avazu:PATH | csv:PATH[:label=NAME][:dense=A,B][:drop=A,B]
    | movielens:DIR | libsvm:TRAIN[,VAL[,TEST]][:fields=FILE] | libfm:(as libsvm)

Every kind also takes `:numeric=log|standard|none`, the transform of its numeric columns
(`frontend.data.normalise`); the default is `standard` for csv, movielens and libsvm (their
numbers are not all counts) and `none` for criteo (already log(1 + count) when read),
avazu and synthetic.

`load_splits` gives (train, validation, test): the files as given for libsvm with several
files, else a seeded stratified split; the transform is fitted on the training part.
`load_data` gives all rows in file order, transformed by the same fit, so that
`stratified_split(load_data(spec, seed=s), seed=s)` keeps validation and test out of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from frontend.data._dataset import CTRData, concat, stratified_split
from frontend.data.formats import load_avazu, load_criteo, load_csv
from frontend.data.libsvm import load_libsvm
from frontend.data.movielens import load_movielens
from frontend.data.normalise import NUMERIC, Normaliser
from frontend.data.synthetic import SyntheticCTR
from ir.errors import PimcError

__all__ = ["DATA_KINDS", "Splits", "load_data", "load_splits", "SPLIT"]

SPLIT = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class _Kind:
    usage: str
    options: tuple[str, ...]
    numeric: str  # the default transform
    # (path, options, rows, max_table, seed) -> the parts as given (one part: split it)
    read: Callable[[str, dict[str, str], int, int, int], tuple[CTRData, ...]]


def _synthetic(path, o, rows, max_table, seed):
    return (SyntheticCTR(seed=seed).dataset(rows, max_table=max_table),)


def _criteo(path, o, rows, max_table, seed):
    return (load_criteo(path, max_table=max_table),)


def _avazu(path, o, rows, max_table, seed):
    return (load_avazu(path, max_table=max_table),)


def _names(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(filter(None, text.split(",")))


def _csv(path, o, rows, max_table, seed):
    return (load_csv(path, label=o.get("label", "label"), dense=_names(o.get("dense")),
                     drop=_names(o.get("drop", "")), max_table=max_table),)


def _movielens(path, o, rows, max_table, seed):
    return (load_movielens(path, max_table=max_table),)


def _libsvm(path, o, rows, max_table, seed):
    return load_libsvm(path.split(","), fields=o.get("fields"), max_table=max_table)


_LIBSVM = "TRAIN[,VAL[,TEST]][:fields=FILE]"
DATA_KINDS: dict[str, _Kind] = {
    "synthetic": _Kind("synthetic", ("numeric",), "none", _synthetic),
    "criteo": _Kind("criteo:PATH", ("numeric",), "none", _criteo),
    "avazu": _Kind("avazu:PATH", ("numeric",), "none", _avazu),
    "csv": _Kind("csv:PATH[:label=NAME][:dense=A,B][:drop=A,B]",
                 ("label", "dense", "drop", "numeric"), "standard", _csv),
    "movielens": _Kind("movielens:DIR", ("numeric",), "standard", _movielens),
    "libsvm": _Kind(f"libsvm:{_LIBSVM}", ("fields", "numeric"), "standard", _libsvm),
    "libfm": _Kind(f"libfm:{_LIBSVM}", ("fields", "numeric"), "standard", _libsvm),
}


@dataclass(frozen=True)
class Splits:
    """Train, validation and test rows, transformed by `normaliser` (fitted on `train`)."""

    train: CTRData
    val: CTRData
    test: CTRData
    normaliser: Normaliser


def _parse(spec: str) -> tuple[_Kind, str, dict[str, str]]:
    kind_name, _, rest = spec.partition(":")
    kind = DATA_KINDS.get(kind_name)
    if kind is None:
        usages = ", ".join(k.usage for k in DATA_KINDS.values())
        raise PimcError(f"unknown data '{spec}'; accepted: {usages} "
                        f"(each with [:numeric={'|'.join(NUMERIC)}])")
    parts = rest.split(":") if rest else []
    path = "" if kind_name == "synthetic" else (parts.pop(0) if parts else "")
    if kind_name != "synthetic" and not path:
        raise PimcError(f"data '{spec}' names no file; accepted: {kind.usage}")
    options = {}
    for p in parts:
        key, eq, value = p.partition("=")
        if not eq or key not in kind.options:
            raise PimcError(f"data '{spec}': option '{p}' is not one of "
                            f"{', '.join(o + '=...' for o in kind.options)}")
        options[key] = value
    if options.get("numeric", kind.numeric) not in NUMERIC:
        raise PimcError(f"data '{spec}': numeric={options['numeric']}; accepted: "
                        f"{', '.join(NUMERIC)}")
    return kind, path, options


def _given(spec: str, rows: int, max_table: int,
           seed: int) -> tuple[tuple[CTRData, ...], str]:
    """The parts as read (one, or one per libsvm file) and the name of the transform."""
    kind, path, options = _parse(spec)
    return kind.read(path, options, rows, max_table, seed), options.get("numeric", kind.numeric)


def load_splits(spec: str, rows: int = 50_000, max_table: int = 10_000, seed: int = 0,
                fractions: tuple[float, float, float] = SPLIT) -> Splits:
    """(train, validation, test) of the data named by `spec`; `rows` and `seed` also set the
    synthetic data. With TRAIN,VAL files only, the test part is empty."""
    given, numeric = _given(spec, rows, max_table, seed)
    if len(given) > 1:
        empty = given[0].take(np.arange(0))
        parts = (given + (empty, empty))[:3]
    else:
        parts = stratified_split(given[0], fractions, seed)
    fitted = Normaliser.fit(parts[0], numeric)
    return Splits(*(fitted.apply(p) for p in parts), fitted)


def load_data(spec: str, rows: int = 50_000, max_table: int = 10_000, seed: int = 0) -> CTRData:
    """All rows of the data named by `spec`, in file order, with the numeric transform fitted
    on the training part of `load_splits(spec, seed=seed)`."""
    given, numeric = _given(spec, rows, max_table, seed)
    train = given[0] if len(given) > 1 else stratified_split(given[0], SPLIT, seed)[0]
    return Normaliser.fit(train, numeric).apply(concat(given))
