"""Every refusal of issue 15 names the fix, exits 2, and comes before any work."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from compiler.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
DLRM = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"
IR = "module @m {\n  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {\n" \
     "    %0 = nn.relu(%x) : tensor<2x3xf32>\n    return %0\n  }\n}\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "m.pir").write_text(IR)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "tiled").mkdir()
    (tmp_path / "tiled" / "mapped.pir").write_text(IR.replace("nn.relu", "pim.mvm"))
    return tmp_path


CASES = [
    (["opt", "{d}/m.pir", "-p", "canonicalise"],
     "unknown pass 'canonicalise' (did you mean 'canonicalize'?); known passes:"),
    (["opt", "{d}/m.pir", "-p", "place{solvr=naive}"],
     "pass 'place' has no option 'solvr' (did you mean 'solver'?)"),
    (["opt", "{d}/m.pir", "-p", "canonicalize,place{solver=naive"],
     "found the end of the spec, expected ',' or '}'; at the caret: "
     "canonicalize,place{solver=naive^"),
    (["compile", str(DLRM), "--target", "isaac", "--batch", "2", "--precision", "8", "-o",
      "{d}/out"], "the fix is --precision default=8"),
    (["compile", str(DLRM), "--target", "isac", "--batch", "2", "-o", "{d}/out"],
     "unknown target 'isac' (did you mean 'isaac'?)"),
    (["compile", str(DLRM), "--target", "isaac", "--dim", "bach=3", "-o", "{d}/out"],
     "no symbolic dimension 'bach' (did you mean 'batch'?)"),
    (["import", str(DLRM), "--dim", "bach=3", "-o", "{d}/m2.pir"],
     "no symbolic dimension 'bach' (did you mean 'batch'?)"),
    (["import", str(DLRM), "--batch", "2", "-o", "{d}/x.onnx"],
     "-o {d}/x.onnx: this command writes IR text, not an ONNX model; name the output *.pir"),
    (["opt", str(DLRM)], "this is an ONNX model; run `pimc import"),
    (["run", "{d}/m.pir", "--inputs", str(DLRM)], "make inputs with `pimc inputs"),
    (["compile", "{d}/m.pir", "--target", "isaac", "-o", "{d}/out"],
     "this is pimc IR text, not an ONNX model"),
    (["compile", str(DLRM), "--target", "isaac", "--batch", "2", "-o", "{d}/afile"],
     "not a folder"),
    (["simulate", "{d}/tiled"], "stopped at 'tiled' (--emit); run `pimc compile` again"),
    (["compile", str(DLRM), "--target", "isaac", "--compare", "nave", "-o", "{d}/out"],
     "--compare 'nave': not 'naive', 'none' or a target"),
    (["inputs", "{d}/m.pir", "-o", "{d}/in.pir"], "name the output *.npz"),
    (["zoo", "export", "dlmr", "-o", "{d}/m.onnx"], "(did you mean 'dlrm'?)"),
]


@pytest.mark.parametrize("argv, message", CASES, ids=[c[1][:40] for c in CASES])
def test_error_names_the_fix(files, capsys, argv, message):
    code = main([a.replace("{d}", str(files)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and message.replace("{d}", str(files)) in err, err
    assert err.count("\n") == 1 and not (files / "out").exists()


def test_target_names_are_case_insensitive(tmp_path, capsys):
    assert main(["compile", str(DLRM), "--target", "ISAAC", "--batch", "2", "--emit", "ir",
                 "-o", str(tmp_path / "o")]) == 0
    assert main(["targets", "show", "Hetero"]) == 0
    assert capsys.readouterr().out.startswith("hetero:")


def test_compile_binds_named_dims(tmp_path):
    assert main(["compile", str(DLRM), "--target", "isaac", "--dim", "batch=2", "--emit",
                 "tiled", "-o", str(tmp_path / "o")]) == 0
    assert "tensor<2x" in (tmp_path / "o" / "mapped.pir").read_text()


def _actions(parser: argparse.ArgumentParser, path: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _actions(child, f"{path} {name}")
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield path, action, parser


def test_every_option_has_help_and_help_shows_defaults():
    seen = list(_actions(build_parser(), "pimc"))
    assert len(seen) > 60
    missing = [f"{p} {a.dest}" for p, a, _ in seen if not a.help]
    assert not missing, missing
    assert all(issubclass(q.formatter_class, argparse.ArgumentDefaultsHelpFormatter)
               for *_, q in seen)
    text = " ".join(next(q for p, _, q in seen if p == "pimc compile").format_help().split())
    assert "CP-SAT seconds (default: 1.0)" in text and "(default: naive)" in text
    assert "(default: None)" not in text  # the near miss: a default that is no default
