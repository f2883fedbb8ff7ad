"""`pimc simulate out/` re-verifies a compile output folder from its files alone: each kind
of tampering the issue lists exits 2 with one line naming the reason. Where the manifest
would catch a change first, the test re-hashes it, so the deeper check is what is tested."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compiler.cli import main
from compiler.verify_folder import write_manifest
from ir.io import read_npz, write_npz

ROOT = Path(__file__).resolve().parents[2]
ONNX = ROOT / "tests" / "fixtures" / "onnx"


def _compile(model: str, out: Path) -> Path:
    proc = subprocess.run([sys.executable, "-m", "compiler", "compile", str(ONNX / model),
                           "--target", "isaac", "--batch", "4", "--time-limit", "0.2", "-o",
                           str(out)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("built")
    # DLRM: an MLP whose ReLUs matter (in AFM a sigmoid for its ReLU moves the output by less
    # than the error bound, so only the cross-check can see it there)
    return {"dlrm": _compile("torchrec_dlrm_legacy.onnx", base / "dlrm"),
            "fm": _compile("torchfm_fm_legacy.onnx", base / "fm")}


@pytest.fixture
def out(built, tmp_path):
    folder = tmp_path / "out"
    shutil.copytree(built["dlrm"], folder)
    return folder


def _simulate(folder: Path, capsys) -> tuple[int, list[str], str]:
    code = main(["simulate", str(folder)])
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if not line.startswith("pimc: warning")]
    return code, errors, captured.out


def _schedule(folder: Path, change) -> None:
    path = folder / "schedule.json"
    s = json.loads(path.read_text())
    change(s)
    path.write_text(json.dumps(s, indent=1, sort_keys=True))


def _weights_x10(folder: Path) -> None:
    arrays = read_npz(folder / "mapped.npz")
    (folder / "mapped.npz").unlink()
    write_npz({k: v * 10 if v.dtype.kind == "f" else v for k, v in arrays.items()},
              folder / "mapped.npz")


def _relu_to_sigmoid(folder: Path, schedule_too: bool) -> None:
    pir = folder / "mapped.pir"
    assert "nn.relu(" in pir.read_text()
    pir.write_text(pir.read_text().replace("nn.relu(", "nn.sigmoid("))
    if schedule_too:
        _schedule(folder, lambda s: [op.update(kind="nn.sigmoid", name="nn.sigmoid")
                                     for op in s["ops"] if op["kind"] == "nn.relu"])


def _one_crossbar(s: dict) -> None:
    for t in s["tiles"]:
        t["crossbar"] = 0
    for op in s["ops"]:
        if op["unit"] == "crossbar":
            op["loc"] = [0] * len(op["loc"])


def _zero_times(s: dict) -> None:
    for entry in s["ops"] + s["transfers"]:
        entry["start"] = entry["end"] = 0
    for uses in s["units"].values():
        for u in uses:
            u["start"] = u["end"] = 0


def _other_model(folder: Path, built) -> None:
    for name in ("mapped.pir", "mapped.npz"):
        shutil.copy(built["fm"] / name, folder / name)


def test_an_untouched_folder_verifies(out, capsys):
    code, errors, stdout = _simulate(out, capsys)
    assert code == 0 and not errors
    assert re.search(r"verified: manifest, schedule and outputs verified \(max error / bound "
                     r"[\d.e-]+ on the stored inputs\)", stdout)
    names = sorted(p.name for p in out.iterdir())
    assert {"inputs.npz", "reference.npz", "manifest.json"} <= set(names)


@pytest.mark.parametrize("tamper, reason", [
    (_weights_x10, r"mapped.pir: functional check on the stored inputs failed: output \S+\[.*"
                   r"(exceeds the bound|the error bound is inf)"),
    (lambda f: _relu_to_sigmoid(f, True),
     r"functional check on the stored inputs failed: output \S+\[.*exceeds the bound"),
    (lambda f: _relu_to_sigmoid(f, False),
     r"schedule.json does not describe mapped.pir: op \d+ \(nn.sigmoid\) has name 'nn.relu' "
     r"in schedule.json, 'nn.sigmoid' in mapped.pir"),
    (lambda f: _schedule(f, _one_crossbar), r"schedule check failed .*crossbar 0 is over "
                                            r"capacity"),
    (lambda f: _schedule(f, _zero_times), r"schedule check failed .*for 0 cycles"),
    (lambda f: _schedule(f, lambda s: s.update(latency=1)), r"schedule check failed .*latency"),
    (lambda f: _schedule(f, lambda s: s.pop("latency")), r"schedule lacks 'latency'"),
])
def test_each_tampering_is_one_line_with_its_reason(out, capsys, tamper, reason):
    tamper(out)
    write_manifest(out)  # the manifest agrees: the deeper check must catch it
    code, errors, _ = _simulate(out, capsys)
    assert code == 2 and len(errors) == 1, errors
    assert re.search(reason, errors[0]), errors[0]


def test_mapped_pir_of_another_model_is_named(out, built, capsys):
    _other_model(out, built)
    write_manifest(out)
    code, errors, _ = _simulate(out, capsys)
    assert code == 2 and len(errors) == 1
    assert "schedule.json does not describe mapped.pir" in errors[0]


def test_times_in_mapped_pir_that_differ_from_a_valid_schedule_are_named(out, capsys):
    pir = out / "mapped.pir"
    latency = json.loads((out / "schedule.json").read_text())["latency"]
    assert f"pim.latency = {latency}" in pir.read_text()
    pir.write_text(pir.read_text().replace(f"pim.latency = {latency}",
                                           f"pim.latency = {latency + 1}"))
    write_manifest(out)
    code, errors, _ = _simulate(out, capsys)
    assert code == 2 and len(errors) == 1
    assert f"latency is {latency} in schedule.json, {latency + 1} in mapped.pir" in errors[0]


def test_a_moved_op_in_mapped_pir_is_named(out, capsys):
    pir = out / "mapped.pir"
    text = pir.read_text()
    start = re.search(r"pim.start = (\d+)", text)
    pir.write_text(text[:start.start()] + f"pim.start = {int(start[1]) + 1}" +
                   text[start.end():])
    write_manifest(out)
    code, errors, _ = _simulate(out, capsys)
    assert code == 2 and re.search(r"op \d+ \(\S+\) has start \d+ in schedule.json, \d+ in "
                                   r"mapped.pir", errors[0]), errors


@pytest.mark.parametrize("tamper, reason", [
    (lambda f: (f / "report.json").write_text("{}"),
     r"report.json changed since the compile \(its sha256 differs from manifest.json\)"),
    (lambda f: (f / "report.html").unlink(), r"report.html is listed in manifest.json but "
                                             r"missing"),
    (lambda f: (f / "notes.txt").write_text("x"), r"notes.txt is not listed in manifest.json"),
    (lambda f: (f / "manifest.json").unlink(), r"no manifest.json: not a complete"),
    (lambda f: (f / "manifest.json").write_text("[1]"), r"not a pimc manifest"),
    (_weights_x10, r"mapped.npz changed since the compile"),
])
def test_the_manifest_names_a_changed_missing_or_extra_file(out, capsys, tamper, reason):
    tamper(out)
    code, errors, _ = _simulate(out, capsys)
    assert code == 2 and len(errors) == 1, errors
    assert re.search(reason, errors[0]), errors[0]


def test_a_reference_that_lacks_an_output_is_named(out, capsys):
    (out / "reference.npz").unlink()
    write_npz({"other": np.zeros(3)}, out / "reference.npz")
    write_manifest(out)
    code, errors, _ = _simulate(out, capsys)
    assert code == 2 and "reference.npz does not hold the 1 outputs of mapped.pir" in errors[0]


def test_a_program_that_widens_its_own_bound_is_caught(out, capsys):
    """Near miss of the stored bound: the reference and bound stay, the output moves by
    less than the stored bound, but the program's recomputed bound differs."""
    record = read_npz(out / "reference.npz")
    (out / "reference.npz").unlink()
    record["bound.0"] = record["bound.0"] * 2  # a looser bound than the program's
    write_npz(record, out / "reference.npz")
    write_manifest(out)
    code, errors, _ = _simulate(out, capsys)
    assert code == 2 and re.search(r"the error bound of output \S+ is [\d.e-]+ from mapped.pir,"
                                   r" [\d.e-]+ stored at compile time", errors[0]), errors


def test_simulate_by_subprocess_is_one_line_and_exit_2(out):
    _schedule(out, _zero_times)
    write_manifest(out)
    proc = subprocess.run([sys.executable, "-m", "compiler", "simulate", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
