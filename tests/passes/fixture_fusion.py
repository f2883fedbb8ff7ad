"""The real ONNX fixtures of one model, fused the way the compiler does, numbers checked."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))
import real_inputs  # noqa: E402


def entries_of(model: str) -> list[dict]:
    """The manifest entries (both exporters) of `model`."""
    if not real_inputs.MANIFEST_PATH.exists():
        return []
    return [e for e in real_inputs.entries() if e["model"] == model]


def fused(entry: dict, batch: int = 8):
    """The fixture after canonicalize and fuse-interactions; its outputs on real rows are the
    imported model's (rtol 1e-5, atol 1e-6)."""
    from frontend.onnx import import_onnx
    from ir.interp import run
    from passes.canonicalize import Canonicalize
    from passes.fuse_interactions import FuseInteractions

    module = import_onnx(real_inputs.ONNX_DIR / entry["file"], batch=batch)
    feed = real_inputs.make_inputs(entry, batch)
    want = run(module.main, feed)
    Canonicalize().apply(module)
    FuseInteractions().apply(module)
    for got, w in zip(run(module.main, feed), want, strict=True):
        np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)
    return module
