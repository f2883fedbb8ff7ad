"""The simulator's per-resource service order, packed into int keys, equals the plain tuple sort
it stands for (planned start of the batch, batch, rank, task), on random task sets."""

from __future__ import annotations

import random

import pytest

from compiler._sim_engine import Task, _orders


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
