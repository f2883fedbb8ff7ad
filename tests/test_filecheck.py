"""Runs the text tests under tests/filecheck: `// RUN:` lines piped into filecheck, and
invalid inputs whose `// ERROR:` line must be the one-line diagnostic (exit code 2)."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "filecheck"
FILECHECK = Path(sys.executable).with_name("filecheck")
PIMC = f"{shlex.quote(sys.executable)} -m compiler"
VALID = sorted(p for p in HERE.rglob("*.pir") if "invalid" not in p.parts)
INVALID = sorted((HERE / "invalid").glob("*.pir"))


def _directives(path: Path, key: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^// {key}:(.*)$", path.read_text(), re.M)]


FIXTURES = HERE.parents[0] / "fixtures" / "onnx"


def _expand(cmd: str, path: Path, tmp: Path | None = None) -> str:
    """%s: this file; %t: a scratch path of this test; %fixtures: the ONNX fixture folder."""
    cmd = cmd.replace("%fixtures", shlex.quote(str(FIXTURES)))
    if tmp is not None:
        cmd = cmd.replace("%t", shlex.quote(str(tmp / "t")))
    cmd = cmd.replace("%s", shlex.quote(str(path)))
    cmd = re.sub(r"(^|\||&&|;)\s*pimc\b", rf"\1 {PIMC}", cmd)
    return re.sub(r"\|\s*filecheck\b", f"| {shlex.quote(str(FILECHECK))}", cmd)


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(HERE)))
def test_text(path, tmp_path):
    runs = _directives(path, "RUN")
    assert runs, f"{path} has no RUN line"
    for run in runs:
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", _expand(run, path, tmp_path)],
                              capture_output=True, text=True, cwd=HERE.parents[1])
        assert proc.returncode == 0, f"{run}\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_text(path):
    runs = _directives(path, "RUN") or ["pimc opt %s"]
    errors = _directives(path, "ERROR")
    assert errors, f"{path} has no ERROR line"
    for run in runs:
        proc = subprocess.run(["bash", "-c", _expand(run, path)], capture_output=True,
                              text=True, cwd=HERE.parents[1])
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        for expected in errors:
            assert expected in lines[0]
