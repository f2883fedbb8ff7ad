"""A released compile result frees its IR by reference counting (`Compiled.release`), and the
search loop's `loop_cost` gives the figures of `compile_cost` with its result released and the
collector as the caller had it."""

import gc
from pathlib import Path

import pytest

from compiler.driver import compile
from ir.core import Module, Op
from ir.errors import PimcError
from search.evaluate import EvalOptions, compile_cost, loop_cost

DLRM = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


def _live(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), kind))  # no __class__ read


@pytest.fixture
def collector_off():
    """No collection may free anything during the test: what is freed, refcounting freed."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if was:
        gc.enable()


def test_a_released_result_is_freed_without_a_collection(collector_off):
    result = compile(DLRM, "isaac", batch=8, check="none", keep="tiled")
    ops = len(result.module.main.ops) + len(result.kept.main.ops)
    schedule, report = result.schedule, result.report
    before = _live(Op)
    result.release()
    assert result.module is None and result.kept is None
    assert result.schedule is schedule and result.report is report  # the figures stay
    del result
    assert before - _live(Op) >= ops


def test_an_unreleased_result_waits_for_the_collector(collector_off):
    """The near miss: without the release, the op-value links keep every op alive."""
    result = compile(DLRM, "isaac", batch=8, check="none")
    ops = len(result.module.main.ops)
    before = _live(Op)
    del result
    assert before - _live(Op) < ops
    gc.collect()
    assert before - _live(Op) >= ops


def test_release_twice_is_harmless():
    result = compile(DLRM, "isaac", batch=8, check="none", emit="ir")
    result.release()
    result.release()
    assert result.module is None


def test_a_released_module_says_so_when_used_again():
    module = compile(DLRM, "isaac", batch=8, check="none", emit="ir").module
    op = module.main.ops[0]
    module.release()
    assert module.graphs == [] and all(v.owner is None for v in op.results)
    assert isinstance(module, Module)


@pytest.mark.parametrize("enabled", [True, False])
def test_loop_cost_is_compile_cost_released(enabled):
    opts = EvalOptions(batch=8)
    want = compile_cost(str(DLRM), "isaac", opts)[1]
    (gc.enable if enabled else gc.disable)()
    try:
        got = loop_cost(str(DLRM), "isaac", opts)
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert got == want


def test_loop_cost_restores_the_collector_when_the_compile_fails():
    with pytest.raises(PimcError):
        loop_cost(str(DLRM), "no-such-target", EvalOptions(batch=8))
    assert gc.isenabled()


def test_loop_cost_releases_before_the_collector_is_back(monkeypatch):
    """Released while the collector is still paused: else the collection it would run at once
    traverses the whole result, the cost the release is there to save."""
    import compiler.driver

    states = []
    real = compiler.driver.Compiled.release

    def release(self):
        states.append(gc.isenabled())
        real(self)

    monkeypatch.setattr(compiler.driver.Compiled, "release", release)
    loop_cost(str(DLRM), "isaac", EvalOptions(batch=8))
    assert states == [False] and gc.isenabled()


def test_loop_cost_drops_the_whole_result_before_the_collector_is_back(monkeypatch):
    """The released result still holds its schedule and report (a dict per op and transfer):
    kept alive until the collector is back on, they were traversed by the young collection
    that follows at once (13-60 ms of a nasrec candidate). The result is dropped while the
    collector is still paused, so only the cost figures outlive the pause."""
    import weakref

    import compiler.driver

    seen = []
    real = compiler.driver.Compiled.release

    def release(self):
        seen.append(weakref.ref(self))
        real(self)

    monkeypatch.setattr(compiler.driver.Compiled, "release", release)
    real_enable = gc.enable

    def enable():  # the pause's end: the result must already be gone
        seen.append([ref() is None for ref in seen if isinstance(ref, weakref.ref)])
        real_enable()

    monkeypatch.setattr(gc, "enable", enable)
    try:
        loop_cost(str(DLRM), "isaac", EvalOptions(batch=8))
    finally:
        real_enable()
    assert seen[-1] == [True]


def test_the_loop_pipeline_leaves_out_the_bound_it_does_not_read():
    """The loop reads no bound: its pipeline is the default one, place's solver set, without
    the lower-bound pass; its figures are those of the default pipeline with that solver."""
    from compiler.pipelines import stage_specs
    from search.evaluate import loop_pipeline

    opts = EvalOptions(batch=8)
    loop = loop_pipeline("isaac", opts, 8)
    default = ",".join(s for _, s in stage_specs("isaac", opts.objective, opts.time_limit,
                                                 opts.seed, "default=8",
                                                 solver=opts.placement))
    assert "lower-bound" not in loop and "lower-bound," in default
    assert loop == default.replace("lower-bound,", "")
    got = compile(str(DLRM), "isaac", batch=8, objective=opts.objective, pipeline=loop,
                  check="none")
    want = compile(str(DLRM), "isaac", batch=8, objective=opts.objective, pipeline=default,
                   check="none")
    assert got.report["bound"] == {} and want.report["bound"]
    assert got.schedule == want.schedule
    assert got.report["simulated"] == want.report["simulated"]


FIXTURES = DLRM.parent
# Fixtures and targets whose loop compiles pass through every place ops are dropped: folded
# shape expressions and dead constants (import), rewrites and dead code (canonicalize and
# fusion), replaced ops (tile), the lowerings partition prices (a GRU on isaac), bank shards,
# probed movement (sample inputs) and the fm rule's check.
NO_CYCLES = [("torchrec_dlrm_dynamo", "isaac"), ("recbole_narm_legacy", "isaac"),
             ("deepctr_deepfm_legacy", "hetero"), ("torchfm_fm_legacy", "isaac"),
             ("deepctr_afm_legacy", "isaac"), ("rechub_din_legacy", "hetero")]


@pytest.mark.parametrize("model, target", NO_CYCLES)
def test_a_loop_compile_leaves_no_cycle_for_the_collector(model, target):
    """Every op a compile drops or builds only to price or type is detached (`ir.core.detach`),
    so a released loop compile leaves nothing for the cyclic collector (it walked 3.2k objects
    of a nasrec-float candidate before)."""
    path = FIXTURES / f"{model}.onnx"
    loop_cost(path, target, EvalOptions(batch=8))  # first use: lazily built tables settle
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        loop_cost(path, target, EvalOptions(batch=8))
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
