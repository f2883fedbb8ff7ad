"""Shared helpers for the lowering tests: fixture models compiled through the mapping passes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from frontend.onnx import import_onnx
from passes.manager import PassManager
from passes.pipeline import parse_pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))
real_inputs = pytest.importorskip("real_inputs")

FRONT = "canonicalize,fuse-interactions"


def compile_fixture(file: str, spec: str, calibrate: dict | None = None, tmp: Path | None = None):
    """Import a fixture at batch 8 and run FRONT plus `spec` ({inputs} is replaced by an .npz
    of `calibrate` written under `tmp`)."""
    module = import_onnx(real_inputs.ONNX_DIR / file, batch=8)
    if calibrate is not None:
        path = tmp / "calibration.npz"
        np.savez(path, **calibrate)
        spec = spec.replace("{inputs}", f"inputs={path}")
    PassManager(parse_pipeline(f"{FRONT},{spec}")).run(module)
    return module


@pytest.fixture
def fixtures():
    return real_inputs


@pytest.fixture
def compile_model():
    return compile_fixture
