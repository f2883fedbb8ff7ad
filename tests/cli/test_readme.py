"""Every command block of README.md, pasted into a shell in an empty folder, works.

```sh blocks run line by line with .venv's `pimc` first on the PATH; ```python blocks run
with the same interpreter. Nothing is skipped: the slowest block (the demo, about 15 s, and
a 40-step supernet training) stays under a minute on two cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```(sh|python)\n(.*?)```", re.S)


def blocks() -> list[tuple[str, str]]:
    return BLOCK.findall((ROOT / "README.md").read_text())


def test_readme_has_the_blocks_a_newcomer_needs():
    text = "\n".join(body for _, body in blocks())
    for needed in ("pimc demo", "pimc compile", "pimc simulate", "pimc inputs", "pimc run",
                   "pimc zoo export", "pimc export-subnet", "c.write("):
        assert needed in text, needed


def test_every_block_runs_in_an_empty_folder(tmp_path):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=str(ROOT))
    for kind, body in blocks():  # in order: later blocks use what earlier ones wrote
        if kind == "python":
            cmds = [[sys.executable, "-c", body]]
        else:
            cmds = [["bash", "-euo", "pipefail", "-c", line] for line in body.splitlines()
                    if line.strip() and not line.startswith("#")]
        for cmd in cmds:
            run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                                 timeout=300)
            assert run.returncode == 0, f"{cmd[-1]}\n{run.stderr[-1500:]}"
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "api-out").is_dir()
    assert (tmp_path / "subnet-out" / "schedule.json").exists()


@pytest.mark.parametrize("bad", ["pimc compile model.onnx --target isaac -o out"])
def test_a_broken_line_fails_the_test(tmp_path, bad):
    """The near miss: a command that fails (no such model) is seen as failing."""
    run = subprocess.run(["bash", "-c", bad], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(os.environ, PATH=f"{Path(sys.executable).parent}:"
                                  f"{os.environ['PATH']}"))
    assert run.returncode == 2
