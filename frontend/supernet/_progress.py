"""Training progress on stderr: a bar redrawn in place on a terminal, plain lines elsewhere.

On a terminal the bar shows steps, loss, rows/s, elapsed time and the ETA, and each
validation prints one line above it. When stderr is a file or a pipe there is no bar (its
carriage returns would make one long line): each validation is one clean line with the same
times.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "clock"]

BAR = 30
REDRAW_S = 0.1  # a terminal redraw per step would cost more than a small model's step


def clock(seconds: float) -> str:
    """A duration as m:ss, or h:mm:ss from an hour on."""
    s = int(round(max(0.0, seconds)))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Progress of steps `start`..`total` (a resumed run starts past 0)."""

    def __init__(self, total: int, start: int = 0, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.total, self.start, self.enabled = total, start, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = enabled and self.stream.isatty()
        self.t0 = self.drawn = time.perf_counter()

    def times(self, step: int) -> str:
        """`elapsed 0:12 ETA 1:03`, the ETA from this run's pace."""
        elapsed = time.perf_counter() - self.t0
        done = step - self.start
        eta = elapsed / done * (self.total - step) if done > 0 else float("nan")
        return f"elapsed {clock(elapsed)} ETA {clock(eta) if eta == eta else '?'}"

    def update(self, step: int, loss: float, batch_size: int) -> None:
        now = time.perf_counter()
        if not self.tty or (now - self.drawn < REDRAW_S and step < self.total):
            return
        self.drawn = now
        done = int(BAR * step / max(1, self.total))
        rate = (step - self.start) * batch_size / max(1e-9, now - self.t0)
        self.stream.write(f"\r\033[K[{'#' * done}{'.' * (BAR - done)}] {step}/{self.total} "
                          f"loss {loss:.4f} {rate:,.0f} rows/s {self.times(step)}")
        self.stream.flush()

    def line(self, text: str) -> None:
        """One line: above the bar on a terminal (the bar's row cleared first)."""
        if self.enabled:
            self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
