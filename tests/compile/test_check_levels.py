"""`compile(..., check="none"|"final"|"full")`: what each level checks, that the levels give
the same mapping, and what a search reuses between candidates (targets, ORT sessions)."""

import json
from pathlib import Path

import pytest

import compiler.checker
import compiler.functional
import passes.manager
from compiler.driver import compile
from ir.errors import PimcError
from targets import load_target

ROOT = Path(__file__).resolve().parents[2]
DLRM = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


@pytest.fixture
def verifications(monkeypatch):
    """Counts IR verifications: after the import, between passes and at the end of the flow."""
    import frontend.onnx._importer
    import ir.verify

    calls = []
    real = ir.verify.verify

    def counted(module):
        calls.append(module)
        return real(module)

    monkeypatch.setattr(passes.manager, "verify", counted)
    monkeypatch.setattr(ir.verify, "verify", counted)
    monkeypatch.setattr(frontend.onnx._importer, "verify", counted)
    return calls


def _schedule(c) -> str:
    return json.dumps(c.schedule, sort_keys=True)


def _count(calls, level):
    before = len(calls)
    c = compile(DLRM, "isaac", batch=8, check=level)
    return c, len(calls) - before


def test_every_level_maps_the_same_and_only_the_checking_ones_check(verifications):
    none, n_none = _count(verifications, "none")
    final, n_final = _count(verifications, "final")
    full, n_full = _count(verifications, "full")
    assert (n_none, n_final) == (0, 1) and n_full > 5  # never; at the end; after every pass
    assert full.functional["passed"] and final.functional["passed"]
    assert none.functional is None
    assert _schedule(full) == _schedule(final) == _schedule(none)
    assert full.report == final.report == none.report


def test_booleans_still_mean_full_and_none(verifications):
    on, n_on = _count(verifications, True)
    off, n_off = _count(verifications, False)
    assert on.functional["passed"] and off.functional is None
    assert n_on > 5 and n_off == 0


@pytest.mark.parametrize("bad", ["partial", "FULL", 1, None])
def test_an_unknown_level_is_refused_naming_the_accepted_ones(bad):
    with pytest.raises(PimcError) as exc:
        compile(DLRM, "isaac", batch=8, check=bad)
    text = str(exc.value)
    assert "none, final, full" in text and "\n" not in text


@pytest.mark.parametrize("level", ["final", "full"])
def test_checking_levels_fail_on_a_bad_schedule_and_a_failed_functional_check(level,
                                                                               monkeypatch):
    monkeypatch.setattr(compiler.checker, "check_schedule", lambda s: ["op 3 overlaps op 4"])
    with pytest.raises(PimcError, match="schedule check failed"):
        compile(DLRM, "isaac", batch=8, check=level)
    monkeypatch.undo()
    monkeypatch.setattr(compiler.functional, "functional_check",
                        lambda *a, **k: {"passed": False, "detail": "output y: too far"})
    with pytest.raises(PimcError, match="functional check failed: output y"):
        compile(DLRM, "isaac", batch=8, check=level)


def test_none_checks_nothing_a_search_does_not_ask_for(monkeypatch):
    monkeypatch.setattr(compiler.checker, "check_schedule", lambda s: ["op 3 overlaps op 4"])
    monkeypatch.setattr(compiler.functional, "functional_check",
                        lambda *a, **k: pytest.fail("the functional check ran"))
    c = compile(DLRM, "isaac", batch=8, check="none")
    assert c.schedule["ops"] and c.report["latency_cycles"] > 0


def test_the_same_model_checked_twice_reuses_its_onnx_runtime_session():
    import onnx

    proto = onnx.load(str(DLRM))
    compile(proto, "isaac", batch=8, check="final")
    first = compiler.functional._session(proto)
    compile(proto, "hetero", batch=8, check="final")
    assert compiler.functional._session(proto) is first
    proto.graph.name = "another"  # another model (here: other bytes) gets its own session
    assert compiler.functional._session(proto) is not first


def test_targets_are_parsed_once_per_file_version(tmp_path):
    assert load_target("isaac") is load_target("isaac")
    src = (ROOT / "targets" / "presets" / "isaac.yaml").read_text()
    path = tmp_path / "mine.yaml"
    path.write_text(src)
    first = load_target(path)
    assert load_target(str(path)) is first
    path.write_text(src.replace("name: isaac", "name: mine", 1))
    second = load_target(path)
    assert second is not first and second.name == "mine"
