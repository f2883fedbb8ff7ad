"""The event-driven simulator: batches through the mapped program's resources, independent of
the scheduler's timing.

``simulate(schedule, module) -> Simulated`` reads schedule.json (as a dict), the mapped module
and its target. From the schedule it takes only *where* things run (``loc``, ``replicas``, the
``units`` and, in version 2, each transfer's ``links``), *which* transfers exist and their sizes
and routes, the dependency graph, the batch injection (batch k released at k x ``interval`` when
pipelined, else after batch k-1) and the *order* in which each resource serves its tasks: that
of the planned starts, batch k's at start + k x interval (a compiled chip steps through each
unit's instruction stream in order). When a task starts is never read: it starts once its
inputs are there, its resources are free and it is next on each of them (self-timed), so a
schedule that plans idle time it does not need shows up as a shorter simulated latency, and
one that plans too little time as a longer one. Every duration is re-derived from the cost
model: an op's primitives (``passes._costing.op_primitives``) priced by
``targets.coster.OpCoster``; a transfer's link occupancy from its bytes over the link
bandwidth, its arrival a hop latency per hop later (``Network.arrival_cycles``).
``RULES`` says, per resource kind, how long a task occupies a resource of it.

Engine: a heap-based dispatcher (``compiler._sim_engine``), not SimPy; an ordered run with no
streamed-weight holds takes its one-pass equivalent there, and one whose plan puts every
producer before its consumer its numpy equivalent (``compiler._sim_levels``), which runs only
what the measured batches depend on and, when batch k is batch 0 shifted by k intervals (a deep
pipeline), checks that per task instead of running the batches in flight. SimPy grants a request
one resource at a time, so an op that needs 64 crossbars (64 replicas) or a transfer that needs
every link of its route would hold the granted ones idle while it waits for the rest; the
hardware starts such an op only when all are free, which is one look at the waiting task here.
The SimPy comparison (``bench/simulate_vs_schedule.py --engines``, which times this engine's
unordered dispatcher) was made before the simulator ran the compiled order: on
deepctr_fibinet_legacy / isaac the engine took 2.67 s and the SimPy 4.1.2 model 3.24 s, so the
choice rests on the all-at-once rule and one dependency fewer more than on speed.

Reported: latency (pipelined: the longest first-start-to-last-end of a batch in the steady state,
the last half of the batches, since the schedule's latency is that of a batch among others;
batch 0 alone is ``first_batch_latency_cycles``; not pipelined: batch 0), interval (mean distance
between consecutive completions over the last half of the batches; pipelined, never below the
injection interval, which bounds any long run), samples/s, energy per batch
(dynamic by component, plus leakage over the simulated interval as ``compiler.mapped_report``
charges it) and the binding resource (the one busiest per batch) with the op that occupies it
most.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from compiler._sim_model import Cost, Model, build
from ir.core import Module
from ir.errors import PimcError
from passes._gc_pause import gc_paused

__all__ = ["RULES", "Simulated", "compare", "simulate"]

DEFAULT_BATCHES = 8
TOLERANCE = 0.05  # relative disagreement above which a compile warns


# Per resource kind: (phase, cycles a task holds one resource of it). Phase 0 comes first: an
# op that reads off-chip DRAM holds the chip's I/O for that part, then (phase 1) its crossbars
# (every replica, with their ADCs and DACs), its chip tile's digital unit or its banks for the
# rest. A transfer holds every link of its route while its bytes for that link serialise, and
# travels the hops without holding them (the head is pipelined through the routers).
RULES: dict[str, tuple[int, Callable[[Cost, str], int]]] = {
    "io": (0, lambda c, r: c.offchip),
    "link": (0, lambda c, r: c.links.get(r, c.compute)),
    "crossbar": (1, lambda c, r: c.compute),
    "tile": (1, lambda c, r: c.compute),
    "bank": (1, lambda c, r: c.compute),
}


@dataclass
class Simulated:
    batches: int
    pipelined: bool
    latency_cycles: int
    interval_cycles: int
    samples_per_second: float
    energy_j: float
    energy: dict[str, float]  # J per batch, by component
    binding: dict[str, Any] = field(default_factory=dict)
    first_batch_latency_cycles: int = 0  # batch 0, alone in the pipeline
    difference_percent: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _interval(done: list[int], latency: int) -> int:
    """Mean spacing of the completions over the last half of the batches (the steady state)."""
    n = len(done)
    if n < 2:
        return latency
    h = n // 2
    return max(1, round((done[-1] - done[h - 1]) / (n - h)))


def _run(model: Model, batches: int, interval: int | None):
    """The engine's run of `batches` measured batches. Pipelined, enough further batches follow
    them that every measured one meets the traffic of its successors, as in the steady state
    (the last batches of a finite run would drain faster); only the measured ones are kept."""
    from compiler._sim_engine import Stalled, run

    n = len(model.resources)
    try:
        if interval is None:
            return run(model.tasks, n, batches, None, ordered=True, keep=batches)
        return _steady(model.tasks, n, batches, interval)
    except Stalled as exc:
        where = ""
        if exc.resource is not None:
            batch, task = exc.waiting
            where = (f": {model.resources[exc.resource]} waits for "
                     f"{model.nodes[task].name} of batch {batch}, which never becomes ready")
        raise PimcError(f"schedule.json cannot run in its own order{where} ({exc.left} tasks "
                        "left); its start cycles contradict its dependencies") from None


def _steady(tasks: list, resources: int, keep: int, interval: int):
    """`keep` batches followed by as many more as batch 0 run alone spans intervals, and one
    (the numpy way plans both runs once)."""
    from compiler._sim_engine import run
    from compiler._sim_levels import run_levels_after

    def batches(alone) -> int:
        span = max(alone.end[0]) - min(alone.start[0])
        return keep + math.ceil(span / max(1, interval)) + 1

    fast = run_levels_after(tasks, interval, keep, batches)
    if fast is not None:
        return fast
    alone = run(tasks, resources, 1, interval, ordered=True)
    return run(tasks, resources, batches(alone), interval, ordered=True, keep=keep,
               first=alone.start[0])


def _binding(model: Model) -> dict[str, Any]:
    uses = [t.use for t in model.tasks]
    counts = np.fromiter(map(len, uses), np.int64, len(uses))
    total = int(counts.sum())
    if not total:
        return {}
    res = np.fromiter(chain.from_iterable(uses), np.int64, total)
    cycles = np.fromiter(chain.from_iterable(map(dict.values, uses)), np.int64, total)
    busy = np.zeros(len(model.resources), np.int64)
    np.add.at(busy, res, cycles)
    used = np.zeros(len(model.resources), bool)
    used[res] = True
    # the busiest; on a tie the first by name (resources are sorted by name: the lowest
    # index), as the report's binding picks it
    r = int(np.flatnonzero(used & (busy == busy[used].max()))[0])
    on = res == r  # its uses, in task order: the first of the longest holds it longest
    node = model.nodes[int(np.repeat(np.arange(len(uses)), counts)[on][np.argmax(cycles[on])])]
    return {"resource": model.resources[r], "op": node.name, "op_id": node.id,
            "busy_cycles": int(busy[r])}


def simulate(schedule: dict, module: Module, batches: int = DEFAULT_BATCHES) -> Simulated:
    """Run `batches` batches of the schedule's program (see the module docstring)."""
    if batches < 1:
        raise PimcError(f"simulate: {batches} batches; accepted: 1 or more")
    # The collector would walk the module at every collection, and nothing here cycles; the
    # task graph is freed before it is back on, so it does not walk that either.
    with gc_paused():
        return _simulate(schedule, module, batches)


