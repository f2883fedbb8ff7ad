"""The discrete-event core of the simulator: batches of a task graph through exclusive resources.

A `Task` occupies each of its resources for its own number of cycles, all from one start (an op
holds every crossbar of its replicas at once; a transfer holds every link of its route at once),
and its result is ready `cycles` after the start (a transfer arrives its hop latency after its
links are free again). A task starts when its producers of the same batch are done, its batch
is released, and every one of its resources is free at that moment; among the waiting tasks the
one of the oldest batch and then the lowest `rank` goes first (non-delay list dispatch: a task
never holds one resource while it waits for another).

`ordered`: each resource also serves its tasks in a fixed order, that of the tasks' planned
starts `at` (batch k's at `at + k x interval`; one batch after another when not pipelined),
as a chip runs a compiled program: every unit's controller steps through its own instruction
stream, and an instruction waits for its inputs and its unit, never jumps the queue. The times
themselves are not taken: a task starts as soon as its inputs are there, its resources are free
and it is next on each of them (self-timed execution of the compiled order).

A task may `hold` its resources past its own end until the tasks named in `holds_for` (its
consumers) are done with them: a streamed weight load keeps its crossbar for the matrix-vector
products that read the loaded tile. Those consumers may use the held resources; nothing else may.

Batches are released at `k x interval` when pipelined, otherwise when the previous batch is done.

An ordered run whose tasks hold nothing for their consumers is computed without events: with
every resource's order fixed, each start is the latest of the constraints above, so one pass in
dependency order gives the event loop's starts and ends (`_run_in_order`; both are compared on
random task graphs in tests/compile/test_sim_orders.py). Where moreover every producer is
planned before its consumer (a compiled schedule), ``compiler._sim_levels`` computes it in
numpy, only as far as the kept batches depend (tests/compile/test_sim_levels.py compares it
with the event loop). The event loop runs the rest, and reports where an ordered run stalls.
"""

from __future__ import annotations

import heapq

from compiler._sim_levels import run_levels
from compiler._sim_tasks import Run, Task

__all__ = ["Run", "Task", "run"]

_DONE, _FREE, _RELEASE = 0, 1, 2


class Stalled(RuntimeError):
    """The run cannot go on: `resource` is next owed to a task that never becomes ready."""

    def __init__(self, left: int, resource: int | None, waiting: tuple[int, int] | None) -> None:
        self.left, self.resource, self.waiting = left, resource, waiting
        super().__init__(f"simulation stalled with {left} tasks not run")


def _orders(tasks: list[Task], resources: int, batches: int,
            interval: int | None) -> list[list[tuple[int, int]]]:
    """Per resource, the (batch, task) pairs in the order it serves them: by (planned start
    of that batch, batch, rank, task) when pipelined, else by (batch, planned start, rank,
    task). The key is packed into one int (every part but the first is a bounded count), so
    the sort compares ints instead of tuples."""
    n = len(tasks)
    if not n:
        return [[] for _ in range(resources)]
    low_rank = min(t.rank for t in tasks)
    ranks = max(t.rank for t in tasks) - low_rank + 1
    low_at = min(t.at for t in tasks)
    span = max(t.at for t in tasks) - low_at + 1
    keyed: list[list[int]] = [[] for _ in range(resources)]
    for i, t in enumerate(tasks):
        tail = (t.rank - low_rank) * n + i
        for k in range(batches):
            if interval is not None:
                key = ((t.at + k * interval) * batches + k) * ranks * n + tail
            else:
                key = (k * span + t.at - low_at) * ranks * n + tail
            for r in t.use:
                keyed[r].append(key)
    out = []
    for entries in keyed:
        entries.sort()
        order = []
        for key in entries:
            rest, i = divmod(key, n)
            rest //= ranks
            k = rest % batches if interval is not None else rest // span
            order.append((k, i))
        out.append(order)
    return out


