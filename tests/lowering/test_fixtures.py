"""Every fixture model lowers on isaac, hetero, hbm-pim and puma; the
pim-level program computes the float model within the error bound."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from ir.dialects import pim, rec
from ir.interp import run
from ir.sample_inputs import sample_inputs
from passes.error_bound import error_bound

from .conftest import compile_fixture, real_inputs

ENTRIES = real_inputs.entries() if real_inputs.MANIFEST_PATH.exists() else []
TARGETS = ("isaac", "hetero", "hbm-pim", "puma")
SPEC = "assign-precision{default=16},partition{target=%s},tile"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_fixture_lowers_or_is_refused(entry, target):
    module = compile_fixture(entry["file"], SPEC % target)
    ops = module.main.ops
    assert all("pim.unit" in op.attrs for op in ops)
    mvms = [op for op in ops if isinstance(op, pim.MVM)]
    if target == "hbm-pim":  # no crossbars: matmuls stay whole on near-bank units
        assert not mvms
    names = {op.attrs["op"] for op in mvms}
    for name in names:  # tile ids unique per matrix
        tiles = [tuple(op.attrs["tile"]) for op in mvms if op.attrs["op"] == name]
        assert len(tiles) == len(set(tiles))
    bags = [op for op in ops if isinstance(op, rec.EmbeddingBag)]
    # Tables go to DRAM banks where the target has them; isaac and puma read them digitally.
    want = "digital" if target in ("isaac", "puma") else "bank"
    assert all(op.attrs["pim.unit"] == want for op in bags)
    assert not [op for op in ops if op.attrs.get("pim.unit") == "crossbar"
                and op.name.startswith("rec.")]


NUMERIC = [e for e in ENTRIES if e["model"] in ("dlrm", "dcn", "autoint", "afi", "deepfm", "esmm",
                                                "gru4rec", "bst")
           and e["exporter"] == "legacy"]


@pytest.mark.parametrize("entry", NUMERIC, ids=lambda e: e["file"])
def test_lowered_program_matches_float_within_bound(entry, tmp_path):
    feed = real_inputs.make_inputs(entry, 8)
    float_module = compile_fixture(entry["file"], "canonicalize")  # rec level, float
    want = run(float_module.main, feed)
    module = compile_fixture(entry["file"], "assign-precision{default=16,{inputs}},"
                             "partition{target=hetero},tile", feed, tmp_path)
    got = run(module.main, feed)
    for g, w, b in zip(got, want, error_bound(module, feed)):
        assert (np.abs(g - w) <= b).all()


DLRM = [e for e in ENTRIES if e["file"] == "torchrec_dlrm_legacy.onnx"]


@pytest.mark.parametrize("entry", DLRM, ids=lambda e: e["file"])
def test_error_bound_against_onnxruntime(entry, tmp_path):
    feed = real_inputs.make_inputs(entry, 8)
    sess = ort.InferenceSession(str(real_inputs.ONNX_DIR / entry["file"]),
                                providers=["CPUExecutionProvider"])
    want = sess.run(None, feed)[0]
    ratios = {}
    for bits in (16, 8, 4):
        module = compile_fixture(entry["file"], f"assign-precision{{default={bits},{{inputs}}}},"
                                 "partition{target=hetero},tile", feed, tmp_path)
        got = run(module.main, feed)[0]
        bound = error_bound(module, feed)[0]
        observed = np.abs(got - want)
        assert (observed <= bound).all(), bits
        ratios[bits] = bound.max() / observed.max()
        if bits == 16:  # tight: about 1 % of the output's range, worst case over the graph
            assert bound.max() < 2e-2 * np.abs(want).max()
    assert ratios[8] < 1000 and ratios[16] < 1000


@pytest.mark.parametrize("entry", ENTRIES[::6], ids=lambda e: e["file"])
def test_sample_inputs_index_inside_tables(entry):
    module = compile_fixture(entry["file"], "canonicalize")
    a, b = sample_inputs(module.main, seed=3), sample_inputs(module.main, seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    run(module.main, a)  # out-of-range indices would raise
