"""For every fixture, `pimc opt` with an empty pipeline prints text that parses back to an
identical print (weights through the .npz sidecar)."""

import json
import sys
from pathlib import Path

import pytest

from compiler.cli import main
from frontend.onnx import import_onnx
from ir.equal import structurally_equal
from ir.io import load, save
from ir.text import parse, print_module_with_weights

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
FILES = [e["file"] for e in json.loads((ONNX / "manifest.json").read_text())["models"]]


@pytest.mark.parametrize("name", FILES)
def test_empty_pipeline_output_parses_back_to_an_identical_print(name, tmp_path, capsys):
    module = import_onnx(ONNX / name, batch=4)
    save(module, tmp_path / "m.pir")
    assert main(["opt", str(tmp_path / "m.pir"), "-o", str(tmp_path / "o.pir")]) == 0
    again = load(tmp_path / "o.pir")
    text, weights = print_module_with_weights(again)
    assert text == (tmp_path / "o.pir").read_text()
    assert print_module_with_weights(parse(text, weights))[0] == text
    assert structurally_equal(again, module)
    assert main(["opt", str(tmp_path / "m.pir")]) == 0  # printing to stdout works too
    assert capsys.readouterr().out.startswith(f"module @{module.name}")


def test_import_cli_errors_are_one_line_with_exit_code_2(tmp_path):
    import subprocess

    def pimc(*args):
        return subprocess.run([sys.executable, "-m", "compiler", *map(str, args)],
                              capture_output=True, text=True)

    dlrm = ONNX / "torchrec_dlrm_legacy.onnx"
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(dlrm.read_bytes()[: dlrm.stat().st_size // 2])
    cases = [
        (["import", bad, "--batch", "4", "-o", tmp_path / "x.pir"], "not a valid ONNX model"),
        (["import", dlrm, "-o", tmp_path / "x.pir"],
         "has the symbolic dimension 'batch'; pass --batch N"),
        (["import", dlrm, "--dim", "oops", "-o", tmp_path / "x.pir"], "--dim 'oops' is not NAME=N"),
    ]
    for args, message in cases:
        proc = pimc(*args)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
        assert not (tmp_path / "x.pir").exists() and not (tmp_path / "x.npz").exists()
