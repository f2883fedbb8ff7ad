"""Retrying a pipelined list schedule at a longer period from where the last try stopped
depending on the period.

`timeline.schedule` tries periods in increasing order until every op fits. A try's first steps
often never touch the period: while every probe and every reservation of a table lies in
``[0, period)``, a table's answers (``modulo.fit``) are the same for any period at least as
long (no reservation wraps, no probed span wraps, and no search runs a whole period), so those
steps place every op, transfer and reservation exactly where a try at a longer period would.
A ``Prefix`` keeps that state, and the next try starts after it. The answers are those of trying
every period from scratch; only the work differs.
"""

from __future__ import annotations

from passes._placement.modulo import Busy, Probe, fit

__all__ = ["Bounds", "Prefix", "tracked"]

# Of one op's or transfer's probes: the least and the greatest offset and the greatest end
# (offset + length); None when it has no probe.
Bounds = tuple[int, int, int] | None


def _repeats(bounds: Bounds, lo: int, t: int, cap: int) -> bool:
    """Whether a search from `lo` that found `t` and the hold at `t` stayed in [0, cap):
    every probed span starts at or after lo + least offset and ends by t + greatest end."""
    return bounds is None or (lo + bounds[0] >= 0 and t + bounds[1] < cap
                              and t + bounds[2] <= cap)


class Prefix:
    """The first `steps` steps of a try, as every try at a period of at least `period` places
    them: the tables after them (`saved`, in the order of the schedule's tables), the ops'
    start and end cycles, and the moves they placed with their times."""

    __slots__ = ("end", "moves", "period", "saved", "start", "steps")

    def __init__(self, tables: list[Busy]) -> None:
        self.period, self.steps = 0, 0
        self.saved = {id(t): Busy(0) for t in tables}
        self.start: dict[int, int] = {}
        self.end: dict[int, int] = {}
        self.moves: list[tuple] = []

    def restore(self, tables: list[Busy], cap: int) -> tuple[dict[int, int], dict[int, int]]:
        """Set `tables` to the state after the prefix at period `cap` (at least the prefix's);
        the ops' start and end cycles so far."""
        if cap < self.period:
            raise ValueError("a prefix is only valid for longer periods")
        for table in tables:
            saved = self.saved[id(table)]
            table.period, table.starts, table.ends = cap, list(saved.starts), list(saved.ends)
        for m, s, e in self.moves:
            m.start, m.end = s, e
        return dict(self.start), dict(self.end)

    def extend(self, steps: list, upto: int, log: list[tuple[Busy, int, int]], placed: list,
               start: dict[int, int], end: dict[int, int], cap: int) -> None:
        """The prefix now covers steps[:upto], whose holds beyond the old prefix are `log`
        and whose new moves are `placed`, at period `cap`."""
        if upto <= self.steps:
            return
        for table, t, length in log:
            saved = self.saved[id(table)]
            saved.period = cap
            saved.hold(t, length)
        keys = [k for step in steps[:upto]
                for k in ((step[0],) if step[1] is None else (step[1], step[0]))]
        self.start = {k: start[k] for k in keys}
        self.end = {k: end[k] for k in keys}
        self.moves += [(m, m.start, m.end) for m in placed]
        self.steps, self.period = upto, cap


def tracked(steps: list, k: int, durations: dict[int, int], start: dict[int, int],
            end: dict[int, int], cap: int, prefix: Prefix) -> tuple[int, bool]:
    """Run steps from `k` while they repeat at any longer period, then the first that does not
    (its holds not recorded), and extend `prefix` over those that do: the next step to run, and
    False when an op or a transfer fits nowhere in the period."""
    log: list[tuple[Busy, int, int]] = []
    placed: list = []
    n = len(steps)
    while k < n:
        mark = (len(log), len(placed))
        ok, clean = _step(steps[k], durations, start, end, cap, log, placed)
        if not (ok and clean):
            del log[mark[0]:], placed[mark[1]:]
            prefix.extend(steps, k, log, placed, start, end, cap)
            return k + 1, ok
        k += 1
    prefix.extend(steps, n, log, placed, start, end, cap)
    return n, True


def _step(step: tuple, durations: dict[int, int], start: dict[int, int], end: dict[int, int],
          cap: int, log: list, placed: list) -> tuple[bool, bool]:
    """One step of `timeline._run`, logging its holds and new moves while they repeat at any
    longer period: (it fitted, it repeats)."""
    index, load, longest, uses, bounds, lead, preds, arriving = step
    clean = True
    if load is not None:
        start[load] = end[load] = 0
    ready = max([end[p] for p in preds], default=0)
    for prods, m, link_longest, link_uses, link_bounds, first in arriving:
        if first:
            done = max([end[p] for p in prods], default=0)
            t, clean = _fit(link_uses, link_longest, link_bounds, done, cap, clean, log)
            if t is None:
                return False, False
            m.start, m.end = t, t + m.cycles
            if clean:
                placed.append(m)
        if m.end > ready:
            ready = m.end
    t, clean = _fit(uses, longest, bounds, ready if ready > lead else lead, cap, clean, log)
    if t is None:
        return False, False
    if load is not None:
        start[load], end[load] = t - lead, t
    start[index], end[index] = t, t + durations[index]
    return True, clean


def _fit(probes: list[Probe], longest: int, bounds: Bounds, lo: int, cap: int, clean: bool,
         log: list) -> tuple[int | None, bool]:
    """`modulo.fit` from `lo` and the holds at what it finds, logged while the step so far
    repeats at any longer period: (the start or None, whether it still repeats)."""
    t = fit(probes, lo, cap) if longest <= cap else None
    if t is None:
        return None, False
    clean = clean and _repeats(bounds, lo, t, cap)
    for table, offset, length in probes:
        table.hold(t + offset, length)
        if clean:
            log.append((table, t + offset, length))
    return t, clean
