"""What scoring one layout keeps for the next (passes/_placement: the anchored layout and the
crossbars of each op's tiles by placement, durations by replica counts, each op's uses and
spot by its locations) and its shortcuts (earliest finish's inputs grouped by where they come
from, the least latency that loses) must answer exactly what working everything out afresh
answers, whatever was scored before on the same problem."""

import dataclasses
from pathlib import Path

import pytest

from compiler.driver import compile
from passes._placement import digital, placement, timeline
from passes._placement.heuristics import greedy, naive
from passes._placement.layout import Layout
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


def test_uses_follow_the_duration_as_well_as_the_locations(modules):
    """Two layouts with the same locations but other replica counts: the second's uses are
    its own, not the first's kept ones."""
    for module in modules:
        prob = Problem.of(module)
        layout = layout_of(prob, naive(prob))
        if not layout.replicas:
            continue
        first = timeline._wanted(prob, layout, timeline._durations(prob, layout))
        other = Layout(layout.loc, {i: 2 for i in layout.replicas})
        durations = timeline._durations(prob, other)
        got = timeline._wanted(prob, other, durations)
        fresh = Problem.of(module)
        assert durations == timeline._durations(fresh, other)
        assert got == timeline._wanted(fresh, other, durations)
        assert got != first


def test_inputs_grouped_by_source_are_ready_when_each_one_is(modules, monkeypatch):
    """Earliest finish times a digital op's inputs on a tile from (source, bytes) groups; that
    must be when `ready` says, input by input, for every candidate tile."""
    checked = 0
    choose = digital._ListSchedule.choose_tile

    def checking(self, info, d, inbound):
        nonlocal checked
        for tile in self.candidates(info):
            assert self.ready_on(inbound, tile) == self.ready(info, (tile,))
            checked += 1
        return choose(self, info, d, inbound)

    monkeypatch.setattr(digital._ListSchedule, "choose_tile", checking)
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
