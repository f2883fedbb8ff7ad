"""A compile runs with the cyclic garbage collector paused from start to end (passes/_gc_pause.py
says why) and leaves it as the caller had it, also when the compile fails or is stopped."""

import gc
from pathlib import Path

import pytest

import passes.manager
from compiler.driver import compile, continue_compile
from compiler.pipelines import stage_specs
from ir.errors import PimcError

DLRM = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


@pytest.fixture
def seen(monkeypatch):
    """Whether the collector was on at every pass manager run."""
    states = []
    real = passes.manager.PassManager.run

    def run(self, module):
        states.append(gc.isenabled())
        return real(self, module)

    monkeypatch.setattr(passes.manager.PassManager, "run", run)
    return states


def test_compile_runs_paused_and_restores_the_collector(seen):
    assert gc.isenabled()
    result = compile(DLRM, "isaac", batch=8, check="full", keep="tiled")
    assert seen and not any(seen)
    assert gc.isenabled()
    seen.clear()
    rest = [spec for name, spec in stage_specs("isaac", "throughput", 0.2, 0, solver="naive")
            if name in ("placed", "scheduled")]
    continue_compile(result.kept, "isaac", ",".join(rest), "throughput", result.inputs)
    assert seen and not any(seen)
    assert gc.isenabled()


def test_a_caller_with_the_collector_off_keeps_it_off(seen):
    gc.disable()
    try:
        compile(DLRM, "isaac", batch=8, check="none")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_failed_compile_restores_the_collector(seen):
    with pytest.raises(PimcError):
        compile(DLRM, "isaac", batch=8, check="none", objective="fastest")
    with pytest.raises(PimcError):
        compile(DLRM, "no-such-target", batch=8, check="none")
    assert gc.isenabled()
