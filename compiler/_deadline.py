"""A deadline for a whole compile.

Checked between stages and after every pass (an instrument of the pass manager), and, where
the process allows it (main thread, no SIGALRM handler of someone else), enforced inside a
long pass too by a one-shot SIGALRM timer whose handler raises. Either way the compile stops
with one line naming the stage, and the `with` blocks on the way out delete what it made.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ir.errors import PimcError
from passes.manager import Instrument

__all__ = ["Deadline", "DeadlineCheck", "DeadlineExceeded", "guard"]


class DeadlineExceeded(PimcError):
    """The compile ran past its deadline."""


@dataclass
class Deadline:
    """`seconds` from `start` (None: no deadline); `stage` is where the compile is now."""

    seconds: float | None
    start: float = field(default_factory=time.monotonic)
    stage: str = "start"

    def __post_init__(self) -> None:
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise PimcError(f"deadline {self.seconds!r}; accepted: a finite number of seconds "
                            "> 0")

    def left(self) -> float:
        if self.seconds is None:
            return math.inf
        return self.seconds - (time.monotonic() - self.start)

    def error(self, detail: str = "") -> DeadlineExceeded:
        return DeadlineExceeded(f"deadline of {self.seconds:g} s passed during stage "
                                f"'{self.stage}'{detail}; raise --deadline or compile a "
                                "smaller model")

    def check(self, detail: str = "") -> None:
        if self.left() <= 0:
            raise self.error(detail)


@dataclass
class DeadlineCheck(Instrument):
    """Stops a pipeline after the pass during which the deadline passed."""

    deadline: Deadline

    def after(self, p, module, changed: bool) -> None:
        self.deadline.check(f" (after pass '{p.spec()}')")


@contextmanager
def guard(deadline: Deadline) -> Iterator[None]:
    """Raise DeadlineExceeded wherever the code is when the deadline passes (SIGALRM), when
    this thread may own that signal; otherwise only the checks between steps apply."""
    usable = (deadline.seconds is not None and threading.current_thread() is
              threading.main_thread() and signal.getsignal(signal.SIGALRM) in
              (signal.SIG_DFL, signal.SIG_IGN, None))
    if not usable:
        yield
        return

    def fire(signum, frame) -> None:
        raise deadline.error()

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, max(deadline.left(), 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
