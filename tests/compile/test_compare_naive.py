"""`pimc compile --compare naive` continues from the compile's own tiled module instead of
compiling the model a second time; its numbers are exactly those of the fresh compile, and it
compiles afresh where the front ends differ (--pipeline, --profile)."""

from pathlib import Path

import pytest

import compiler.driver
from compiler.cli import build_parser, main
from compiler.compare import compared, kept_stage
from compiler.driver import compile
from ir.errors import PimcError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "onnx"
DLRM = FIXTURES / "torchrec_dlrm_legacy.onnx"


def _args(*extra: str):
    return build_parser().parse_args(["compile", str(DLRM), "--target", "hetero", "--batch",
                                      "8", "-o", "out", *extra])


@pytest.mark.parametrize("model", ["torchrec_dlrm_legacy.onnx", "deepctr_dcn_legacy.onnx"])
@pytest.mark.parametrize("target", ["isaac", "hetero"])
def test_continued_naive_numbers_equal_a_fresh_compiles(model, target):
    args = build_parser().parse_args(["compile", str(FIXTURES / model), "--target", target,
                                      "--batch", "8", "-o", "out"])
    result = compile(args.model, target, batch=8, objective=args.objective, keep="tiled")
    assert result.kept is not None
    continued = compared(args, result, {})
    assert result.kept is None  # used once: continuing rewrites it
    assert continued == compared(args, result, {})  # now compiled from the model


def test_the_cli_compiles_the_model_once(monkeypatch, tmp_path):
    calls = []
    real = compiler.driver.compile

    def counted(*a, **k):
        calls.append(k.get("pipeline"))
        return real(*a, **k)

    monkeypatch.setattr(compiler.driver, "compile", counted)
    assert main(["compile", str(DLRM), "--target", "isaac", "--batch", "8", "--compare",
                 "naive", "-o", str(tmp_path / "out")]) == 0
    assert calls == [None]
    assert "naive" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize("extra", [["--pipeline", "canonicalize"], ["--profile", "p.npz"],
                                   ["--compare", "none"], ["--compare", "isaac"],
                                   ["--emit", "tiled"]])
def test_nothing_is_kept_where_the_front_ends_differ_or_nothing_is_naive(extra):
    assert kept_stage(_args(*extra)) is None


def test_naive_keeps_the_tiled_module():
    assert kept_stage(_args()) == "tiled"
    assert kept_stage(_args("--compare", "naive,isaac")) == "tiled"


def test_keep_names_a_default_stage():
    with pytest.raises(PimcError, match="keep 'tiles'; accepted: a stage of the default"):
        compile(DLRM, "isaac", batch=8, keep="tiles")
    with pytest.raises(PimcError, match="keep 'tiled'"):
        compile(DLRM, "isaac", batch=8, keep="tiled", pipeline="canonicalize")
