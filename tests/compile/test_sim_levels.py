"""The ordered run's numpy ways (``compiler._sim_levels``: level by level, node by node, and
batch 0 shifted by whole intervals) give every start and end the event loop gives, on random
task graphs: pipelined or not, with streamed-weight holds, with plans that contradict their
dependencies (and stall), and with only the first batches kept."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import _sim_levels, _sim_plan
from compiler._sim_engine import Stalled, Task, _orders, _run_events, _run_in_order, run

INTERVALS = st.sampled_from([None, 1, 3, 8, 20])


@st.composite
def graphs(draw, planned: bool) -> list[Task]:
    """A random DAG in index order. `planned`: every task planned at or after its producers'
    planned ends and ranked by planned start, as a compiled schedule is; otherwise planned
    starts may precede the producers' and ranks are random (some orders then stall)."""
    resources = draw(st.integers(1, 4))
    tasks: list[Task] = []
    for i in range(draw(st.integers(1, 12))):
        preds = tuple(draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True))) if i else ()
        base = max((tasks[p].at + tasks[p].cycles for p in preds), default=0)
        at = base + draw(st.integers(0 if planned else -4, 12))
        use = draw(st.dictionaries(st.integers(0, resources - 1), st.integers(0, 6), max_size=3))
        tasks.append(Task(rank=draw(st.integers(-3, 20)), cycles=draw(st.integers(0, 9)),
                          use=use, preds=preds, at=at))
    if planned:
        for rank, i in enumerate(sorted(range(len(tasks)), key=lambda i: (tasks[i].at, i))):
            tasks[i].rank = rank
    if len(tasks) > 1 and draw(st.booleans()) and draw(st.booleans()):
        tasks[0].holds_for = (len(tasks) - 1,)
    return tasks


def _resources(tasks: list[Task]) -> int:
    return 1 + max((r for t in tasks for r in t.use), default=0)


def _outcome(fn, keep: int):
    try:
        r = fn()
    except Stalled as exc:
        return ("stalled", exc.left, exc.resource, exc.waiting)
    return (r.start[:keep], r.end[:keep])


def _events(tasks, batches, interval, keep):
    order = _orders(tasks, _resources(tasks), batches, interval)
    return _outcome(lambda: _run_events(tasks, _resources(tasks), batches, interval, order), keep)


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.one_of(graphs(True), graphs(False)), st.integers(1, 7), INTERVALS, st.data())
def test_the_run_equals_the_event_loop(tasks, batches, interval, data):
    """Whichever way `run` takes, its kept batches and its stalls are the event loop's."""
    keep = data.draw(st.integers(1, batches))
    got = _outcome(lambda: run(tasks, _resources(tasks), batches, interval, ordered=True,
                               keep=keep), keep)
    assert got == _events(tasks, batches, interval, keep)


@SETTINGS
@given(graphs(True), st.integers(1, 7), INTERVALS, st.sampled_from([0, 10 ** 9]), st.data())
def test_levels_and_one_pass_equal_the_event_loop(tasks, batches, interval, per_level, data):
    """Level by level (`per_level` 0) and node by node (a huge one), never taking batch 0
    shifted (pipelined: a batch-0 run far off; not pipelined: that way turned off), the kept
    batches are the event loop's."""
    keep = data.draw(st.integers(1, batches))
    old, serial = _sim_levels._PER_LEVEL, _sim_levels._serial
    _sim_levels._PER_LEVEL = per_level
    _sim_levels._serial = lambda plan, keep: None
    try:
        got = _sim_levels.run_levels(tasks, batches, interval, keep, [10 ** 9] * len(tasks))
    finally:
        _sim_levels._PER_LEVEL, _sim_levels._serial = old, serial
    want = _events(tasks, batches, interval, keep)
    if tasks[0].holds_for:
        assert got is None  # the event loop's rule
    else:
        assert (got.start, got.end) == want


@SETTINGS
@given(graphs(True), st.integers(2, 7), st.sampled_from([1, 3, 8, 20]), st.data())
def test_batch_zero_shifted_is_taken_only_when_it_is_the_run(tasks, batches, interval, data):
    keep = data.draw(st.integers(1, batches))
    if tasks[0].holds_for:
        return
    alone = _run_in_order(tasks, 1, interval, _orders(tasks, _resources(tasks), 1, interval))
    plan = _sim_plan.Plan(tasks, batches, interval, keep)
    got = _sim_levels._periodic(plan, interval, keep, alone.start[0])
    if got is not None:
        assert (got.start, got.end) == _events(tasks, batches, interval, keep)


def _pipeline(depth: int) -> list[Task]:
    """A chain of `depth` ops, each on its own crossbar, every fifth also on one shared digital
    unit (resource 0; busy 3 x depth / 5 cycles a batch), planned back to back: a deep
    pipeline, many batches in flight."""
    tasks = []
    for i in range(depth):
        use = {1 + i: 7, **({0: 3} if i % 5 == 0 else {})}
        tasks.append(Task(rank=i, cycles=7, use=use, preds=(i - 1,) if i else (), at=7 * i))
    return tasks


def test_a_deep_pipeline_is_batch_zero_shifted_and_a_near_miss_is_refused():
    tasks, interval = _pipeline(40), 40  # the shared unit 5 cycles apart modulo 40
    batches, keep = 8 + 7 * 40 // interval + 1, 8
    alone = run(tasks, 41, 1, interval, ordered=True).start[0]
    plan = _sim_plan.Plan(tasks, batches, interval, keep)
    got = _sim_levels._periodic(plan, interval, keep, alone)
    assert got is not None
    assert (got.start, got.end) == _events(tasks, batches, interval, keep)
    late = list(alone)
    late[17] += 1  # one task one cycle off: its own constraints no longer give its start
    assert _sim_levels._periodic(plan, interval, keep, late) is None


def test_one_batch_after_another_is_batch_zero_shifted_unless_a_hold_outlasts_its_task():
    """Not pipelined, batch k is batch 0 run alone, started when batch k - 1 is done; a task
    that holds a resource past its own end (the near miss) keeps the next batch waiting
    longer, and the run is then computed in full."""
    tasks = [Task(0, 2, {0: 2}, at=0), Task(1, 3, {1: 3}, preds=(0,), at=2)]
    got = _sim_levels._serial(_sim_plan.Plan(tasks, 3, None, 3), 3)
    assert got.start == [[0, 2], [5, 7], [10, 12]]
    assert (got.start, got.end) == _events(tasks, 3, None, 3)
    held = [Task(0, 2, {0: 6}, at=0), Task(1, 3, {1: 3}, preds=(0,), at=2)]
    assert _sim_levels._serial(_sim_plan.Plan(held, 3, None, 3), 3) is None
    want = _events(held, 3, None, 3)
    assert want[0][1] == [6, 8]  # batch 1 waits for resource 0, not only for batch 0's end
    r = run(held, 2, 3, None, ordered=True)
    assert (r.start, r.end) == want


@pytest.mark.parametrize("interval", [None, 4, 10])
def test_keeping_the_first_batches_keeps_their_starts(interval):
    tasks = _pipeline(12)
    full = run(tasks, 13, 6, interval, ordered=True)
    part = run(tasks, 13, 6, interval, ordered=True, keep=2)
    assert (part.start, part.end) == (full.start[:2], full.end[:2])
