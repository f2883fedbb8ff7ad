"""`pimc train-supernet --out` refuses an earlier run's checkpoint unless told to continue it
(--resume) or replace it (--overwrite), and does so before any data is loaded."""

import subprocess
import sys
from pathlib import Path

import pytest

from compiler.cli import main
from frontend.supernet._paths import check_out
from ir.errors import PimcError

ROOT = Path(__file__).resolve().parents[2]


def _tiny(steps: int) -> list[str]:
    return ["--space", "tiny", "--data", "synthetic", "--rows", "300", "--steps", str(steps),
            "--eval-every", "1", "--checkpoint-every", "1", "--batch-size", "32",
            "--max-table", "50", "--quiet"]


# Runs the CLI in a fresh interpreter and reports whether the data or training code was loaded.
PROBE = """
import sys
from compiler.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("torch", "frontend.data", "frontend.supernet.train") if m in sys.modules)
print("loaded:", ",".join(heavy) or "nothing")
sys.exit(code)
"""


def _probe(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, "train-supernet", *argv],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("existing", ["s.pt", "s.best.pt"])
def test_an_existing_checkpoint_is_refused_before_any_work(tmp_path, existing):
    (tmp_path / existing).write_bytes(b"an earlier run")
    proc = _probe("--out", str(tmp_path / "s.pt"), "--steps", "100000")
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert err == [f"pimc: error: {tmp_path / existing}: a checkpoint of an earlier run is there; "
                   "accepted: --resume to continue it, --overwrite to replace it, or another "
                   "--out"]
    assert "loaded: nothing" in proc.stdout
    assert (tmp_path / existing).read_bytes() == b"an earlier run"


def test_the_rule_passes_a_free_name_and_either_flag(tmp_path):
    check_out(tmp_path / "s.pt", resume=False, overwrite=False)  # nothing there yet
    (tmp_path / "s.pt").write_bytes(b"an earlier run")
    check_out(tmp_path / "s.pt", resume=True, overwrite=False)
    check_out(tmp_path / "s.pt", resume=False, overwrite=True)
    with pytest.raises(PimcError, match="--resume to continue it"):
        check_out(tmp_path / "s.pt", resume=False, overwrite=False)


def test_resume_and_overwrite_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train-supernet", "--out", str(tmp_path / "s.pt"), "--resume", "--overwrite"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_resume_continues_and_overwrite_replaces(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "s.pt"
    assert main(["train-supernet", "--out", str(out), *_tiny(2)]) == 0
    first = out.read_bytes()
    capsys.readouterr()

    assert main(["train-supernet", "--out", str(out), *_tiny(2)]) == 2
    assert "--overwrite to replace it" in capsys.readouterr().err
    assert out.read_bytes() == first

    assert main(["train-supernet", "--out", str(out), "--resume",
                 *_tiny(4)]) == 0
    assert '"step": 4' in capsys.readouterr().out and out.read_bytes() != first

    assert main(["train-supernet", "--out", str(out), "--overwrite", *_tiny(2)]) == 0
    final = capsys.readouterr().out
    assert "\"step\": 2" in final and "\"step\": 4" not in final
