"""Placement and scheduling without the cyclic garbage collector.

Scoring a layout builds and drops hundreds of thousands of small tuples and lists; every 700
allocations CPython's collector runs, and its older generations hold the whole IR module, so
about a third of the placer's time went to traversing ops that stay alive throughout. The
objects a pass builds hold no reference cycles that outlive it (they are freed by reference
counting as usual), so while a pass places or schedules the collector is off, and it is back
on, as it was, when the pass ends. Nothing about the results depends on it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (restored afterwards)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
