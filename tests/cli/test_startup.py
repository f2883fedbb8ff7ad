"""Start-up: commands that do not compile do not pay for numpy, the driver or the parsers."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported(*args: str) -> set[str]:
    code = ("import sys, runpy; sys.argv = ['pimc', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('compiler', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT)
    return set(proc.stderr.strip().splitlines()[-1].split())


def test_version_imports_neither_numpy_nor_the_driver():
    loaded = _imported("--version")
    assert "compiler.cli" in loaded  # the probe saw the command line run
    assert not {"numpy", "compiler.driver", "compiler.commands", "lark", "onnx"} & loaded


def test_the_objective_choices_still_load_when_asked_for():
    """Near miss for the lazy choices: a wrong objective is still refused, listing them."""
    proc = subprocess.run([sys.executable, "-m", "compiler", "compile", "m.onnx", "--target",
                           "isaac", "--objective", "speed", "-o", "out"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "'speed'" in proc.stderr and "'throughput'" in proc.stderr


def test_a_compile_does_not_register_the_search_and_training_commands():
    loaded = _imported("compile", "missing.onnx", "--target", "isaac", "-o", "out")
    assert "compiler.cli" in loaded
    assert not {"search.cli", "frontend.supernet.cli"} & loaded


def test_those_commands_and_a_typo_still_see_every_command():
    """Near miss for the partial parser: the commands it leaves out still parse, and a
    mistyped command is told every command there is."""
    assert "search.cli" in _imported("search", "--help")
    assert "frontend.supernet.cli" in _imported("train-supernet", "--help")
    proc = subprocess.run([sys.executable, "-m", "compiler", "serach"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "'search'" in proc.stderr and "'train-supernet'" in proc.stderr


def test_help_before_the_command_lists_every_command():
    proc = subprocess.run([sys.executable, "-m", "compiler", "-h", "compile"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0
    assert "search" in proc.stdout and "train-supernet" in proc.stdout
