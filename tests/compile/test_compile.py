"""`pimc compile` end to end: every fixture on four targets with the functional check, the
precision-dependent tolerance at 16/8/4 bits, determinism, and the refusals."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.driver import compile
from ir.errors import PimcError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import real_inputs  # noqa: E402

ENTRIES = real_inputs.manifest()["models"]
ONNX = ROOT / "tests" / "fixtures" / "onnx"
DLRM = ONNX / "torchrec_dlrm_legacy.onnx"
TARGETS = ("isaac", "puma", "hetero", "hbm-pim")


def _dlrm_inputs(n=8):
    entry = next(e for e in ENTRIES if e["file"] == DLRM.name)
    return real_inputs.make_inputs(entry, n)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"].removesuffix(".onnx"))
def test_every_fixture_compiles_on_every_target_and_matches_onnx_runtime(entry):
    feed = real_inputs.make_inputs(entry, 8)
    for target in TARGETS:
        c = compile(ONNX / entry["file"], target, batch=8, inputs=feed)
        assert c.functional["passed"], (target, c.functional)
        assert c.schedule["ops"] and c.report["latency_cycles"] > 0
        assert c.report["interval_cycles"] >= c.report["bound"]["interval"]
        assert c.report["latency_cycles"] >= c.report["bound"]["latency"]


@pytest.mark.parametrize("target", ["isaac", "hetero"])
@pytest.mark.parametrize("bits", [16, 8, 4])
def test_functional_check_holds_within_the_precision_bound(target, bits):
    c = compile(DLRM, target, batch=8, inputs=_dlrm_inputs(), precision=f"default={bits}")
    f = c.functional
    assert f["passed"] and f["worst_error_over_bound"] <= 1.0
    if bits == 16:  # tight at 16 bits with a lossless ADC (tile keeps rows lossless)
        assert max(f["bound"]) < 2e-2 and max(f["max_abs_error"]) < 1e-3


def test_lower_precision_means_larger_error():
    errs = [max(compile(DLRM, "hetero", batch=8, inputs=_dlrm_inputs(),
                        precision=f"default={b}").functional["max_abs_error"])
            for b in (16, 8, 4)]
    assert errs[0] < errs[1] < errs[2]


def test_compiling_twice_gives_byte_identical_schedules(tmp_path):
    outs = []
    for k in range(2):
        c = compile(DLRM, "isaac", batch=8, objective="latency", time_limit=0.5)
        c.write(tmp_path / str(k))
        outs.append((tmp_path / str(k) / "schedule.json").read_bytes())
    assert outs[0] == outs[1]
    assert c.module.attrs["pim.place.solver"] in ("cp-sat", "greedy")


def test_an_op_the_target_cannot_run_is_refused():
    with pytest.raises(PimcError, match="needs a vector unit.*zigzag-aimc"):
        compile(DLRM, "zigzag-aimc", batch=8)


def test_a_model_that_does_not_fit_a_resident_target_is_refused_with_the_numbers(tmp_path):
    text = (ROOT / "targets" / "presets" / "isaac.yaml").read_text()
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(text.replace("name: isaac", "name: tiny").replace("tiles: 168", "tiles: 1")
                    .replace("pes: 12 ", "pes: 1 ").replace("arrays: 8 ", "arrays: 1 "))
    with pytest.raises(PimcError, match=r"weights need \d+ crossbars .* but target tiny has 1"):
        compile(DLRM, str(tiny), batch=8)


def test_a_too_short_time_limit_falls_back_to_greedy_and_says_so():
    # a model CP-SAT cannot solve within the least deterministic time (DLRM's it solves)
    c = compile(ONNX / "deepctr_autoint_legacy.onnx", "isaac", batch=8, objective="latency",
                time_limit=1e-6)
    assert any("CP-SAT found no solution within the time limit" in w for w in c.warnings)
    assert c.module.attrs["pim.place.solver"] == "greedy" and c.functional["passed"]


def _pimc(*args):
    return subprocess.run([sys.executable, "-m", "compiler", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


def test_cli_compile_writes_the_artifacts_and_simulate_rechecks_them(tmp_path):
    out = tmp_path / "out"
    proc = _pimc("compile", DLRM, "--target", "hetero", "--batch", "8", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "inputs.npz", "manifest.json", "mapped.npz", "mapped.pir", "reference.npz", "report.html",
        "report.json", "schedule.json"]
    assert "[10/10] functional" in proc.stderr and "functional check  PASS" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["functional_check"]["passed"] and report["simulation"]["total_energy"] > 0
    assert "<svg" in (out / "report.html").read_text()
    sim = _pimc("simulate", out)
    assert sim.returncode == 0, sim.stderr
    assert f"{report['simulation']['latency_cycles']:,} cycles" in sim.stdout


def test_emit_stops_after_a_stage(tmp_path):
    out = tmp_path / "out"
    proc = _pimc("compile", DLRM, "--target", "hetero", "--batch", "8", "--emit", "tiled",
                 "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "mapped.npz", "mapped.pir"]
    assert "pim.mvm" in (out / "mapped.pir").read_text()
    assert "pim.start" not in (out / "mapped.pir").read_text()


@pytest.mark.parametrize("corrupt, message", [
    (lambda s: "{", "not valid JSON"),
    (lambda s: json.dumps(dict(json.loads(s), version=7)), "schedule version 7; accepted: 1"),
    (lambda s: json.dumps({**json.loads(s), "tiles": json.loads(s)["tiles"][1:]}),
     "schedule check failed"),
])
def test_simulate_refuses_a_corrupt_schedule(tmp_path, corrupt, message):
    out = tmp_path / "out"
    assert _pimc("compile", DLRM, "--target", "isaac", "--batch", "8", "-o", out).returncode == 0
    path = out / "schedule.json"
    path.write_text(corrupt(path.read_text()))
    proc = _pimc("simulate", out)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


def test_a_bad_model_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(DLRM.read_bytes()[:1000])
    out = tmp_path / "out"
    proc = _pimc("compile", bad, "--target", "isaac", "--batch", "8", "-o", out)
    assert proc.returncode == 2 and "not a valid ONNX model" in proc.stderr
    assert not out.exists() or not any(out.iterdir())
