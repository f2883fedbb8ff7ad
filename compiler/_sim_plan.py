"""The ordered run's structure by rows, for task graphs whose planned order respects their
dependencies (every producer planned before its consumer, as a compiled schedule plans them).

Such a run cannot stall: every constraint of ``_sim_engine._run_in_order`` (a producer's result,
the task before on a resource, a batch's release) goes from an earlier place in the planned
order (planned start of the batch, batch, rank, task) to a later one. So a task's start follows
from tasks planned before it only, and only the tasks planned up to the last measured one need
running: the later ones cannot change a measured start, and cannot stall the run.

Cut the planned order into rows, one `interval` of planned time each (one batch when not
pipelined): task i of batch k lies in row k + q_i, q_i its planned start's whole intervals
after the first task's. Every row is the one before shifted by one interval, so a resource
serves a row's tasks in one fixed order (``Plan._cycle``), the last of a row before the first
of the next, and every constraint is a template (source task, target task, batch offset,
cycles) that holds in every batch; within a row the constraints go forward in one fixed order
of the tasks. Only near the ends of the run, where the task before on a resource is of a batch
outside the run, is that task looked up further back (``back``). Resources serving the same
tasks count once (a lane).
"""

from __future__ import annotations

import copy
from itertools import chain

import numpy as np

from compiler._sim_tasks import Task

__all__ = ["Plan", "back", "consistent", "depths", "edges"]


def consistent(tasks: list[Task]) -> bool:
    """Every producer planned before its consumer, in the order's own terms (at, rank, task)."""
    n = len(tasks)
    preds = [t.preds for t in tasks]
    counts = np.fromiter(map(len, preds), np.int64, n)
    p = np.fromiter(chain.from_iterable(preds), np.int64, int(counts.sum()))
    i = np.repeat(np.arange(n, dtype=np.int64), counts)
    at = np.fromiter((t.at for t in tasks), np.int64, n)
    rank = np.fromiter((t.rank for t in tasks), np.int64, n)
    a, b, r, s = at[p], at[i], rank[p], rank[i]  # (a, r, p) < (b, s, i), element by element
    return bool(np.all((a < b) | ((a == b) & ((r < s) | ((r == s) & (p < i))))))


