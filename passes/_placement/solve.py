"""Run a placer on a problem and say what it found: the pass's one call into this package.

naive -> greedy (which keeps naive's layout when that scores better) -> CP-SAT warm-started
from greedy. Greedy's and CP-SAT's crossbar layouts are each scored with every digital
strategy (anchored, earliest finish, balanced: ``digital.py``), and the best is kept. CP-SAT's
answer is used only when it scores at least as well as greedy's on the scheduled program;
otherwise, or when it finds nothing within the time limit, greedy's is kept and ``fallback``
says why. When greedy already meets the lower bound, or CP-SAT's model is past the size where,
measured, it no longer beat greedy within its time limit (``cpsat.MAX_VARIABLES``), CP-SAT is
not run. The answer is the best layout, the first in that order on a tie, but layouts are
scored in the order likeliest to settle it early: once one is known, another is scored only
as far as it could still win (its schedule is given up past that), and none is scored that
could at best tie and would lose the tie. Candidates are values (``Placement`` -> ``Layout``
-> ``Score``); nothing here writes the module.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
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
    occupancy_of,
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


def _lower(prob: Problem, objective: str, solver: str) -> float:
    """The lower bound on `objective` that placement stops at (0: none): none for energy and
    mix; for latency, only when CP-SAT runs (its status and gap read it): greedy's search
    only stops early at it, which it did for none of 32 search-loop candidates (8 each of
    nasrec and nasrec-float on isaac and hetero), and its critical paths cost 20-40 ms a
    candidate. The lower-bound pass works it out where a pipeline has it (the search loop's
    has not: it reads no bound)."""
    if objective == "throughput":
        return interval_bound(prob)
    return lower_bounds(prob)[0] if objective == "latency" and solver == "cp-sat" else 0.0


def run(prob: Problem, opts: Options) -> Outcome:
    """Place `prob` with `opts.solver`: the chosen placement, its layout and what the solvers
    said. Nothing is written; the caller writes the layout."""
    base = naive(prob)
    if opts.solver == "naive":
        ref, _, layout = evaluate(prob, base, opts.objective, opts.weights)
        best = Outcome(base, ref, layout, {"solver": "naive", "status": "heuristic"})
    else:
        low = _lower(prob, opts.objective, opts.solver)
        best, ref = _best_heuristic(prob, opts, base, low)
        best.attrs.update(solver="greedy", status="heuristic")
        if opts.solver == "cp-sat":
            best = _cpsat(prob, opts, best, ref, low)
    best.attrs.setdefault("bound", 0.0)
    best.attrs.setdefault("gap", 1.0 if best.attrs["status"] == "heuristic" else 0.0)
    best.attrs.update(objective=opts.objective, value=float(best.score.value))
    return best


def _best_heuristic(prob: Problem, opts: Options, base: Placement,
                    low: float) -> tuple[Outcome, Score | None]:
    """Greedy's best, or the naive placement `base` where that scores below it (greedy on a
    tie), and naive's score where it was worked out. Mix weighs its parts over naive's, so
    naive is scored first there; for the other objectives it is scored last, and only below
    greedy's value (its schedule is given up past it; not at all once greedy meets the lower
    bound `low`): greedy's floors need only what each resource holds under it."""
    objective = opts.objective
    ref = layout = None
    if objective == "mix":
        ref, timeline, layout = evaluate(prob, base, objective, opts.weights)
        busy = timeline.busy
    else:
        busy = occupancy_of(prob, base) if objective in PIPELINED_OBJECTIVES else {}
    found = _best_greedy(prob, opts, ref, floors(prob, busy, objective), low)
    if ref is None and not _meets(found, low):
        scored = evaluate(prob, base, objective, opts.weights, None, found.score.value)
        if scored is not None:  # (a schedule worked out before is not given up: it may lose)
            ref, _, layout = scored
    if ref is not None and ref.value < found.score.value:
        return Outcome(base, ref, layout), ref
    return found, ref


def _best_greedy(prob: Problem, opts: Options, ref: Score | None, stops: tuple[int, ...],
                 low: float) -> Outcome:
    """Greedy growth stopped at each of `stops` (highest first: fewest copies), then grown
    while crossbars last: the best on the objective, the earliest in that order (fewer copies:
    less area, less broadcast) on a tie; one whose counts are those of one before it is not
    scored (it would score the same). The last stop's is scored first: short of capacity it
    has the most copies, so it is the likeliest to meet the lower bound `low`."""
    places: list[Placement] = []
    last = 0  # where the last stop's placement is in `places`
    for stop in (*stops, 0):
        place = greedy(prob, stop)
        if place not in places:
            places.append(place)
        if stop:
            last = places.index(place)
    return _first_best(len(places), last, low, None,
                       lambda i, bar: _best_digital(prob, places[i], opts, ref, low, bar))


