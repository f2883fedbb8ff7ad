"""`pimc profile` counts the table rows a model looks up on real inputs, and `pimc compile
--profile` shards the tables by that load, replicating the hot rows over the banks; the
compile still passes its functional check."""

import json
from pathlib import Path

import numpy as np
import pytest

from compiler.cli import main
from ir.dialects import pim
from ir.io import load

ROOT = Path(__file__).resolve().parents[2]
DLRM = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


@pytest.fixture(scope="module")
def skewed(tmp_path_factory):
    """DLRM inputs where id 1 is 60% of every field's lookups."""
    tmp = tmp_path_factory.mktemp("profile")
    assert main(["inputs", str(DLRM), "--batch", "64", "-o", str(tmp / "in.npz")]) == 0
    feed = dict(np.load(tmp / "in.npz"))
    rng = np.random.default_rng(0)
    feed["sparse"][rng.random(feed["sparse"].shape) < 0.6] = 1
    np.savez(tmp / "skew.npz", **feed)
    assert main(["profile", str(DLRM), "--batch", "64", "--inputs", str(tmp / "skew.npz"),
                 "-o", str(tmp / "p.npz")]) == 0
    return tmp


def test_the_profile_counts_every_lookup_per_bag(skewed):
    counts = dict(np.load(skewed / "p.npz"))
    assert sorted(counts, key=lambda k: int(k[3:])) == [f"emb{i}" for i in range(26)]
    sparse = np.load(skewed / "skew.npz")["sparse"]
    for i in range(26):
        assert int(counts[f"emb{i}"].sum()) == 64
        assert int(counts[f"emb{i}"][1]) == int((sparse[:, i] == 1).sum())


def test_compile_with_the_profile_replicates_hot_rows_and_checks(skewed, capsys):
    out = skewed / "out"
    assert main(["compile", str(DLRM), "--batch", "64", "--target", "hbm-pim", "--inputs",
                 str(skewed / "skew.npz"), "--profile", str(skewed / "p.npz"), "--compare",
                 "none", "-o", str(out)]) == 0
    gathers = load(out / "mapped.pir").main.find(pim.Gather)
    hot = [g for g in gathers if g.attrs.get("hot")]
    assert hot and all(1 in g.attrs["hot"] for g in hot)
    for name in {g.attrs["op"] for g in gathers}:
        shares = [g.attrs["pim.freq"] for g in gathers if g.attrs["op"] == name]
        assert sum(shares) == pytest.approx(1.0)
    report = json.loads((out / "report.json").read_text())
    assert report["functional_check"]["passed"] is True


def test_bad_profiles_and_inputs_are_refused_in_one_line(skewed, tmp_path, capsys):
    np.savez(tmp_path / "short.npz", emb0=np.ones(3))
    np.savez(tmp_path / "dense.npz", dense=np.zeros((64, 13), np.float32))
    cases = [
        (["compile", str(DLRM), "--batch", "64", "--target", "hbm-pim", "--no-check",
          "--profile", str(tmp_path / "short.npz"), "--compare", "none", "-o",
          str(tmp_path / "o")], "entry 'emb0' is float64[3]; accepted:"),
        (["profile", str(DLRM), "--batch", "64", "--inputs", str(tmp_path / "dense.npz"), "-o",
          str(tmp_path / "p.npz")], "sparse"),
        (["profile", str(DLRM), "--batch", "64", "--inputs", str(DLRM), "-o",
          str(tmp_path / "p.npz")], "npz"),
    ]
    for argv, says in cases:
        assert main(argv) == 2, argv
        err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
        assert len(err) == 1 and says in err[0], err
    assert not (tmp_path / "p.npz").exists() and not (tmp_path / "o").exists()
