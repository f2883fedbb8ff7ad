"""canonicalize then fuse-interactions on every ONNX fixture: ONNX Runtime's numbers on real
rows after each pass, and the rec ops each model family must end up with."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ir.verify import verify

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))
real_inputs = pytest.importorskip("real_inputs")
ort = pytest.importorskip("onnxruntime")

ENTRIES = real_inputs.entries() if real_inputs.MANIFEST_PATH.exists() else []
BATCH = 8


# Attention models: every softmax must end up inside a rec.attention.
ATTENTION = ("autoint", "afi", "bst")


def expected_rec_ops(entry: dict) -> set[str]:
    """The rec ops a model must contain after fusion, by library and model family."""
    model = entry["model"].lower()
    want = {"rec.embedding_bag"}
    if entry["library"] == "torchrec" and model.startswith("dlrm"):
        want.add("rec.dense")
        # DLRM_Projection's interaction is bmm(F1(x), F2(x)) of two different projections:
        # not a Gram matrix, so no dot_interaction.
        if "projection" not in model:
            want.add("rec.cross" if "dcn" in model else "rec.dot_interaction")
    if model in ("fm", "deepfm", "dfm", "nfm"):
        want.add("rec.fm")
    if model in ATTENTION:
        want.add("rec.attention")
    if model == "afm":
        want.add("rec.moe")
    if model in ("dcn", "dcnmix"):
        want.add("rec.cross")
    return want


def _run_checked(module, feed, reference, tol, stage):
    from ir.interp import run

    verify(module)
    outs = run(module.main, feed)
    for got, want in zip(outs, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=tol["rtol"], atol=tol["atol"],
                                   err_msg=f"after {stage}")


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_fixture_fuses_and_matches_onnx_runtime(entry):
    from frontend.onnx import import_onnx
    from passes.canonicalize import Canonicalize
    from passes.fuse_interactions import FuseInteractions

    path = real_inputs.ONNX_DIR / entry["file"]
    feed = real_inputs.make_inputs(entry, BATCH)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    reference = ort.InferenceSession(str(path), options).run(None, feed)
    tol = {"rtol": 1e-5, "atol": real_inputs.manifest()["tolerance"].get("atol", 1e-6)}
    module = import_onnx(path, batch=BATCH)
    for p in (Canonicalize(), FuseInteractions()):
        p.apply(module)
        _run_checked(module, feed, reference, tol, p.name)
    present = {op.name for op in module.main.ops}
    missing = expected_rec_ops(entry) - present
    assert not missing, f"{entry['file']}: no {', '.join(sorted(missing))} after fusion"
    if entry["model"].lower() in ATTENTION:
        assert "nn.softmax" not in present, f"{entry['file']}: a softmax outside rec.attention"
