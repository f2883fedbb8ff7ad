"""The simulator's per-resource service order, packed into int keys, equals the plain tuple sort
it stands for (planned start of the batch, batch, rank, task), on random task sets; and the
ordered run without events equals the event loop."""

from __future__ import annotations

import random

import pytest

from compiler._sim_engine import Stalled, Task, _orders, _run_events, _run_in_order, run


def _reference(tasks, resources, batches, interval):
    keyed = [[] for _ in range(resources)]
    for k in range(batches):
        for i, t in enumerate(tasks):
            key = (t.at + k * interval, k, t.rank) if interval is not None else (k, t.at, t.rank)
            for r in t.use:
                keyed[r].append((key, k, i))
    return [[(k, i) for _, k, i in sorted(entries)] for entries in keyed]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("interval", [None, 0, 1, 7, 50])
def test_orders_match_the_tuple_sort(seed, interval):
    rng = random.Random(seed)
    resources = rng.randint(1, 5)
    tasks = [Task(rank=rng.randint(-3, 6), cycles=1,
                  use={r: 1 for r in rng.sample(range(resources), rng.randint(0, resources))},
                  at=rng.randint(-5, 40)) for _ in range(rng.randint(1, 12))]
    batches = rng.randint(1, 5)
    assert _orders(tasks, resources, batches, interval) == \
        _reference(tasks, resources, batches, interval)


def test_orders_of_no_tasks():
    assert _orders([], 3, 4, 10) == [[], [], []]


def _tasks(rng: random.Random, resources: int, holds: bool = False) -> list:
    """A random DAG in index order: each task reads up to two earlier ones, holds up to three
    resources for 1-5 cycles each, plans to start near its producers' planned end (sometimes
    before it, so some orders contradict the dependencies and the run stalls)."""
    tasks = []
    for i in range(rng.randint(1, 14)):
        preds = tuple(rng.sample(range(i), min(i, rng.randint(0, 2))))
        at = max([tasks[p].at + tasks[p].cycles for p in preds], default=0) + rng.randint(-2, 6)
        use = {r: rng.randint(0, 5) for r in rng.sample(range(resources),
                                                        rng.randint(0, min(3, resources)))}
        tasks.append(Task(rank=i, cycles=rng.randint(0, 9), use=use, preds=preds, at=at))
    if holds and len(tasks) > 1:
        tasks[0].holds_for = (len(tasks) - 1,)
    return tasks


def _outcome(fn):
    try:
        r = fn()
    except Stalled as exc:
        return ("stalled", exc.left, exc.resource, exc.waiting)
    return (r.start, r.end)


@pytest.mark.parametrize("seed", range(60))
def test_the_in_order_run_equals_the_event_loop(seed):
    """The ordered simulation without events gives every start and end the event loop gives,
    pipelined or not, and stalls exactly where the event loop stalls."""
    rng = random.Random(seed)
    resources = rng.randint(1, 4)
    tasks = _tasks(rng, resources)
    batches = rng.randint(1, 6)
    interval = rng.choice([None, 1, 3, 8, 20])
    order = _orders(tasks, resources, batches, interval)
    events = _outcome(lambda: _run_events(tasks, resources, batches, interval, order))
    assert _outcome(lambda: run(tasks, resources, batches, interval, ordered=True)) == events
    fast = _run_in_order(tasks, batches, interval, order)
    if events[0] == "stalled":
        assert fast is None
    else:
        assert (fast.start, fast.end) == events


def test_a_holding_task_is_left_to_the_event_loop():
    tasks = [Task(0, 2, {0: 2}, holds_for=(1,)), Task(1, 1, {0: 1}, preds=(0,), at=2)]
    assert _run_in_order(tasks, 2, 5, _orders(tasks, 1, 2, 5)) is None
    assert run(tasks, 1, 2, 5, ordered=True).start == [[0, 2], [5, 7]]
