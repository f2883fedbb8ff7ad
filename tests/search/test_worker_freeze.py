"""A search worker moves what it keeps for its life out of the collector's reach once, after
loading its supernet (``search.evaluate.freeze_worker_state``), and only then: a candidate's
own cycles are still collected."""

from __future__ import annotations

import gc

import pytest

import search.evaluate as ev


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_state_alive_at_the_freeze_is_frozen_and_later_cycles_are_collected(unfrozen):
    kept = _Cycle()  # the worker's long-lived state, built before the freeze
    before = gc.get_freeze_count()
    ev.freeze_worker_state()
    assert gc.get_freeze_count() > before
    assert not any(o is kept for o in gc.get_objects())  # out of every generation
    later = _Cycle()  # a candidate's cycle, after the freeze
    gc.collect()
    assert any(o is later for o in gc.get_objects())
    del later
    assert gc.collect() >= 1  # still collected


def test_the_scorer_freezes_once_per_supernet_it_loads(monkeypatch, unfrozen):
    """_scorer freezes after building a Scorer, not on the candidates that reuse it (the near
    miss: freezing per candidate would freeze each one's cycles for good)."""
    import search._accuracy as accuracy

    loads, freezes = [], []
    monkeypatch.setattr(accuracy, "Scorer", lambda *a: loads.append(a) or object())
    monkeypatch.setattr(ev, "freeze_worker_state", lambda: freezes.append(len(loads)))
    setup = ev.Setup("net.pt", "abc", "movielens:x")
    ev._SCORERS.clear()
    first = ev._scorer(setup)
    assert ev._scorer(setup) is first and freezes == [1]
    other = ev.Setup("net.pt", "abc", "movielens:x", rows=setup.rows + 1)
    ev._scorer(other)
    assert freezes == [1, 2]
    ev._SCORERS.clear()


def test_a_cycle_frozen_and_dropped_since_is_collected_at_the_next_freeze(unfrozen):
    """A worker that loads another supernet: what the first freeze kept and nothing holds
    any more (the old supernet's cycles) is collected when the new state is frozen."""
    import weakref

    old = _Cycle()
    ev.freeze_worker_state()
    gone = weakref.ref(old)
    del old
    gc.collect()
    assert gone() is not None  # frozen: out of the collector's reach
    ev.freeze_worker_state()
    assert gone() is None
