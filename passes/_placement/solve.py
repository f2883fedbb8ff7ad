"""Run a placer on a problem and say what it found: the pass's one call into this package.

naive -> greedy (which keeps naive's layout when that scores better) -> CP-SAT warm-started
from greedy. Greedy's and CP-SAT's crossbar layouts are each scored with every digital
strategy (anchored, earliest finish, balanced: ``digital.py``), and the best is kept. CP-SAT's
answer is used only when it scores at least as well as greedy's on the scheduled program;
otherwise, or when it finds nothing within the time limit, greedy's is kept and ``fallback``
says why. When greedy already meets the lower bound, or CP-SAT's model is past the size where,
measured, it no longer beat greedy within its time limit (``cpsat.MAX_VARIABLES``), CP-SAT is
not run; and no layout is scored once one meets it (the rest could only tie, and ties keep the
first). Candidates are values (``Placement`` -> ``Layout`` -> ``Score``); nothing here writes
the module.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from passes._placement.heuristics import greedy, naive
from passes._placement.layout import Layout
from passes._placement.lower_bounds import interval_bound, lower_bounds
from passes._placement.moves import edge_bytes
from passes._placement.placement import (
    DIGITAL_STRATEGIES,
    PIPELINED_OBJECTIVES,
    Placement,
    Score,
    evaluate,
)
from passes._placement.problem import Problem

__all__ = ["Options", "Outcome", "run"]

SOLVERS = ("naive", "greedy", "cp-sat")


@dataclass(frozen=True)
class Options:
    solver: str = "cp-sat"
    objective: str = "throughput"
    weights: tuple[float, ...] = (1.0, 1.0, 0.0)
    time_limit: float = 0.5
    seed: int = 0
    workers: int = 1


@dataclass
class Outcome:
    placement: Placement
    score: Score
    layout: Layout
    attrs: dict = field(default_factory=dict)


def _lower(prob: Problem, objective: str) -> float:
    """The lower bound on `objective` (0: none for energy and mix)."""
    if objective not in ("latency", "throughput"):
        return 0.0
    return lower_bounds(prob)[0] if objective == "latency" else interval_bound(prob)


def run(prob: Problem, opts: Options) -> Outcome:
    """Place `prob` with `opts.solver`: the chosen placement, its layout and what the solvers
    said. Nothing is written; the caller writes the layout."""
    base = naive(prob)
    ref, timeline, layout = evaluate(prob, base, opts.objective, opts.weights)
    best = Outcome(base, ref, layout, {"solver": "naive", "status": "heuristic"})
    if opts.solver != "naive":
        low = _lower(prob, opts.objective)
        found = _best_greedy(prob, opts, ref, floors(prob, timeline, opts.objective), low)
        if found.score.value <= best.score.value:
            best = found
        best.attrs.update(solver="greedy", status="heuristic")
        if opts.solver == "cp-sat":
            best = _cpsat(prob, opts, best, ref, low)
    best.attrs.setdefault("bound", 0.0)
    best.attrs.setdefault("gap", 1.0 if best.attrs["status"] == "heuristic" else 0.0)
    best.attrs.update(objective=opts.objective, value=float(best.score.value))
    return best


def _best_greedy(prob: Problem, opts: Options, ref: Score, stops: tuple[int, ...],
                 low: float) -> Outcome:
    """Greedy growth stopped at each of `stops` in turn (highest first: fewest copies), then
    grown while crossbars last: the best on the objective, the one with fewer copies (less
    area, less broadcast) on a tie. None is tried once one meets the lower bound `low`, nor
    when its counts are those of one tried (it would score the same, and a tie keeps the
    first). A later one is only of use below the best value so far, so its schedules are
    given up past it."""
    found, tried = None, []
    for stop in (*stops, 0):
        place = greedy(prob, stop)
        if place in tried:
            continue
        tried.append(place)
        beat = None if found is None else found.score.value
        scored = _best_digital(prob, place, opts, ref, low, beat)
        if scored is not None and (found is None or scored.score.value < found.score.value):
            found = scored
        if _meets(found, low):
            break
    return found


def floors(prob: Problem, timeline, objective: str) -> tuple[int, ...]:
    """Where greedy growth stops, highest first, for objectives that pipeline batches (none
    for latency, where a copy still shortens its op): copies beyond a floor cost area and
    broadcast traffic for an interval that something else holds up. Two floors, since
    neither wins everywhere (nasrec candidates, throughput, 8 each of two spaces):
    - the busiest resource other than crossbars under the naive layout (`timeline`'s): the
      interval no layout with the naive layout's digital placement beats. On hetero, growth
      past it crowds the links with broadcast: 11 of 16 candidates scored worse without it,
      up to 2.6x;
    - the interval's lower bound: copies beyond it cannot shorten the interval below it. On
      isaac the digital strategies move digital work off the naive layout's busiest tile, and
      stopping only there left candidates at up to 3x their bound until growth to capacity
      (14x the crossbars) or CP-SAT found it; stopped here, greedy meets the bound."""
    if objective not in PIPELINED_OBJECTIVES:
        return ()
    busiest = max((c for r, c in timeline.busy.items() if not r.startswith("crossbar:")),
                  default=0)
    return tuple(sorted({busiest, interval_bound(prob)} - {0}, reverse=True))


def _meets(found: Outcome, low: float) -> bool:
    """Whether `found` scores the lower bound `low` (0: no bound for this objective)."""
    return bool(low) and found.score.value <= low


def _cpsat(prob: Problem, opts: Options, warm: Outcome, ref: Score, low: float) -> Outcome:
    if not prob.groups or prob.streamed:
        why = "streamed weights" if prob.streamed else "no crossbar ops"
        warm.attrs["fallback"] = f"nothing for CP-SAT to decide ({why}); greedy's placement"
        return warm
    if _meets(warm, low):
        warm.attrs.update(solver="greedy", status="optimal", bound=float(low), gap=0.0,
                          fallback="greedy meets the lower bound; CP-SAT was not needed")
        return warm
    from passes._placement import cpsat

    most = cpsat.MAX_VARIABLES
    n = cpsat.least_size(prob)  # a model past the limit is not even built
    model = None if n > most else cpsat.build(prob, opts.objective, opts.weights, ref,
                                              edge_bytes(prob))
    n = n if model is None else cpsat.size(model)
    if n > most:
        warm.attrs["fallback"] = (f"CP-SAT not run: its model has at least {n} variables, more "
                                  f"than the {most} past which it no longer beat greedy within "
                                  "its time limit and took several times it; greedy's placement")
        return warm
    cpsat.hint(model, warm.placement)
    res = cpsat.solve(model, opts.time_limit, opts.seed, opts.workers)
    info = {"status": res.status, "bound": float(res.bound), "gap": float(res.gap)}
    if res.placement is None:
        warm.attrs.update(info, fallback=f"CP-SAT found no solution within the time limit "
                          f"of {opts.time_limit:g} s (status {res.status}); greedy's placement")
        return warm
    found = _best_digital(prob, res.placement, opts, ref, low)
    if found.score.value > warm.score.value:
        warm.attrs.update(info, fallback=f"CP-SAT's placement scores {found.score.value:.6g}, "
                          f"greedy's {warm.score.value:.6g} on the schedule; greedy's kept")
        return warm
    found.attrs.update(info, solver="cp-sat")
    return found


def _best_digital(prob: Problem, place: Placement, opts: Options, ref: Score, low: float,
                  beat: float | None = None) -> Outcome | None:
    """`place` with each digital strategy (anchored, earliest finish, balanced): the best on
    the objective (the first on ties), stopping at the first that meets the lower bound. A
    strategy's schedule is given up once it cannot score below the best so far (only a lower
    value replaces it), and once it cannot score below `beat` when given: the caller has no use
    for those, so the answer is the same whenever it scores below `beat` (None when every
    strategy is given up)."""
    best = None
    for strategy in DIGITAL_STRATEGIES:
        variant = dataclasses.replace(place, digital=strategy)
        bar = beat if best is None else best.score.value
        scored = evaluate(prob, variant, opts.objective, opts.weights, ref,
                          bar if beat is None else min(bar, beat))
        if scored is None:
            continue
        score, _, layout = scored
        if best is None or score.value < best.score.value:
            best = Outcome(variant, score, layout)
            if _meets(best, low):
                break
    return best
