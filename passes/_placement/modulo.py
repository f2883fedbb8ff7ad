"""Modulo reservation tables: when each resource is held, modulo the pipeline's period.

A ``Busy`` is one resource's reservations; a probe is one use of it (the table, the use's
offset from its op's start and its length). ``fit`` finds the earliest start from which every
probe of an op is free, ``hold`` reserves them. The scheduler builds the tables once per layout
and ``reset``s them for each period it tries.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

__all__ = ["Busy", "Probe", "fit", "hold"]


class Busy:
    """One resource's reservations modulo the period: [start, end) with 0 <= start < period,
    sorted by start; they never overlap modulo the period, so their ends are sorted too.
    Back-to-back reservations are kept as one block: a start inside either conflicts with
    both, so a search moves past the whole block in one step instead of one per reservation."""

    __slots__ = ("ends", "period", "starts")

    def __init__(self, period: int) -> None:
        self.reset(period)

    def reset(self, period: int) -> None:
        """Forget every reservation; the period is now `period`."""
        self.period = period
        self.starts: list[int] = []
        self.ends: list[int] = []

    def conflict(self, t: int, d: int) -> int | None:
        """The absolute end of a reservation overlapping [t, t + d), or None when it is free.
        Every reservation lies in [0, 2 x period) and so does [t0, t0 + d): the copy one period
        earlier can only overlap through a reservation that wraps (ends past t0 + period), the
        copy one period later only when the asked span wraps (from its first reservation)."""
        starts = self.starts
        if not starts:
            return None
        period, ends = self.period, self.ends
        t0 = t % period
        if ends[-1] > t0 + period:  # the copies one period earlier
            return t - t0 + ends[bisect_right(ends, t0 + period)] - period
        i = bisect_right(ends, t0)
        if i < len(starts) and starts[i] < t0 + d:
            return t - t0 + ends[i]
        if starts[0] + period < t0 + d:  # the copies one period later
            return t - t0 + ends[0] + period
        return None

    def hold(self, t: int, d: int) -> None:
        s = t % self.period
        e = s + d
        starts, ends = self.starts, self.ends
        i = bisect_left(starts, s)
        if d <= 0:  # an empty reservation stays on its own (every use here is longer)
            starts.insert(i, s)
            ends.insert(i, e)
        elif i > 0 and ends[i - 1] == s:  # extends the block before it
            if i < len(starts) and starts[i] == e:  # and closes the gap to the next
                ends[i - 1] = ends[i]
                del starts[i], ends[i]
            else:
                ends[i - 1] = e
        elif i < len(starts) and starts[i] == e:  # joins the block after it
            starts[i] = s
        else:
            starts.insert(i, s)
            ends.insert(i, e)


# One use of a resource: its reservations, and the use's offset from its op's start and length.
Probe = tuple[Busy, int, int]


def fit(probes: list[Probe], ready: int, period: int) -> int | None:
    """The earliest start >= ready at which every use (none longer than the period) fits, or
    None (the period is full). Each conflict moves the start to where that reservation ends
    (no earlier start can clear it), until no use conflicts: a fixed point. A use that
    conflicts is moved until it is free on its own (`_free_from`), and the search stops at
    the last use that moved once every other use was seen free since: on a big chip a
    broadcast holds 30-45 links whose reservations leave many gaps too short for it, and a
    pass over every use for each gap skipped made this most of placement (4.8M probes for 3.6k
    tiles on a chip of 1,344 ISAAC tiles)."""
    t = ready
    last = -1  # the use that moved last: reached again with no move since, every use is free
    while True:
        for k, (table, offset, length) in enumerate(probes):
            if k == last:
                return t
            if not table.starts:  # nothing reserved yet
                continue
            s = t + offset
            free = _free_from(table, s, length, ready + offset + period)
            if free != s:
                t = free - offset
                if t - ready >= period:
                    return None
                last = k
        if last < 0:
            return t


def _free_from(table: Busy, s: int, length: int, limit: int) -> int:
    """The first start >= s at which a use of `length` is free on `table`, or one >= `limit`
    (none before it is). `Busy.conflict` inlined, and past each conflict every next
    reservation that leaves too short a gap skipped at once (they are sorted and apart): this
    is the scheduler's innermost loop."""
    starts, ends, p = table.starts, table.ends, table.period
    n = len(starts)
    while s < limit:
        t0 = s % p
        if ends[-1] > t0 + p:  # the copies one period earlier
            s += ends[bisect_right(ends, t0 + p)] - p - t0
            continue
        i = bisect_right(ends, t0)
        if i < n and starts[i] < t0 + length:
            end = ends[i]
            i += 1
            while i < n and starts[i] < end + length:
                end = ends[i]
                i += 1
            s += end - t0
        elif starts[0] + p < t0 + length:  # the copies one period later
            s += ends[0] + p - t0
        else:
            return s
    return s


def hold(probes: list[Probe], t: int) -> None:
    """Reserve every probe's resource for its use, the op starting at `t`."""
    for table, offset, length in probes:
        table.hold(t + offset, length)
