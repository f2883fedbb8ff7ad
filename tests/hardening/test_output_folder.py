"""`pimc compile -o out/` replaces the folder at once, one writer at a time: a kill at any
step leaves the previous output intact or the new one complete, never a mix; SIGTERM and
SIGINT clean up; what a killed run left is swept; the scratch folder in the temp folder goes
on every exit path. Kills are injected with the PIMC_FAULT test hook (compiler/_outdir.py)."""

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from compiler._outdir import OutputFolder, recover
from compiler.verify_folder import check_manifest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "onnx" / "torchfm_fm_legacy.onnx"


def _compile(out: Path, target: str, tmp: Path, fault: str | None = None, **kw):
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("PIMC_FAULT", None)
    if fault:
        env["PIMC_FAULT"] = fault
    cmd = [sys.executable, "-m", "compiler", "compile", str(MODEL), "--target", target,
           "--batch", "4", "--time-limit", "0.2", "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, **kw)


def _state(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _target_of(folder: Path) -> str:
    return json.loads((folder / "report.json").read_text())["target"]


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A good isaac output; each test replaces a copy of it by a puma compile."""
    base = tmp_path_factory.mktemp("prev")
    (base / "tmp").mkdir()
    proc = _compile(base / "out", "isaac", base / "tmp")
    assert proc.returncode == 0, proc.stderr
    return base / "out"


@pytest.fixture
def setup(previous, tmp_path):
    import shutil

    out = tmp_path / "work" / "out"
    out.parent.mkdir()
    shutil.copytree(previous, out)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return out, scratch, _state(previous)


def _scratch(folder: Path) -> list[str]:
    """pimc's folders in the temp folder (ONNX Runtime keeps a `.ses` file of its own there)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("pimc"))


def _beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


# the fault-injection matrix: where the writer is killed, and what must be at `out` then
@pytest.mark.parametrize("point, left", [
    ("staged", "previous"), ("partial", "previous"), ("written", "previous"),
    ("after-rename-1", "nothing until recovered, then previous"),
    ("after-rename-2", "new"),
])
def test_sigkill_at_each_step_leaves_previous_or_new_never_a_mix(setup, point, left):
    out, scratch, before = setup
    proc = _compile(out, "puma", scratch, fault=point)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    if left == "previous":
        assert _state(out) == before
    elif left == "new":
        check_manifest(out)  # complete: every file with the hash the manifest lists
        assert _target_of(out) == "puma" and _state(out) != before
    else:
        assert not out.exists()  # between the renames: the old folder is aside, intact
        olds = [p for p in out.parent.iterdir() if ".pimc-old." in p.name]
        assert len(olds) == 1 and _state(olds[0]) == before
        recover(out)
        assert _state(out) == before
    assert (out.parent / ".out.lock").exists()  # a kill cannot remove the lock file
    done = _compile(out, "puma", scratch)  # the next compile sweeps and succeeds
    assert done.returncode == 0, done.stderr
    check_manifest(out)
    assert _target_of(out) == "puma" and _beside(out) == []
    assert _scratch(scratch) == []


@pytest.mark.parametrize("signame", ["TERM", "INT"])
def test_sigterm_and_sigint_clean_up_and_keep_the_previous_output(setup, signame):
    out, scratch, before = setup
    proc = _compile(out, "puma", scratch, fault=f"partial:{signame}")
    assert proc.returncode == (143 if signame == "TERM" else 130), proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == \
        ("pimc: terminated" if signame == "TERM" else "pimc: interrupted")
    assert _state(out) == before and _beside(out) == [] and _scratch(scratch) == []


def test_two_compiles_cannot_share_a_folder(setup):
    out, scratch, before = setup
    with OutputFolder(out):  # another writer holds the folder
        proc = _compile(out, "puma", scratch)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "another pimc process is writing this output folder" in proc.stderr
    assert "[1/" not in proc.stderr  # refused before any work
    assert _state(out) == before
    assert _compile(out, "puma", scratch).returncode == 0  # near miss: free again


def test_two_compiles_started_together_give_one_consistent_folder(setup):
    out, scratch, _ = setup
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("PIMC_FAULT", None)
    procs = [subprocess.Popen([sys.executable, "-m", "compiler", "compile", str(MODEL),
                               "--target", t, "--batch", "4", "--time-limit", "0.2", "-o",
                               str(out)], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
             for t in ("puma", "hetero")]
    codes = [p.wait(timeout=120) for p in procs]
    errors = [p.stderr.read() for p in procs]
    assert sorted(codes) in ([0, 0], [0, 2]), errors
    for code, err in zip(codes, errors):
        assert code == 0 or "another pimc process is writing" in err
    check_manifest(out)
    proc = subprocess.run([sys.executable, "-m", "compiler", "simulate", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_sigkill_during_placement_leaves_a_scratch_folder_the_next_compile_sweeps(setup):
    out, scratch, before = setup
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-m", "compiler", "compile", str(MODEL), "--target",
                             "puma", "--batch", "4", "--time-limit", "5", "-o", str(out)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
                            stdout=subprocess.DEVNULL)
    for line in proc.stderr:  # CP-SAT runs after "tiled"
        if "tiled" in line:
            break
    proc.kill()
    proc.wait()
    left = _scratch(scratch)
    assert len(left) == 1 and left[0].startswith(f"pimc-{proc.pid}-")
    assert _state(out) == before
    assert _compile(out, "puma", scratch).returncode == 0
    assert _scratch(scratch) == [] and _beside(out) == []


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_staging_and_scratch_of_dead_processes_are_swept_live_ones_kept(setup):
    out, scratch, _ = setup
    dead, live = _dead_pid(), os.getpid()
    for name in (f".out.pimc-stage.{dead}.x", f".out.pimc-stage.{live}.y",
                 f".out.pimc-old.{dead}.z"):
        (out.parent / name).mkdir()
        (out.parent / name / "mapped.pir").write_text("partial")
    for name in (f"pimc-{dead}-a", f"pimc-{live}-b", "pimc-notapid"):
        (scratch / name).mkdir()
    assert _compile(out, "puma", scratch).returncode == 0
    assert _beside(out) == [f".out.pimc-stage.{live}.y"]
    assert _scratch(scratch) == [f"pimc-{live}-b", "pimc-notapid"]


def test_user_files_in_the_folder_are_kept_and_foreign_folders_refused(setup):
    out, scratch, _ = setup
    (out / "notes.txt").write_text("mine")
    assert _compile(out, "puma", scratch).returncode == 0
    assert (out / "notes.txt").read_text() == "mine"
    check_manifest(out)
    (out / "sub").mkdir()
    proc = _compile(out, "puma", scratch)
    assert proc.returncode == 2 and "holds 'sub', which is not a plain file" in proc.stderr
    assert "[1/" not in proc.stderr


def test_the_current_folder_is_refused_as_output(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "compiler", "compile", str(MODEL), "--target",
                           "isaac", "--batch", "4", "-o", "."], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "output is the current folder" in proc.stderr
