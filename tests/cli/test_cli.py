"""The `pimc` command line: outputs, exit codes, one-line errors, nothing half-written."""

import subprocess
import sys

import numpy as np
import pytest

from compiler import __version__
from compiler.cli import main

IR = """\
module @m {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>, s: tensor<2x1xf32>) {
    %w = nn.constant {value = dense<3x3xf32, [1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0]>} : tensor<3x3xf32>
    %0 = nn.matmul(%x, %w) : tensor<2x3xf32>
    %1 = nn.relu(%0) : tensor<2x3xf32>
    %2 = nn.reduce_sum(%1) {axes = [1]} : tensor<2x1xf32>
    return %1, %2
  }
}
"""


@pytest.fixture
def ir_file(tmp_path):
    path = tmp_path / "m.pir"
    path.write_text(IR)
    return path


def _pimc(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "compiler", *map(str, args)],
                          capture_output=True, text=True, input=stdin)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"pimc {__version__}"


def test_opt_prints_the_module_and_writes_it_with_its_sidecar(ir_file, tmp_path, capsys):
    assert main(["opt", str(ir_file)]) == 0
    assert capsys.readouterr().out == IR
    out = tmp_path / "out.pir"
    assert main(["opt", str(ir_file), "-o", str(out)]) == 0
    assert out.read_text() == IR and not (tmp_path / "out.npz").exists()
    big = tmp_path / "big.pir"
    values = ", ".join(f"{i}.0" for i in range(20))
    big.write_text(IR.replace("%0 = nn.matmul", f"%b = nn.constant {{value = dense<20xf32, "
                              f"[{values}]>}} : tensor<20xf32>\n    %0 = nn.matmul"))
    assert main(["opt", str(big), "-o", str(out)]) == 0
    assert "%b = nn.constant {value = @b} : tensor<20xf32>" in out.read_text()
    np.testing.assert_array_equal(np.load(tmp_path / "out.npz")["b"], np.arange(20))
    capsys.readouterr()
    assert main(["opt", str(out)]) == 0
    assert "value = @b" in capsys.readouterr().out


def test_opt_reads_standard_input():
    proc = _pimc("opt", "-", stdin=IR)
    assert proc.returncode == 0 and proc.stdout == IR


def test_run_interprets_and_saves_outputs(ir_file, tmp_path, capsys):
    x = np.array([[1, -2, 3], [-1, 2, -3]], dtype=np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    assert main(["run", str(ir_file), "--inputs", str(tmp_path / "in.npz")]) == 0
    printed = capsys.readouterr().out
    assert "y: float32[2, 3]" in printed and "s: float32[2, 1]" in printed
    assert main(["run", str(ir_file), "--inputs", str(tmp_path / "in.npz"),
                 "-o", str(tmp_path / "out.npz")]) == 0
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(out["y"], [[1, 0, 9], [0, 4, 0]])
    np.testing.assert_array_equal(out["s"], [[10], [4]])


@pytest.mark.parametrize("args, message", [
    (["opt", "{dir}/missing.pir"], "missing.pir: no such file"),
    (["opt", "{dir}/m.pir", "-p", "nosuch"], "unknown pass 'nosuch'; known passes:"),
    (["run", "{dir}/m.pir", "--inputs", "{dir}/nope.npz"], "nope.npz: no such file"),
    (["run", "{dir}/m.pir", "--inputs", "{dir}/m.pir"], "m.pir: this is pimc IR text, not an .npz"),
    (["run", "{dir}/m.pir", "--inputs", "{dir}/wrong.npz"], "missing input(s) x; graph @main"),
])
def test_errors_are_one_line_with_exit_code_2(ir_file, tmp_path, args, message):
    np.savez(tmp_path / "wrong.npz", z=np.zeros(3))
    proc = _pimc(*[a.format(dir=tmp_path) for a in args])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pimc: error: ")
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(ir_file):
    proc = _pimc("--debug", "opt", ir_file, "-p", "nosuch")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_a_failing_command_leaves_no_output_file(tmp_path):
    bad = tmp_path / "bad.pir"
    bad.write_text(IR.replace("tensor<2x1xf32>\n", "tensor<2x2xf32>\n"))
    out = tmp_path / "out.pir"
    proc = _pimc("opt", bad, "-o", out)
    assert proc.returncode == 2
    assert not out.exists() and not (tmp_path / "out.npz").exists()
    assert list(tmp_path.iterdir()) == [bad]