def _first_best(n: int, first: int, low: float, beat: float | None,
                score: Callable[[int, float | None], Outcome | None]) -> Outcome | None:
    """The best of candidates 0 .. n-1 below `beat` (None: any), the earliest on a tie
    (None when none scores below `beat`). `score(i, bar)`: candidate i's outcome, or None once
    it shows it cannot score below `bar` (None: no bar); a score worked out before may come
    back at or above it. Candidate `first` (the likeliest best) is scored first, then the
    others in order, each only below the best so far, or at it when it comes earlier (it wins
    the tie); none after one that meets the lower bound `low` is scored (it could at best tie,
    and lose the tie)."""
    found, at = None, 0
    for i in (first, *(j for j in range(n) if j != first)):
        bar = beat
        if found is not None:
            if i > at and _meets(found, low):
                continue
            mine = math.nextafter(found.score.value, math.inf) if i < at else found.score.value
            bar = mine if bar is None else min(bar, mine)
        scored = score(i, bar)
        if scored is not None and (bar is None or scored.score.value < bar):
            found, at = scored, i
    return found


def floors(prob: Problem, busy: dict[str, int], objective: str) -> tuple[int, ...]:
    """Where greedy growth stops, highest first, for objectives that pipeline batches (none
    for latency, where a copy still shortens its op): copies beyond a floor cost area and
    broadcast traffic for an interval that something else holds up. Two floors, since
    neither wins everywhere (nasrec candidates, throughput, 8 each of two spaces):
    - the busiest resource other than crossbars under the naive layout (`busy`: cycles per
      resource, ``occupancy_of`` the naive placement): the
      interval no layout with the naive layout's digital placement beats. On hetero, growth
      past it crowds the links with broadcast: 11 of 16 candidates scored worse without it,
      up to 2.6x;
    - the interval's lower bound: copies beyond it cannot shorten the interval below it. On
      isaac the digital strategies move digital work off the naive layout's busiest tile, and
      stopping only there left candidates at up to 3x their bound until growth to capacity
      (14x the crossbars) or CP-SAT found it; stopped here, greedy meets the bound."""
    if objective not in PIPELINED_OBJECTIVES:
        return ()
    busiest = max((c for r, c in busy.items() if not r.startswith("crossbar:")), default=0)
    return tuple(sorted({busiest, interval_bound(prob)} - {0}, reverse=True))


def _meets(found: Outcome, low: float) -> bool:
    """Whether `found` scores the lower bound `low` (0: no bound for this objective)."""
    return bool(low) and found.score.value <= low


def _cpsat(prob: Problem, opts: Options, warm: Outcome, ref: Score | None,
           low: float) -> Outcome:
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
        # greedy's answer keeps greedy's status: CP-SAT's "optimal" is of its own model, whose
        # best this placement beat on the schedule, so it says nothing of this one
        warm.attrs["fallback"] = (f"CP-SAT's placement ({res.status} on its own model, gap "
                                  f"{res.gap:.3g}) scores {found.score.value:.6g}, greedy's "
                                  f"{warm.score.value:.6g} on the schedule; greedy's kept")
        return warm
    found.attrs.update(info, solver="cp-sat")
    return found


def _best_digital(prob: Problem, place: Placement, opts: Options, ref: Score | None,
                  low: float, beat: float | None = None) -> Outcome | None:
    """`place` with each digital strategy (anchored, earliest finish, balanced): the best on
    the objective below `beat` (None: any), the first in that order on a tie (None when none
    scores below `beat`: the caller has no use for those). For the objectives that pipeline
    batches they are scored in that order: none wins often enough to go first (balanced,
    which spreads the digital work, is best on most nasrec candidates on isaac, but 3-7x worse
    on hetero, where scoring it first cost more than it saved on isaac). For latency, earliest
    finish (a list schedule of the digital ops) goes first: it gave the shortest latency on 36
    of 40 nasrec and nasrec-float candidates (10 of each on isaac and on hetero, the search
    loop's greedy placement), and the others are then given up once their chains of ops and
    transfers reach its latency (the answer is the same: a tie still goes to the earlier
    strategy)."""

    def score(i: int, bar: float | None) -> Outcome | None:
        variant = dataclasses.replace(place, digital=DIGITAL_STRATEGIES[i])
        scored = evaluate(prob, variant, opts.objective, opts.weights, ref, bar)
        return None if scored is None else Outcome(variant, scored[0], scored[2])

    first = DIGITAL_STRATEGIES.index("earliest-finish") if opts.objective == "latency" else 0
    return _first_best(len(DIGITAL_STRATEGIES), first, low, beat, score)