def _simulate(schedule: dict, module: Module, batches: int) -> Simulated:
    model = build(schedule, module, RULES)
    result = _run(model, batches, int(schedule["interval"]) if model.pipelined else None)
    binding = _binding(model)
    spans = [max(result.end[k]) - min(result.start[k]) for k in range(batches)]
    done = [max(result.end[k]) for k in range(batches)]
    steady = spans[batches // 2:] if model.pipelined else spans[:1]
    latency = max(steady)
    sim_interval = _interval(done, spans[0])
    if model.pipelined:
        # Batches enter every `interval`, so over a long run they cannot leave faster: a window
        # of completions closer together is a schedule's planned slack being used up (later
        # batches finish ahead of plan), not a shorter interval. Slower is what is measured.
        sim_interval = max(sim_interval, int(schedule["interval"]))
        # Nor faster than the busiest resource does one batch's work: entries closer than that
        # (a schedule's interval too short for it) queue up, and a finite window of them can
        # still show completions closer than its busy cycles (DLRM on isaac at half its
        # interval: 5,760 cycles against tile:0's 6,740 per batch).
        sim_interval = max(sim_interval, binding.get("busy_cycles", 0))
    energy = dict(model.energy)
    if model.leakage:
        energy["leakage"] = model.leakage * sim_interval / model.clock
    per_s = model.clock / sim_interval * int(schedule.get("batch") or 1)
    if binding:
        binding["busy_fraction"] = round(binding["busy_cycles"] / sim_interval, 6)
    return Simulated(batches, model.pipelined, latency, sim_interval, per_s,
                     sum(energy.values()), energy, binding, first_batch_latency_cycles=spans[0])


def compare(sim: Simulated, schedule: dict, tolerance: float = TOLERANCE) -> list[str]:
    """Fill `sim.difference_percent` against the scheduler's numbers; one warning per number
    that differs by more than `tolerance`, naming the binding resource."""
    warnings = []
    where = sim.binding.get("resource", "no resource")
    for what, have in (("latency", sim.latency_cycles), ("interval", sim.interval_cycles)):
        want = int(schedule[what])
        diff = (have - want) / want if want > 0 else math.inf
        sim.difference_percent[what] = round(100 * diff, 3) if want > 0 else None
        if abs(diff) > tolerance:
            warnings.append(f"simulated {what} {have} cycles differs from the schedule's {want} "
                            f"by {100 * diff:+.1f}%; binding resource {where} "
                            f"(op {sim.binding.get('op', '?')})")
    return warnings
