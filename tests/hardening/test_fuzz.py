"""The fuzz campaign at a modest size: malformed ONNX graphs, mutated .pir text and mutated
target YAML either succeed or fail with a one-line PimcError (bench/fuzz.py runs 100,000)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

import fuzz  # noqa: E402

_SETTINGS = settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck))


def _allowed(fn) -> str:
    outcome, detail = fuzz.classify(fn, deadline=10.0)
    assert outcome in ("ok", "one-line error"), f"{outcome}: {detail}"
    return outcome


@_SETTINGS
@given(model=fuzz.onnx_models())
def test_malformed_onnx_graphs(model) -> None:
    _allowed(lambda: fuzz.run_onnx(model))


@_SETTINGS
@given(text=fuzz.pir_texts())
def test_mutated_pir_text(text) -> None:
    _allowed(lambda: fuzz.run_pir(text))


@_SETTINGS
@given(text=fuzz.target_texts())
def test_mutated_target_yaml(tmp_path_factory, text) -> None:
    _allowed(lambda: fuzz.run_target(text, tmp_path_factory.mktemp("t")))


@pytest.mark.parametrize("bad,expected", [
    (lambda: 1 / 0, "traceback"),
    (lambda: (_ for _ in ()).throw(fuzz.PimcError("a\nb")), "multi-line error"),
    (lambda: __import__("time").sleep(5), "hang"),
])
def test_the_classifier_sees_each_bad_outcome(bad, expected) -> None:
    """Near miss of the campaign: a crash, a two-line error and a hang are not let through."""
    assert fuzz.classify(bad, deadline=0.2)[0] == expected


def test_the_seeds_themselves_succeed(tmp_path) -> None:
    for text in fuzz.PIR_SEEDS:
        assert fuzz.classify(lambda: fuzz.run_pir(text), 10.0) == ("ok", "")
    preset = (BENCH.parent / "targets" / "presets" / "isaac.yaml").read_text()
    assert fuzz.classify(lambda: fuzz.run_target(preset, tmp_path), 10.0) == ("ok", "")
