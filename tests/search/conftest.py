"""Fixtures of the search tests: a small MovieLens-like data set (GroupLens files) and a
supernet trained on it briefly."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
pytest.importorskip("optuna", reason="pimc search needs optuna: pip install '.[search]'")
pytest.importorskip("torch", reason="the supernet needs torch: pip install '.[model]'")

from search_helpers import write_movielens  # noqa: E402


@pytest.fixture(scope="session")
def movielens(tmp_path_factory) -> Path:
    return write_movielens(tmp_path_factory.mktemp("ml") / "ml-slice")


@pytest.fixture(scope="session")
def supernet(tmp_path_factory, movielens) -> Path:
    from search._final import train_quick

    path = tmp_path_factory.mktemp("net") / "supernet.pt"
    train_quick("tiny", f"movielens:{movielens}", 40, path)
    return path
