"""The ordered run in numpy, for task graphs whose planned order respects their dependencies
(``compiler._sim_plan``: such a run cannot stall, and only what the kept batches depend on is
run). Three ways, each equal to the event loop (tests compare them on random task graphs):

* batch 0 shifted: pipelined, batch k is often batch 0 run alone, k intervals later. The
  starts that meet every node's constraints are the run's (they are unique, the constraints
  forming no cycle), and an inner batch's constraints read the same tasks as batch 0's, shifted
  by whole intervals, so one check per task covers them (``_periodic``); a deep pipeline then
  costs as much as one batch, however many batches are in flight. Not pipelined, batch k is
  batch 0 run alone, started when batch k - 1 is done, whenever no task holds a resource past
  its own end (``_serial``).
* level by level: levels (row, then depth within the row) put every constraint's source on an
  earlier level than its target; one level's nodes are computed at once (``_levels``).
* constraint by constraint, in the planned order of their targets, where levels hold too
  few nodes to gain (``_pull``).

`None` hands the run back to ``_sim_engine`` (holds, plans against their dependencies).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from compiler._sim_plan import Plan, back, consistent, depths, edges
from compiler._sim_tasks import Run, Task

__all__ = ["run_levels", "run_levels_after"]

_PER_LEVEL = 12  # fewer nodes and constraints per level on average: the one-pass loop is faster


def run_levels(tasks: list[Task], batches: int, interval: int | None, keep: int,
               first: list[int] | None = None) -> Run | None:
    """The ordered run's first `keep` batches of `batches`, or None when this way does not
    apply (a task holds resources for its consumers, a consumer is planned before its
    producer, an interval below one cycle): ``_sim_engine._run_in_order`` then decides.
    `first`: the starts of one batch run alone, if known."""
    if not _applies(tasks, interval):
        return None
    return _run(Plan(tasks, batches, interval, keep), interval, keep, first)


def run_levels_after(tasks: list[Task], interval: int, keep: int,
                     batches: Callable[[Run], int]) -> Run | None:
    """`run_levels` of `batches(alone)` batches, `alone` the run of one batch (pipelined):
    both runs share one plan. None when this way does not apply."""
    if not _applies(tasks, interval):
        return None
    plan = Plan(tasks, 1, interval, 1)
    alone = _run_plan(plan, interval, 1)
    if alone is None:
        return None
    total = batches(alone)
    keep = min(keep, total)
    return _run(plan.resized(total, keep), interval, keep, alone.start[0])


def _applies(tasks: list[Task], interval: int | None) -> bool:
    return bool(tasks) and not any(t.holds_for for t in tasks) and consistent(tasks) and (
        interval is None or interval >= 1)


def _run(plan: Plan, interval: int | None, keep: int, first: list[int] | None) -> Run | None:
    if plan.batches > 1:
        shifted = _shifted(plan, interval, keep, first)
        if shifted is not None:
            return shifted
    return _run_plan(plan, interval, keep)


def _shifted(plan: Plan, interval: int | None, keep: int, first: list[int] | None
             ) -> Run | None:
    """Batch k as batch 0 run alone, shifted, when that is the run (``_periodic``,
    ``_serial``); None otherwise."""
    if interval is None:
        return _serial(plan, keep)
    alone = _run_plan(plan.resized(1, 1), interval, 1) if first is None else Run([first], [])
    return alone and _periodic(plan, interval, keep, alone.start[0])


def _run_plan(plan: Plan, interval: int | None, keep: int) -> Run | None:
    """Every node run, level by level or constraint by constraint."""
    tasks, batches = plan.tasks, plan.batches
    src, dst, cycles = edges(plan)
    depth = depths(plan, src, dst)
    if depth is None:
        return None
    start = _earliest(tasks, batches, interval)
    gate = _gate(tasks, batches) if interval is None else None
    if (plan.last_row + 1) * (max(depth) + 1) * _PER_LEVEL > len(dst) + len(start):
        _pull(plan, (src, dst, cycles), start, gate)
    else:
        _levels(plan, (src, dst, cycles), depth, start, gate)
    return _result(tasks, start.reshape(batches, plan.n)[:keep])


def _serial(plan: Plan, keep: int) -> Run | None:
    """Not pipelined: batch k is batch 0 run alone, started when batch k - 1 is done (k times
    batch 0's end), when no task holds a resource past its own end. Every task of batch k
    then starts after every task of batch k - 1 has let go of every resource (it waits for
    a first task of its batch, released at that end), so only batch 0's constraints count.
    None when some task holds a resource longer."""
    if plan.held_past_end:
        return None
    alone = _run_plan(plan.resized(1, 1), None, 1)
    if alone is None:
        return None
    first = np.array(alone.start[0], np.int64)
    done = max(alone.end[0])
    return _result(plan.tasks, first[None, :] + np.arange(keep, dtype=np.int64)[:, None] * done)


def _levels(plan: Plan, constraints: tuple, depth: list[int], start: np.ndarray,
            gate) -> None:
    """Level by level (module docstring), a level's nodes at once."""
    src, dst, cycles = constraints
    n, q = plan.n, np.array(plan.q, np.int64)
    per_row = max(depth) + 1
    task = dst % n
    level = (dst // n + q[task]) * per_row + np.array(depth, np.int64)[task]
    by = np.argsort(level, kind="stable")
    src, dst, cycles, level = src[by], dst[by], cycles[by], level[by]
    cuts = np.flatnonzero(np.diff(level)) + 1
    bounds = np.concatenate([[0], cuts, [len(level)]]).tolist()
    row_of = (level[bounds[:-1]] // per_row).tolist() if len(level) else []
    row = 0
    for a, b, r in zip(bounds, bounds[1:], row_of):
        while gate is not None and row < r:
            row += 1
            gate(start, row)
        np.maximum.at(start, dst[a:b], start[src[a:b]] + cycles[a:b])
    while gate is not None and row < plan.batches - 1:
        row += 1
        gate(start, row)


def _pull(plan: Plan, constraints: tuple, start: np.ndarray, gate) -> None:
    """Constraint by constraint in the planned order of their targets (every constraint into
    a source comes before those out of it): for runs with too few nodes per level to gain
    from numpy. Not pipelined, each batch is released before the first constraint into it."""
    src, dst, cycles = constraints
    n = plan.n
    q, place = np.array(plan.q, np.int64), np.array(plan.place, np.int64)
    task = dst % n
    row = dst // n + q[task]
    kept = np.flatnonzero(row <= plan.last_row)
    by = kept[np.argsort((row * n + place[task])[kept], kind="stable")]
    batch = dst[by] // n  # nondecreasing: not pipelined, a batch is a row
    cuts = np.flatnonzero(np.diff(batch)) + 1
    bounds = [0, *cuts.tolist(), len(by)] if len(by) else [0]
    src, dst, cycles = src[by].tolist(), dst[by].tolist(), cycles[by].tolist()
    now = start.tolist()
    done = 0  # the batches released so far (not pipelined)
    for a, b in zip(bounds, bounds[1:]):
        if gate is not None and dst[a] // n > done:
            now = _released(start, now, gate, done, dst[a] // n)
            done = dst[a] // n
        for s, d, c in zip(src[a:b], dst[a:b], cycles[a:b]):
            if now[s] + c > now[d]:
                now[d] = now[s] + c
    last = min(plan.batches - 1, plan.last_row)
    if gate is not None and last > done:
        now = _released(start, now, gate, done, last)
    start[:] = now


def _released(start: np.ndarray, now: list[int], gate, done: int, upto: int) -> list[int]:
    """The starts `now` with batches done + 1 .. upto released (not pipelined)."""
    start[:] = now
    for k in range(done + 1, upto + 1):
        gate(start, k)
    return start.tolist()


def _result(tasks: list[Task], grid: np.ndarray) -> Run:
    return Run(grid.tolist(), (grid + np.array([t.cycles for t in tasks], np.int64)).tolist())


def _periodic(plan: Plan, interval: int, keep: int, first_run: list[int]) -> Run | None:
    """Pipelined: batch k as batch 0 run alone, k intervals later, when that meets every
    constraint of every node run (the starts that do are the run's: they are unique, the
    constraints forming no cycle); None when some node is not so. A constraint of an inner
    batch reads the same tasks as batch 0's, shifted by whole intervals, so one check per task
    covers them all; only batches near the ends of the run are checked one by one."""
    tasks, n, batches = plan.tasks, plan.n, plan.batches
    first = np.array(first_run, np.int64)
    src, dst, off, cycles = plan.arrays()
    need = np.full(n, np.iinfo(np.int64).min // 4, np.int64)
    need[[i for i, t in enumerate(tasks) if not t.preds]] = 0
    np.maximum.at(need, dst, first[src] + off * interval + cycles)
    lo, inner_end = np.zeros(n, np.int64), np.full(n, batches, np.int64)
    np.maximum.at(lo, dst, -off)
    np.minimum.at(inner_end, dst, batches - off)
    end = np.minimum(batches, plan.last_row - np.array(plan.q, np.int64) + 1)
    if np.any((lo < np.minimum(inner_end, end)) & (need != first)):
        return None
    into: list[list[int]] = [[] for _ in range(n)]
    for t, i in enumerate(plan.dst):
        into[i].append(t)
    starts = first_run
    for i, (a, b, c) in enumerate(zip(lo.tolist(), inner_end.tolist(), end.tolist())):
        for k in (*range(min(a, c)), *range(max(a, b), c)):
            if _start(plan, into[i], starts, interval, k, i) != starts[i] + k * interval:
                return None
    return _result(tasks, first[None, :] + np.arange(keep, dtype=np.int64)[:, None] * interval)


def _start(plan: Plan, into: list[int], first: list[int], interval: int, k: int,
           i: int) -> int:
    """Task i's start in batch k from its constraints, every node of batch k' taken to start
    k' intervals after its batch-0 start."""
    tasks = plan.tasks
    now = 0 if tasks[i].preds else k * interval
    for t in into:
        j, d, g = plan.src[t], plan.off[t], plan.lane[t]
        if g < 0 or 0 <= k + d < plan.batches:
            now = max(now, first[j] + (k + d) * interval + plan.cycles[t])
            continue
        found = back(plan, g, plan.pos[t], k)
        if found is not None:
            now = max(now, first[found[1]] + found[0] * interval + plan.lanes[g][2][found[2]])
    return now


def _earliest(tasks: list[Task], batches: int, interval: int | None) -> np.ndarray:
    """Every node's release: batch k's first tasks at k x interval when pipelined, else 0 (the
    batch before's end is added as each batch starts)."""
    start = np.zeros((batches, len(tasks)), np.int64)
    if interval is not None:
        sources = [i for i, t in enumerate(tasks) if not t.preds]
        start[:, sources] = np.arange(batches, dtype=np.int64)[:, None] * interval
    return start.reshape(-1)


def _gate(tasks: list[Task], batches: int):
    """Not pipelined: batch k's first tasks start once every task of batch k - 1 is done."""
    n = len(tasks)
    cycles = np.fromiter((t.cycles for t in tasks), np.int64, n)
    sources = np.flatnonzero(np.fromiter(map(len, (t.preds for t in tasks)), np.int64, n) == 0)

    def release(start: np.ndarray, k: int) -> None:
        if k >= batches:
            return
        done = int((start[(k - 1) * n:k * n] + cycles).max())
        start[k * n + sources] = np.maximum(start[k * n + sources], done)
    return release
