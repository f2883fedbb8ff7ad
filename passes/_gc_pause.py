"""Stages that build many small objects, run without the cyclic garbage collector.

Scoring a layout builds and drops hundreds of thousands of small tuples and lists; every 700
allocations CPython's collector runs, and its older generations hold the whole IR module, so
about a third of the placer's time went to traversing ops that stay alive throughout. The same
holds for tiling, scheduling, the lower bounds, the schedule JSON and its checker, the report
and the simulator, which use this too (the checker: 0.45 s with the collector on, 0.2 s off,
for a nasrec candidate's 16k tiles). What they build is freed by reference counting as usual; the
few cycles they leave (ops a rewrite dropped) are collected once the collector is back on, as
it was, when the body ends. Nothing about the results depends on it.

A whole compile runs paused too (the driver's compile and continue_compile): with the
collector on between its stages, every stage's survivors (the placement problem, the schedule
JSON) were traversed as the young generation right after its pause, about 100 ms of a 0.85 s
search-loop candidate; one young collection after the compile does that work once.
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