class Plan:
    """Rows, the fixed order of tasks within a row, and the constraints as (source task,
    target task, batch offset, cycles) templates, shared by every batch."""

    def __init__(self, tasks: list[Task], batches: int, interval: int | None, keep: int) -> None:
        n = self.n = len(tasks)
        self.tasks, self.batches = tasks, batches
        at = np.fromiter((t.at for t in tasks), np.int64, n)
        at -= at.min()
        q = np.zeros(n, np.int64) if interval is None else at // interval
        phase = at - q * interval if interval else at
        rank = np.fromiter((t.rank for t in tasks), np.int64, n)
        within = np.lexsort((np.arange(n), rank, -q, phase))
        self.q, self.within = q.tolist(), within.tolist()
        place = np.empty(n, np.int64)
        place[within] = np.arange(n)
        self.place = place.tolist()
        self.last_row = keep - 1 + max(self.q)
        preds = [t.preds for t in tasks]
        counts = np.fromiter(map(len, preds), np.int64, n)
        src = np.fromiter(chain.from_iterable(preds), np.int64, int(counts.sum()))
        ends = np.fromiter((t.cycles for t in tasks), np.int64, n)
        # templates (source, target, offset, cycles, the lane, the target's place in it):
        # producers first (lane -1), then each lane's (``_cycle``)
        made = (src, np.repeat(np.arange(n, dtype=np.int64), counts), np.zeros_like(src),
                ends[src], np.full_like(src, -1), np.zeros_like(src))
        self.lanes, lanes = self._cycle(q, *self._lanes(within, ends))
        self._templates = tuple(np.concatenate(pair) for pair in zip(made, lanes))
        self.src, self.dst, self.off, self.cycles, self.lane, self.pos = (
            a.tolist() for a in self._templates)
        self._unique: tuple[np.ndarray, ...] | None = None  # ``arrays``, once worked out

    def resized(self, batches: int, keep: int) -> Plan:
        """The plan of a run of `batches` batches keeping `keep` (the rest is shared)."""
        other = copy.copy(self)
        other.batches, other.last_row = batches, keep - 1 + max(self.q)
        return other

    def _lanes(self, order: np.ndarray, ends: np.ndarray
               ) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray]:
        """Resources serving the same tasks share one order, so they count once (a lane), each
        task holding the lane as long as it holds the longest-held of them (the 64 crossbars
        of one matrix-vector product): each lane's tasks in row order, and the lanes' tasks
        and holds one after another. Also notes whether a task holds a resource past its end
        (`ends`: each task's cycles)."""
        tasks = self.tasks
        uses = [tasks[i].use for i in order.tolist()]
        counts = np.fromiter(map(len, uses), np.int64, len(uses))
        total = int(counts.sum())
        res = np.fromiter(chain.from_iterable(uses), np.int64, total)
        held = np.fromiter(chain.from_iterable(map(dict.values, uses)), np.int64, total)
        by = np.argsort(res, kind="stable")  # each resource's users stay in row order
        res, held, who = res[by], held[by], np.repeat(order, counts)[by]
        self.held_past_end = bool(np.any(held > ends[who]))
        change = np.flatnonzero(res[1:] != res[:-1]) + 1
        bounds = np.concatenate([[0], change, [total]]) if total else np.zeros(1, np.int64)
        alone = np.diff(bounds) == 1
        seqs, seq, longest = _shared(bounds[:-1][~alone], bounds[1:][~alone], who, held)
        # a resource with one user: one lane per user, however many such resources it holds
        one, one_held = who[bounds[:-1][alone]], held[bounds[:-1][alone]]
        by = np.argsort(one, kind="stable")
        one, one_held = one[by], one_held[by]
        cuts = np.flatnonzero(np.diff(one, prepend=-1))  # task positions are never -1
        users = one[cuts]
        seqs += [(i,) for i in users.tolist()]
        return seqs, np.concatenate([seq, users]), np.concatenate(
            [longest, np.maximum.reduceat(one_held, cuts) if len(cuts) else one_held])

    def _cycle(self, q: np.ndarray, seqs: list[tuple[int, ...]], seq: np.ndarray,
               held: np.ndarray) -> tuple[list[tuple[tuple[int, ...], int, list[int]]], tuple]:
        """Every lane's templates: its tasks in the order it serves them within a row (the task
        before the first is the last of the row before). Per lane: its tasks, the least q
        among them and how long each holds it; and the templates as arrays (as in
        ``__init__``)."""
        lengths = np.fromiter(map(len, seqs), np.int64, len(seqs))
        starts = np.cumsum(lengths) - lengths
        before = np.arange(len(seq)) - 1
        before[starts] = starts + lengths - 1
        off = q[seq] - q[seq[before]]
        off[starts] -= 1
        made = (seq[before], seq, off, held[before], np.repeat(np.arange(len(seqs)), lengths),
                np.arange(len(seq)) - np.repeat(starts, lengths))
        self.sizes = lengths
        low = np.minimum.reduceat(q[seq], starts).tolist() if len(seqs) else []
        held = held.tolist()
        return [(s, m, held[a:a + len(s)]) for s, m, a in zip(seqs, low, starts.tolist())], made

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The templates as arrays, one per (source, target, offset) with the longest cycles
        (worked out once; read-only)."""
        if self._unique is None:
            src, dst, off, cycles = self._templates[:4]
            by = np.lexsort((cycles, off, dst, src))
            src, dst, off, cycles = src[by], dst[by], off[by], cycles[by]
            last = np.ones(len(src), bool)
            last[:-1] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1]) | (off[1:] != off[:-1])
            self._unique = tuple(a[last] for a in (src, dst, off, cycles))
            for a in self._unique:
                a.setflags(write=False)
        return self._unique


def _shared(starts: np.ndarray, ends: np.ndarray, who: np.ndarray, held: np.ndarray
            ) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray]:
    """The lanes of the resources with several users (their users at starts:ends of `who`):
    each lane's tasks, and the lanes' tasks and longest holds one after another."""
    lane_of: dict[tuple[int, ...], int] = {}
    first: list[int] = []  # where each lane's first resource's users begin
    lane = []
    users = who.tolist()
    for a, b in zip(starts.tolist(), ends.tolist()):
        g = lane_of.setdefault(tuple(users[a:b]), len(first))
        if g == len(first):
            first.append(a)
        lane.append(g)
    size = ends - starts
    at = np.repeat(np.array(first, np.int64)[lane] - starts, size)
    places = np.repeat(starts - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
    longest = np.zeros(len(users), np.int64)
    np.maximum.at(longest, places + at, held[places])
    seqs = list(lane_of)
    lengths = np.fromiter(map(len, seqs), np.int64, len(seqs))
    flat = np.repeat(np.array(first, np.int64) - np.cumsum(lengths) + lengths, lengths) \
        + np.arange(int(lengths.sum()))
    return seqs, who[flat], longest[flat]


def back(plan: Plan, g: int, pos: int, k: int) -> tuple[int, int, int] | None:
    """Lane g's last (batch, task, place in the lane) before task seq[pos] of batch k among the
    batches run, where the one just before it in the row's order is of a batch outside them."""
    q, batches = plan.q, plan.batches
    seq, low, _ = plan.lanes[g]
    row = k + q[seq[pos]]
    while True:
        pos -= 1
        if pos < 0:
            pos, row = len(seq) - 1, row - 1
        j = seq[pos]
        if 0 <= row - q[j] < batches:
            return row - q[j], j, pos
        if row < low:  # every task further back is of a batch before the first
            return None