class _State:
    def __init__(self, tasks: list[Task], resources: int, batches: int,
                 order: list[list[tuple[int, int]]] | None = None) -> None:
        self.tasks, self.n = tasks, len(tasks)
        self.succs: list[list[int]] = [[] for _ in tasks]
        for i, t in enumerate(tasks):
            for p in t.preds:
                self.succs[p].append(i)
        self.holder: dict[int, int] = {}  # task -> the holding task whose resources it may use
        for i, t in enumerate(tasks):
            for c in t.holds_for:
                self.holder[c] = i
        self.free = [True] * resources
        self.order = order
        self.turn = [0] * resources  # the position in `order[r]` of the next task r serves
        self.held: list[tuple[int, int] | None] = [None] * resources  # (batch, holding task)
        self.left = [[len(t.preds) for t in tasks] for _ in range(batches)]
        self.pending = [[len(t.holds_for) for t in tasks] for _ in range(batches)]
        self.todo = [len(tasks)] * batches
        self.start = [[-1] * len(tasks) for _ in range(batches)]
        self.end = [[-1] * len(tasks) for _ in range(batches)]
        # Waiting tasks are looked at again only when a resource that blocked them frees:
        # no other change can let them start, so this is a full scan's result, faster.
        self.blocked: list[list[tuple[int, int, int]]] = [[] for _ in range(resources)]
        # Ordered: a task that waits only for its turn on a resource is looked at again when
        # that resource's turn comes to it, not whenever the resource frees (on a streamed
        # target every tile op waits on one array, and rescanning them all made runs quadratic).
        self.turn_wait: list[dict[tuple[int, int], tuple[int, int, int]]] = [
            {} for _ in range(resources)]
        self.ready: list[tuple[int, int, int]] = []  # (batch, rank, task) to look at now
        self.events: list[tuple[int, int, int, int, int]] = []
        self.seq = 0

    def push(self, time: int, kind: int, batch: int, task: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (time, kind, self.seq, batch, task))

    def release(self, batch: int) -> None:
        for i, t in enumerate(self.tasks):
            if not t.preds:
                self.ready.append((batch, t.rank, i))

    def unblock(self, r: int) -> None:
        self.ready += self.blocked[r]
        self.blocked[r] = []

    def blocking(self, batch: int, task: int) -> tuple[int, bool]:
        """A resource that keeps the task from starting now (-1: none), and whether only its
        turn there does."""
        mine = (batch, self.holder.get(task, -1))
        free, held, order = self.free, self.held, self.order
        for r in self.tasks[task].use:
            if order is not None and order[r][self.turn[r]] != (batch, task):
                return r, True  # not its turn: r's next task starts first
            if not free[r] or held[r] not in (None, mine):
                return r, False
        return -1, False

    def begin(self, now: int, batch: int, task: int) -> None:
        t = self.tasks[task]
        self.start[batch][task] = now
        for r, cycles in t.use.items():
            self.free[r] = False
            self.turn[r] += 1
            if self.order is not None and self.turn[r] < len(self.order[r]):
                due = self.turn_wait[r].pop(self.order[r][self.turn[r]], None)
                if due is not None:  # its turn on r has come
                    self.ready.append(due)
            self.push(now + cycles, _FREE, r, -1)
            if t.holds_for:
                self.held[r] = (batch, task)
        self.push(now + t.cycles, _DONE, batch, task)

    def finish(self, now: int, batch: int, task: int) -> bool:
        """Mark a task done; True when its batch is complete."""
        self.end[batch][task] = now
        h = self.holder.get(task)
        if h is not None:
            self.pending[batch][h] -= 1
            if self.pending[batch][h] == 0:
                for r in self.tasks[h].use:
                    self.held[r] = None
                    self.unblock(r)
        for s in self.succs[task]:
            self.left[batch][s] -= 1
            if self.left[batch][s] == 0:
                self.ready.append((batch, self.tasks[s].rank, s))
        self.todo[batch] -= 1
        return self.todo[batch] == 0

    def dispatch(self, now: int) -> None:
        """Start every task that can, oldest batch and then lowest rank first."""
        ready, self.ready = sorted(set(self.ready)), []
        for item in ready:
            batch, _, task = item
            if self.start[batch][task] >= 0:
                continue
            r, turn = self.blocking(batch, task)
            if r < 0:
                self.begin(now, batch, task)
            elif turn:
                self.turn_wait[r][(batch, task)] = item
            else:  # one blocker is enough: it must free before the task can start
                self.blocked[r].append(item)


