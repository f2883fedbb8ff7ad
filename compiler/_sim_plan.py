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
    for i, t in enumerate(tasks):
        for p in t.preds:
            if (tasks[p].at, tasks[p].rank, p) >= (t.at, t.rank, i):
                return False
    return True


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
        # templates: producers first, then each lane's (``_cycle``)
        self.src = [p for t in tasks for p in t.preds]
        self.dst = [i for i, t in enumerate(tasks) for _ in t.preds]
        self.cycles = [tasks[p].cycles for p in self.src]
        self.off = [0] * len(self.src)
        # the template's lane and the target's place in it; a producer's: lane -1
        self.lane, self.pos = [-1] * len(self.src), [0] * len(self.src)
        self.lanes = self._cycle(q, *self._lanes(within))

    def resized(self, batches: int, keep: int) -> Plan:
        """The plan of a run of `batches` batches keeping `keep` (the rest is shared)."""
        other = copy.copy(self)
        other.batches, other.last_row = batches, keep - 1 + max(self.q)
        return other

    def _lanes(self, order: np.ndarray) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray]:
        """Resources serving the same tasks share one order, so they count once (a lane), each
        task holding the lane as long as it holds the longest-held of them (the 64 crossbars
        of one matrix-vector product): each lane's tasks in row order, and the lanes' tasks
        and holds one after another. Also notes whether a task holds a resource past its end."""
        tasks = self.tasks
        uses = [tasks[i].use for i in order.tolist()]
        counts = np.fromiter(map(len, uses), np.int64, len(uses))
        total = int(counts.sum())
        res = np.fromiter(chain.from_iterable(uses), np.int64, total)
        held = np.fromiter(chain.from_iterable(map(dict.values, uses)), np.int64, total)
        by = np.argsort(res, kind="stable")  # each resource's users stay in row order
        res, held, who = res[by], held[by], np.repeat(order, counts)[by]
        ends = np.fromiter((t.cycles for t in tasks), np.int64, len(tasks))
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
               held: np.ndarray) -> list[tuple[tuple[int, ...], int, list[int]]]:
        """Every lane's templates: its tasks in the order it serves them within a row (the task
        before the first is the last of the row before). Per lane: its tasks, the least q
        among them and how long each holds it."""
        lengths = np.fromiter(map(len, seqs), np.int64, len(seqs))
        starts = np.cumsum(lengths) - lengths
        before = np.arange(len(seq)) - 1
        before[starts] = starts + lengths - 1
        off = q[seq] - q[seq[before]]
        off[starts] -= 1
        self.src += seq[before].tolist()
        self.dst += seq.tolist()
        self.off += off.tolist()
        self.cycles += held[before].tolist()
        self.lane += np.repeat(np.arange(len(seqs)), lengths).tolist()
        self.pos += (np.arange(len(seq)) - np.repeat(starts, lengths)).tolist()
        low = np.minimum.reduceat(q[seq], starts).tolist() if len(seqs) else []
        held = held.tolist()
        return [(s, m, held[a:a + len(s)]) for s, m, a in zip(seqs, low, starts.tolist())]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The templates as arrays, one per (source, target, offset) with the longest cycles."""
        src, dst = np.array(self.src, np.int64), np.array(self.dst, np.int64)
        off, cycles = np.array(self.off, np.int64), np.array(self.cycles, np.int64)
        by = np.lexsort((cycles, off, dst, src))
        src, dst, off, cycles = src[by], dst[by], off[by], cycles[by]
        last = np.ones(len(src), bool)
        last[:-1] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1]) | (off[1:] != off[:-1])
        return src[last], dst[last], off[last], cycles[last]


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
    batch outside the run."""
    off, dst = np.array(plan.off, np.int64), np.array(plan.dst, np.int64)
    top = np.minimum(plan.batches, plan.last_row - np.array(plan.q, np.int64)[dst] + 1)
    lane = np.array(plan.lane, np.int64)
    early = (lane >= 0) & (np.minimum(-off, top) > 0)
    late = (lane >= 0) & (np.maximum(plan.batches - off, 0) < top)
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
    into: list[list[int]] = [[] for _ in range(n)]
    # sorted(set()) rather than np.unique, whose first call imports numpy.ma (5 ms of a
    # whole-process compile); the same pairs in the same order
    for pair in sorted(set((s_task[same] * n + d_task[same]).tolist())):
        j, i = divmod(pair, n)
        if plan.place[j] >= plan.place[i]:
            return None
        into[i].append(j)
    depth = [0] * n
    for i in plan.within:
        depth[i] = max((depth[j] + 1 for j in into[i]), default=0)
    return depth
