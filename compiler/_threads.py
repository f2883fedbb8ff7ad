"""A compile runs numpy's BLAS on one thread.

Every matrix product of a compile is small (a calibration batch of 8 rows against one layer's
weights, the functional check's digit planes against one row block's tile), too small for a second
BLAS thread to pay for waking it. Where the other cores are busy (a search's parallel
evaluations, a test run on every core, another job), OpenBLAS's threads wait for each other:
a batched 8 x 186 x 16 product took 54 ms instead of 0.14 ms, and a nasrec candidate's
calibration run 0.33 s instead of 20 ms. With the other core idle the one thread costs no
time either: nasrec candidates/s in CPU time, one process per setting, were 0.39-0.40 against
0.34-0.38 with the check, 0.52 against 0.46-0.47 without (the second thread only spins).

`pimc` sets OPENBLAS_NUM_THREADS (the BLAS of numpy's wheels) to 1 before numpy loads, where
the user has not set it; torch's own thread settings are left alone. An in-process `compile()`
limits BLAS with threadpoolctl while it runs in the main thread, unless OpenBLAS was pinned to
one thread before numpy loaded it. The limit is the process's (BLAS has one thread pool), so a
compile in another thread leaves BLAS as it is (see `blas_one_thread`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["blas_one_thread", "pin_blas_env"]

_VAR = "OPENBLAS_NUM_THREADS"  # read once, when numpy loads OpenBLAS
_env_pinned = False  # the variable was 1 before numpy loaded (seen by pin_blas_env)
_controller = None


def pin_blas_env() -> None:
    """One BLAS thread for a process that has not loaded numpy yet; what the user set stays.
    Once numpy is loaded the variable would change nothing, so it is not set (and compiles
    limit BLAS themselves)."""
    global _env_pinned
    if "numpy" not in sys.modules:
        os.environ.setdefault(_VAR, "1")
        _env_pinned = os.environ[_VAR] == "1"


def _numpy_uses_openblas() -> bool:
    import numpy

    try:
        name = numpy.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    except (AttributeError, KeyError, TypeError):  # another numpy's layout: not known
        return False
    return "openblas" in str(name).lower()


def _pinned() -> bool:
    """Whether numpy's BLAS already runs one thread: OpenBLAS, pinned before it loaded."""
    return _env_pinned and _numpy_uses_openblas()


@contextmanager
def blas_one_thread() -> Iterator[None]:
    """Run the body with BLAS on one thread when it runs in the main thread, as a `pimc`
    command and a search's worker processes do; the setting is restored afterwards. BLAS has
    one thread pool per process and threadpoolctl gives it to one thread at a time (from
    3.8), so compiles in other threads leave it as it is rather than take it from the main
    thread or leave it limited behind them."""
    global _controller
    if _pinned() or threading.current_thread() is not threading.main_thread():
        yield
        return
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()  # scans the loaded libraries (~15 ms)
    with _controller.limit(limits=1, user_api="blas"):
        yield