def _in_order_graph(tasks: list[Task], batches: int, interval: int | None,
                    order: list[list[tuple[int, int]]]) -> tuple[list, list[int], list[int]]:
    """Nodes (batch x n + task, then one per batch release when not pipelined) with, per node,
    the (later node, delay) it constrains, how many constrain it, and when its batch starts."""
    n = len(tasks)
    total = n * batches
    gates = batches if interval is None else 0  # node total + k: batch k is released
    out: list[list[tuple[int, int]]] = [[] for _ in range(total + gates)]
    deps = [0] * (total + gates)
    earliest = [0] * (total + gates)
    for r, served in enumerate(order):  # the task before on a resource, until it frees it
        for (k0, i0), (k1, i1) in zip(served, served[1:]):
            out[k0 * n + i0].append((k1 * n + i1, tasks[i0].use[r]))
            deps[k1 * n + i1] += 1
    for k in range(batches):
        base = k * n
        for i, t in enumerate(tasks):
            deps[base + i] += len(t.preds)
            for p in t.preds:  # a producer, until its result is ready
                out[base + p].append((base + i, tasks[p].cycles))
            if not t.preds and interval is not None:
                earliest[base + i] = k * interval
            elif not t.preds and k > 0:  # released when the batch before is done
                out[total + k].append((base + i, 0))
                deps[base + i] += 1
        if interval is None and k + 1 < batches:
            for i, t in enumerate(tasks):
                out[base + i].append((total + k + 1, t.cycles))
            deps[total + k + 1] += n
    return out, deps, earliest


def _run_in_order(tasks: list[Task], batches: int, interval: int | None,
                  order: list[list[tuple[int, int]]]) -> Run | None:
    """The ordered run without events: with every resource's order fixed, a task starts at the
    latest of its batch's release (if it has no producers), its producers' ends and, on each of
    its resources, the moment the task before it there lets go; so every start follows from
    those before it, in any order that respects them (a topological one here). The event loop
    computes the same starts (it starts a task at the first moment all of these hold) with a
    heap and rescans. None when some task never becomes ready (the event loop then says where)
    or when a task holds its resources for its consumers (that rule is the event loop's)."""
    if any(t.holds_for for t in tasks):
        return None
    out, deps, earliest = _in_order_graph(tasks, batches, interval, order)
    start = [-1] * len(deps)
    ready = [node for node, d in enumerate(deps) if d == 0]
    while ready:
        node = ready.pop()
        now = start[node] = earliest[node]
        for other, delay in out[node]:
            if now + delay > earliest[other]:
                earliest[other] = now + delay
            deps[other] -= 1
            if not deps[other]:
                ready.append(other)
    if min(start, default=0) < 0:
        return None
    n = len(tasks)
    cycles = [t.cycles for t in tasks]
    starts = [start[k * n:(k + 1) * n] for k in range(batches)]
    return Run(starts, [[s + c for s, c in zip(row, cycles)] for row in starts])


def run(tasks: list[Task], resources: int, batches: int, interval: int | None,
        ordered: bool = False, keep: int | None = None, first: list[int] | None = None) -> Run:
    """Simulate `batches` batches of `tasks`; `interval` None: one batch after another;
    `ordered`: every resource serves its tasks in their planned order (module docstring);
    `keep`: only the first `keep` batches' starts and ends are returned (all by default), so an
    ordered run whose plan respects its dependencies runs only what they depend on; `first`:
    the starts of one batch run alone (ordered), if known."""
    keep = batches if keep is None else min(keep, batches)
    if ordered:
        fast = run_levels(tasks, batches, interval, keep, first)
        if fast is not None:
            return fast
    order = _orders(tasks, resources, batches, interval) if ordered else None
    if order is not None:
        fast = _run_in_order(tasks, batches, interval, order)
        if fast is not None:
            return Run(fast.start[:keep], fast.end[:keep])
    done = _run_events(tasks, resources, batches, interval, order)
    return Run(done.start[:keep], done.end[:keep])


def _run_events(tasks: list[Task], resources: int, batches: int, interval: int | None,
                order: list[list[tuple[int, int]]] | None) -> Run:
    """The event loop: a heap of ends, frees and releases, dispatching at each moment."""
    st = _State(tasks, resources, batches, order)
    for k in range(batches if interval is not None else 1):
        st.push(k * (interval or 0), _RELEASE, k, -1)
    released = 1
    while st.events:
        now = st.events[0][0]
        while st.events and st.events[0][0] == now:
            _, kind, _, a, b = heapq.heappop(st.events)
            if kind == _FREE:
                st.free[a] = True
                st.unblock(a)
            elif kind == _RELEASE:
                st.release(a)
            elif st.finish(now, a, b) and interval is None and released < batches:
                st.push(now, _RELEASE, released, -1)
                released += 1
        st.dispatch(now)
    if any(st.todo):
        raise Stalled(sum(st.todo), *_stuck(st))
    return Run(st.start, st.end)


def _stuck(st: _State) -> tuple[int | None, tuple[int, int] | None]:
    """A resource whose next task never started, and that task (batch, task)."""
    for r, waiting in enumerate(st.blocked):
        if (waiting or st.turn_wait[r]) and st.order is not None and st.turn[r] < len(st.order[r]):
            return r, st.order[r][st.turn[r]]
    return None, None