def _outside(plan: Plan) -> list[tuple[int, int]]:
    """(template, batch) of the nodes run whose task before on the template's lane lies in a
    batch outside the run, on lanes of several tasks. A lane of one task has one template,
    the task after itself in the batch before (offset -1): outside the run only for batch 0,
    and no task of the lane comes before that."""
    _, dst, off, _, lane, _ = plan._templates
    top = np.minimum(plan.batches, plan.last_row - np.array(plan.q, np.int64)[dst] + 1)
    shared = lane >= 0
    shared[shared] = plan.sizes[lane[shared]] > 1
    early = shared & (np.minimum(-off, top) > 0)
    late = shared & (np.maximum(plan.batches - off, 0) < top)
    out = []
    for t in np.flatnonzero(early | late).tolist():
        d, end = plan.off[t], int(top[t])
        out += [(t, k) for k in (*range(min(-d, end)), *range(max(plan.batches - d, 0), end))]
    return out


def _ends(plan: Plan) -> tuple[list[int], list[int], list[int]]:
    """Constraints on a lane whose task before lies outside the run's batches, found one by
    one: (source node, target node, cycles)."""
    src, dst, cycles = [], [], []
    n = plan.n
    for t, k in _outside(plan):
        g = plan.lane[t]
        found = back(plan, g, plan.pos[t], k)
        if found is not None:
            src.append(found[0] * n + found[1])
            dst.append(k * n + plan.dst[t])
            cycles.append(plan.lanes[g][2][found[2]])
    return src, dst, cycles


def edges(plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every constraint between the nodes run (node = batch x n + task), as arrays."""
    n = plan.n
    src, dst, off, cycles = plan.arrays()
    q = np.array(plan.q, np.int64)
    lo = np.maximum(0, -off)
    hi = np.minimum(np.minimum(plan.batches, plan.batches - off), plan.last_row - q[dst] + 1)
    count = np.maximum(0, hi - lo)
    t = np.repeat(np.arange(len(src)), count)
    k = lo[t] + np.arange(len(t)) - np.repeat(np.cumsum(count) - count, count)
    e_src, e_dst, e_cycles = _ends(plan)
    return (np.concatenate([(k + off[t]) * n + src[t], np.array(e_src, np.int64)]),
            np.concatenate([k * n + dst[t], np.array(e_dst, np.int64)]),
            np.concatenate([cycles[t], np.array(e_cycles, np.int64)]))


def depths(plan: Plan, src: np.ndarray, dst: np.ndarray) -> list[int] | None:
    """Each task's depth within a row, over the constraints between tasks of one row; None if
    one of them went backwards in the row's order (never, by construction: a safety net)."""
    n, q = plan.n, np.array(plan.q, np.int64)
    s_task, d_task = src % n, dst % n
    same = (src // n + q[s_task]) == (dst // n + q[d_task])
    # each (source, target) pair once; sorted and compared rather than np.unique, whose first
    # call imports numpy.ma (5 ms of a whole-process compile)
    pairs = np.sort(s_task[same] * n + d_task[same])
    pairs = pairs[np.concatenate([np.ones(min(1, len(pairs)), bool), pairs[1:] != pairs[:-1]])]
    j, i = pairs // n, pairs % n
    place = np.array(plan.place, np.int64)
    if np.any(place[j] >= place[i]):
        return None
    # by the target's place in the row: every pair into a source comes before the source's own
    by = np.argsort(place[i], kind="stable")
    depth = [0] * n
    for a, b in zip(j[by].tolist(), i[by].tolist()):
        if depth[a] >= depth[b]:
            depth[b] = depth[a] + 1
    return depth
