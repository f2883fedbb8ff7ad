"""Every exception at the CLI edge is one line: exit 2 for bad input, 3 for an internal error
(with --debug for the traceback), numbers and output paths checked before any work, and a
deadline for the whole compile (issue 14, items 4-6)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from compiler._deadline import Deadline, DeadlineCheck, DeadlineExceeded
from compiler.cli import main
from compiler.driver import compile
from ir.errors import PimcError
from ir.io import write_npz

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "onnx" / "torchfm_fm_legacy.onnx"


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


def _compile_args(out, *extra):
    return ["compile", MODEL, "--target", "isaac", "--batch", "4", "--time-limit", "0.2",
            *extra, "-o", out]


@pytest.mark.parametrize("flag, value, message", [
    ("--batch", "0", "argument --batch: 0; accepted: an integer >= 1"),
    ("--batch", "-3", "argument --batch: -3; accepted: an integer >= 1"),
    ("--batch", "two", "argument --batch: 'two' is not an integer >= 1"),
    ("--seed", "-1", "argument --seed: -1; accepted: an integer >= 0"),
    ("--time-limit", "nan", "argument --time-limit: nan; accepted: a finite number of seconds"),
    ("--time-limit", "inf", "argument --time-limit: inf; accepted"),
    ("--time-limit", "0", "argument --time-limit: 0; accepted"),
    ("--deadline", "-5", "argument --deadline: -5; accepted"),
])
def test_every_number_is_validated_in_one_line(tmp_path, capsys, flag, value, message):
    argv = ["compile", MODEL, "--target", "isaac", flag, value, "-o", tmp_path / "out"]
    if flag != "--batch":
        argv[4:4] = ["--batch", "4"]
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()


def test_near_miss_the_smallest_valid_numbers_compile(tmp_path, capsys):
    code, err = _run(["compile", MODEL, "--target", "isaac", "--batch", "1", "--seed", "0",
                      "--time-limit", "0.01", "--emit", "tiled", "-o", tmp_path / "o"], capsys)
    assert code == 0, err


def test_output_that_is_a_file_is_refused_before_compiling(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep")
    code, err = _run(_compile_args(afile), capsys)
    assert code == 2 and err == [f"pimc: error: {afile}: output exists and is not a folder"]
    assert afile.read_text() == "keep"


@pytest.mark.parametrize("argv, message", [
    (["import", MODEL, "-o", "{d}/no/m.pir"], "-o: folder {d}/no does not exist"),
    (["import", MODEL, "-o", "{d}"], "-o names a folder"),
    (["train-supernet", "--out", "/no/such/dir/c.pt", "--steps", "1"],
     "--out: folder /no/such/dir does not exist"),
])
def test_file_outputs_are_checked_before_any_work(tmp_path, capsys, argv, message):
    code, err = _run([str(a).format(d=tmp_path) for a in argv], capsys)
    assert code == 2 and len(err) == 1 and message.format(d=tmp_path) in err[0], err


def test_train_supernet_to_a_missing_folder_trains_nothing(tmp_path):
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "compiler", "train-supernet", "--out",
                           "/no/such/dir/c.pt", "--steps", "100000"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - t < 30  # refused before the data is even loaded


def _inputs(tmp_path, **arrays) -> Path:
    path = tmp_path / "in.npz"
    write_npz(arrays, path)
    return path


def test_compile_inputs_missing_an_input_names_it_before_the_passes(tmp_path, capsys):
    code, err = _run(_compile_args(tmp_path / "o", "--inputs",
                                   _inputs(tmp_path, other=np.zeros(3))), capsys)
    assert code == 2 and err[-1].startswith("pimc: error: inputs: missing input(s) x; graph")
    assert not any(line.startswith("[2/") for line in err)  # before any pass ran
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value, ok", [(10**9, False), (-10**9, False), (0, True)])
def test_run_with_an_out_of_range_index_is_one_line(tmp_path, capsys, value, ok):
    pir = tmp_path / "m.pir"
    assert _run(["import", MODEL, "--batch", "2", "-o", pir], capsys)[0] == 0
    feed = _inputs(tmp_path, x=np.full((2, 39), value, np.int64))
    code, err = _run(["run", pir, "--inputs", feed], capsys)
    if ok:
        assert code == 0, err
        return
    assert code == 2 and len(err) == 1, err
    assert f"input x[0, 0] = {value} indexes a table of" in err[0] and "accepted: 0 to" in err[0]


def test_an_internal_error_is_exit_3_with_the_debug_hint(monkeypatch, capsys):
    import targets.cli

    def boom(args):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(targets.cli, "run_list", boom)
    code, err = _run(["targets", "list"], capsys)
    assert code == 3 and err == ["pimc: internal error: ZeroDivisionError: float division by "
                                 "zero (run with --debug for the traceback)"]
    code, err = _run(["--debug", "targets", "list"], capsys)
    assert code == 3 and err[0] == "Traceback (most recent call last):"


def test_onnx_runtime_errors_are_wrapped_as_bad_input(tmp_path, monkeypatch, capsys):
    import onnxruntime
    from onnxruntime.capi.onnxruntime_pybind11_state import RuntimeException

    def out_of_memory(self, *args, **kwargs):
        raise RuntimeException("Failed to allocate memory for requested buffer of size 4e12\n"
                               "more detail")

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", out_of_memory)
    code, err = _run(_compile_args(tmp_path / "o"), capsys)
    assert code == 2 and err[-1] == ("pimc: error: ONNX Runtime: Failed to allocate memory for "
                                     "requested buffer of size 4e12")
    assert not (tmp_path / "o").exists()


def test_onnx_errors_are_wrapped_as_bad_input(tmp_path, monkeypatch, capsys):
    import onnx.checker

    import compiler.driver

    def invalid(model):
        raise onnx.checker.ValidationError("Field 'type' of 'value_info' is required")

    monkeypatch.setattr(compiler.driver, "_load_model", invalid)
    code, err = _run(_compile_args(tmp_path / "o"), capsys)
    assert code == 2 and err == ["pimc: error: onnx: Field 'type' of 'value_info' is required"]


def test_a_deadline_inside_a_long_pass_stops_the_compile_naming_the_stage(
        tmp_path, monkeypatch, capsys):
    import passes.tile

    def slow(self, module):
        time.sleep(30)

    monkeypatch.setattr(passes.tile.Tile, "apply", slow)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    t = time.perf_counter()
    code, err = _run(_compile_args(tmp_path / "o", "--deadline", "2"), capsys)
    assert time.perf_counter() - t < 10
    assert code == 2 and err[-1] == ("pimc: error: deadline of 2 s passed during stage 'tiled'; "
                                     "raise --deadline or compile a smaller model")
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob("pimc-*"))
    assert not list(tmp_path.glob(".o*"))  # no lock, no staging folder


def test_the_deadline_is_checked_after_each_pass_and_between_stages():
    clock = Deadline(1.0, start=time.monotonic() - 5)
    clock.stage = "placed"
    with pytest.raises(DeadlineExceeded, match=r"during stage 'placed' \(after pass 'tile'\)"):
        from passes.tile import Tile

        DeadlineCheck(clock).after(Tile(), None, True)
    Deadline(1.0).check()  # near miss: time left
    with pytest.raises(DeadlineExceeded, match="during stage 'import'"):
        compile(MODEL, "isaac", batch=4, deadline=Deadline(1.0, start=time.monotonic() - 5))


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_deadline_must_be_finite_and_positive(bad):
    with pytest.raises(PimcError, match="accepted: a finite number of seconds > 0"):
        Deadline(bad)


def test_sigterm_during_a_compile_exits_143_and_leaves_nothing(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "PIMC_FAULT": "staged:TERM"}
    proc = subprocess.run([sys.executable, "-m", "compiler", *map(str, _compile_args(
        tmp_path / "o"))], capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 143 and proc.stderr.strip().endswith("pimc: terminated")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".ses") == []
