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
    if holds and len(tasks) > 1:  # task 0 feeds the last, as a weight load feeds its tile op
        tasks[0].holds_for = (len(tasks) - 1,)
        tasks[-1].preds = tuple(sorted({0, *tasks[-1].preds}))
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


class _Stepped:
    """The ordered run's rules applied cycle by cycle (the reference for runs with held
    resources): at each cycle, over and over until nothing changes, every task starts whose
    batch is released, whose producers are done, and which on each of its resources is next
    in the order, finds it free and finds it held by nobody or for itself."""

    def __init__(self, tasks, resources, batches, interval, order):
        n = len(tasks)
        self.tasks, self.batches, self.interval, self.order = tasks, batches, interval, order
        self.start = [[-1] * n for _ in range(batches)]
        self.end = [[-1] * n for _ in range(batches)]
        self.free_at, self.turn, self.held = [0] * resources, [0] * resources, [None] * resources
        self.holder = {c: i for i, t in enumerate(tasks) for c in t.holds_for}
        self.released = [k * interval if interval is not None else None
                         for k in range(batches)]
        self.released[0] = 0

    def done(self, k, i, now):
        return 0 <= self.end[k][i] <= now

    def settle(self, now):
        """Holds whose consumers are all done end; a batch is released once the one before
        it is done (not pipelined)."""
        for r, h in enumerate(self.held):
            if h and all(self.done(h[0], c, now) for c in self.tasks[h[1]].holds_for):
                self.held[r] = None
        for k in range(1, self.batches):
            if self.released[k] is None and all(self.done(k - 1, i, now)
                                                for i in range(len(self.tasks))):
                self.released[k] = now

    def can_start(self, k, i, now):
        t = self.tasks[i]
        return all(self.done(k, p, now) for p in t.preds) and all(
            self.order[r][self.turn[r]] == (k, i) and self.free_at[r] <= now and
            self.held[r] in (None, (k, self.holder.get(i, -1))) for r in t.use)

    def step(self, now):
        """One pass over the waiting tasks, oldest batch and lowest rank first; whether one
        started."""
        self.settle(now)
        changed = False
        for k, row in enumerate(self.start):
            if self.released[k] is None or self.released[k] > now:
                continue
            for i in sorted((i for i, s in enumerate(row) if s < 0),
                            key=lambda i: self.tasks[i].rank):
                if self.can_start(k, i, now):
                    t = self.tasks[i]
                    self.start[k][i], self.end[k][i] = now, now + t.cycles
                    for r, cycles in t.use.items():
                        self.free_at[r], self.turn[r] = now + cycles, self.turn[r] + 1
                        if t.holds_for:
                            self.held[r] = (k, i)
                    changed = True
        return changed


def _stepped(tasks, resources, batches, interval, order):
    """The starts and ends the rules give (`_Stepped`), or None where the run stalls."""
    run_ = _Stepped(tasks, resources, batches, interval, order)
    horizon = (batches + 1) * (sum(t.cycles + sum(t.use.values()) for t in tasks) +
                               (interval or 0)) + 1
    for now in range(horizon):
        while run_.step(now):
            pass
        if all(s >= 0 for row in run_.start for s in row):
            return run_.start, run_.end
    return None


@pytest.mark.parametrize("seed", range(80))
def test_the_event_loop_with_held_resources_follows_the_rules_cycle_by_cycle(seed):
    """With a task holding its resources for a consumer (a streamed weight load), the ordered
    run is the event loop's: the same starts and ends as the rules applied cycle by cycle, or
    a stall where they stall."""
    rng = random.Random(seed)
    resources = rng.randint(1, 3)
    tasks = _tasks(rng, resources, holds=True)
    batches = rng.randint(1, 5)
    interval = rng.choice([None, 1, 3, 8, 20])
    want = _stepped(tasks, resources, batches, interval, _orders(tasks, resources, batches,
                                                                 interval))
    got = _outcome(lambda: run(tasks, resources, batches, interval, ordered=True))
    if want is None:
        assert got[0] == "stalled"
    else:
        assert got == want
