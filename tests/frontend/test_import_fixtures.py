"""Every exported fixture model imports, interprets on real rows and matches ONNX Runtime."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from frontend.onnx import import_onnx
from ir.dialects import nn_seq, rec
from ir.interp import run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))
real_inputs = pytest.importorskip("real_inputs")

ENTRIES = real_inputs.entries() if real_inputs.MANIFEST_PATH.exists() else []
BATCH = 8


def _reference(path: Path, feed: dict) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, feed)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_fixture_matches_onnxruntime(entry: dict) -> None:
    path = real_inputs.ONNX_DIR / entry["file"]
    module = import_onnx(path, batch=BATCH)
    assert module.main.output_names == [o["name"] for o in entry["outputs"]]
    feed = real_inputs.make_inputs(entry, BATCH)
    got = run(module.main, feed)
    for g, w in zip(got, _reference(path, feed), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["library"] == "torchrec"],
                         ids=lambda e: e["file"])
def test_torchrec_tables_become_embedding_bags(entry: dict) -> None:
    module = import_onnx(real_inputs.ONNX_DIR / entry["file"], batch=BATCH)
    bags = module.main.find(rec.EmbeddingBag)
    assert len(bags) == entry["op_types"].get("Loop", 0) > 0
    assert not any(op.name.startswith("nn.") and "loop" in op.name for op in module.main.ops)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["op_types"].get("GRU")],
                         ids=lambda e: e["file"])
def test_recurrent_fixtures_keep_one_gru_per_onnx_gru(entry: dict) -> None:
    module = import_onnx(real_inputs.ONNX_DIR / entry["file"], batch=BATCH)
    assert len(module.main.find(nn_seq.Gru)) == entry["op_types"]["GRU"]


def test_the_corpus_is_the_manifest_and_failed_exports_are_not_in_it() -> None:
    if not ENTRIES:
        pytest.skip("no manifest")
    failed = real_inputs.manifest()["failed"]
    on_disk = {p.name for p in real_inputs.ONNX_DIR.glob("*.onnx")}
    assert {e["file"] for e in ENTRIES} == on_disk
    assert not {f["file"] for f in failed} & on_disk
    assert all(f["error"] and f["stage"] for f in failed)


@pytest.mark.parametrize("entry", ENTRIES[:2], ids=lambda e: e["file"])
def test_other_batch_sizes_and_rows(entry: dict) -> None:
    path = real_inputs.ONNX_DIR / entry["file"]
    module = import_onnx(path, batch=3)
    feed = real_inputs.make_inputs(entry, 3, start=90)
    for g, w in zip(run(module.main, feed), _reference(path, feed), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_names_of_arguments_and_weights() -> None:
    entry = next((e for e in ENTRIES if e["library"] == "torchrec"), None)
    if entry is None:
        pytest.skip("no torchrec fixture in the manifest")
    path = real_inputs.ONNX_DIR / entry["file"]
    module = import_onnx(path, batch=BATCH)
    assert [a.name for a in module.main.args] == [i["name"] for i in entry["inputs"]]
    assert all(a.type.shape[0] == BATCH for a in module.main.args)
    initializers = {t.name for t in onnx.load(str(path)).graph.initializer}
    tables = [bag.operands[0].name for bag in module.main.find(rec.EmbeddingBag)]
    assert tables and set(tables) <= initializers
