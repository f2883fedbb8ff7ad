"""Shared fixtures of the model-space tests: real Criteo rows and small torch settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long model-space checks (minutes)")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(f"the shared sample data is missing: {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session")
def criteo(data_dir):
    """The DeepCTR Criteo sample, label-encoded (small tables, 2 to ~180 ids)."""
    from frontend.data import load_criteo

    return load_criteo(data_dir / "criteo_sample.txt", encoding="label")


@pytest.fixture(scope="session")
def criteo_rows(criteo):
    """8 real rows for export checks."""
    return criteo.take(np.arange(8, 16))


@pytest.fixture(autouse=True)
def _one_thread():
    try:
        import torch
    except ImportError:
        yield
        return
    torch.set_num_threads(1)
    yield


def run_imported(proto, rows) -> np.ndarray:
    """Import an ONNX model through the frontend and interpret it on `rows`."""
    import ir.interp
    from frontend.onnx import import_onnx

    module = import_onnx(proto, batch=len(rows))
    return ir.interp.run(module.main, {"dense": rows.dense, "sparse": rows.sparse})[0]


@pytest.fixture(scope="session")
def imported():
    return run_imported


@pytest.fixture(scope="session", autouse=True)
def _quiet_exporters():
    import logging
    import warnings

    warnings.filterwarnings("ignore", module="torch")
    for name in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    yield
