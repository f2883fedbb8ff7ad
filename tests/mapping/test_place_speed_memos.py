"""What scoring one layout keeps for the next (passes/_placement: the anchored layout and the
crossbars of each op's tiles by placement) and its shortcuts (earliest finish's inputs grouped by where they come
from, the least latency that loses) must answer exactly what working everything out afresh
answers, whatever was scored before on the same problem."""

import dataclasses
from pathlib import Path

import pytest

from compiler.driver import compile
from passes._placement import digital, placement, timeline
from passes._placement.heuristics import greedy, naive
from passes._placement.placement import DIGITAL_STRATEGIES, layout_of
from passes._placement.problem import Problem
from passes._placement.timeline import least_losing, schedule

ONNX = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx"
CASES = [("torchrec_dlrm_legacy", "isaac"), ("torchfm_xdfm_legacy", "hetero"),
         ("deepctr_wdl_legacy", "puma")]


@pytest.fixture(scope="module")
def modules():
    return [compile(ONNX / f"{name}.onnx", target, batch=8, emit="tiled").module
            for name, target in CASES]


def _candidates(prob: Problem):
    """Naive, greedy stopped early and grown, each with every digital strategy, in the order
    the placer scores them (one placement's strategies in a row)."""
    for place in (naive(prob), greedy(prob, 2000), greedy(prob)):
        for strategy in DIGITAL_STRATEGIES:
            yield dataclasses.replace(place, digital=strategy)


def _times(tl):
    return (tl.start, tl.end, tl.latency, tl.interval, tl.busy,
            [(m.start, m.end, m.sends, m.consumers) for m in tl.moves])


def test_layouts_and_schedules_after_others_are_the_fresh_ones(modules):
    """One problem scores every candidate in turn (its memos warm from the ones before);
    each layout and schedule equals that of a problem that never scored anything."""
    grew = 0
    for module in modules:
        warm = Problem.of(module)
        for place in _candidates(warm):
            layout = placement._layout(warm, place)
            fresh = Problem.of(module)
            want = layout_of(fresh, place)
            assert dict(layout.loc) == dict(want.loc)
            assert dict(layout.replicas) == dict(want.replicas)
            grew += any(r > 1 for r in want.replicas.values())
            for pipelined in (False, True):
                assert _times(schedule(warm, layout, pipelined)) == \
                    _times(schedule(Problem.of(module), want, pipelined))
    assert grew, "no candidate replicated an op: the memos never saw two layouts differ"


def _ready_input_by_input(ls, info, dst):
    """When every input of `info` has reached every tile of `dst`, one input at a time."""
    port = dst[0] == digital.PORT
    return max([ls.end[p] + (0 if port else max(ls.move(ls.reach(p)[0], d, ls.nbytes[
        (p, info.index)]) for d in dst)) for p in info.preds], default=0)


def test_inputs_grouped_by_source_are_ready_when_each_one_is(modules, monkeypatch):
    """Earliest finish times an op's inputs from (source, bytes) groups; that must be when
    they arrive input by input, on every candidate tile of a digital op and wherever any
    other op is."""
    checked = []
    choose, step = digital._ListSchedule.choose_tile, digital._ListSchedule.step

    def choosing(self, info, d, inbound):
        for tile in self.candidates(info):
            assert self.ready(inbound, (tile,)) == _ready_input_by_input(self, info, (tile,))
            checked.append(tile)
        return choose(self, info, d, inbound)

    def stepping(self, info):
        if info.unit != "digital":
            dst = self.reach(info.index)
            assert self.ready(self.inbound(info), dst) == _ready_input_by_input(self, info, dst)
            checked.append(dst)
        return step(self, info)

    monkeypatch.setattr(digital._ListSchedule, "choose_tile", choosing)
    monkeypatch.setattr(digital._ListSchedule, "step", stepping)
    for module in modules:
        prob = Problem.of(module)
        digital.earliest_finish(prob, layout_of(prob, greedy(prob)))
    assert checked


@pytest.mark.parametrize("bar", [0, 1, 2, 7, 1000, 123456789, 1 << 61])
def test_the_least_losing_count_is_the_first_that_loses(bar):
    assert least_losing(lambda n: n >= bar) == bar
    assert least_losing(lambda n: n > bar) == bar + 1


def test_nothing_loses_below_never():
    never = least_losing(lambda n: False)
    assert never == timeline._NEVER
    assert least_losing(lambda n: n >= never) == never
