"""Search strategies, each as the Optuna sampler that draws trial n.

- `random`: the control; each candidate drawn from the space (`SearchSpace.sample`: per
  choice uniform; inputs by count, then which) and the hardware space.
- `evolution`: steady-state elitist evolution. The population is the `population` best
  finished trials by Pareto rank, then crowding distance (NSGA-II's survival, Deb et al.
  2002, applied one child at a time as in steady-state NSGA-II, Durillo et al. 2009); a
  child is the winner of a crowded tournament of `sample_size` of them, crossed (with
  probability `crossover`) with a second winner and mutated: one choice changed, to a
  neighbouring value for an ordered one (a width, a weight or activation precision). A child
  whose scored and compiled model equals one already drawn (`effective`: the same live
  operators, the FM term and the hardware; a change to dead code changes nothing) is drawn
  again, so no trial of the budget re-measures a known design.
- `nsga2`: Optuna's NSGAIISampler over the categorical encoding (`search.encoding`); on
  categorical parameters its crossover is uniform whatever numeric crossover is chosen. A
  child that repeats a drawn model is bred again, as in evolution.

Evolution and NSGA-II both start with the space's two corner designs (`SearchSpace.corners`: every
ordered choice at its smallest and the shallowest wiring, then at its largest and the
deepest), as multi-objective NAS seeds its first population with the simplest networks
(LEMONADE, Elsken et al. 2019): the cheap end of the front is where a uniform draw rarely
lands. The rest of the first population is random.

Every draw is a function of (seed, trial number, the trials the study shows), and the study
tells trials in number order (`search.study`), so a run is reproducible across worker
counts' timing, a kill and a resume.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from dataclasses import dataclass

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

from ir.errors import PimcError
from search.encoding import Candidate, Encoding
from search.pareto import crowding_distance, first_fronts, nondominated_sort

__all__ = ["STRATEGIES", "Strategy", "effective", "mutate", "sampler_for"]

STRATEGIES = ("evolution", "nsga2", "random")
_TRIES = 32  # redraws of a child that repeats a drawn design, before it is taken anyway


def _seed(seed: int, n: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{n}".encode()).digest()[:4], "little")


class _Fixed(BaseSampler):
    """Answers every suggestion of one trial from a prepared parameter dict."""

    def __init__(self, params: dict) -> None:
        self.params = params

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict:
        return {}

    def sample_independent(self, study, trial, name: str, distribution):
        return self.params[name]


class CornerNSGAII(optuna.samplers.NSGAIISampler):
    """NSGA-II whose trial takes `params` (a corner design) when given, as a member of the
    generation Optuna assigns it (the first), so that it can be a parent; a child whose model
    is in `seen` (`effective` of the trials drawn before) is bred again."""

    def __init__(self, enc: Encoding, seen: set[str], params: dict | None = None,
                 **kw) -> None:
        super().__init__(**kw)
        self.enc, self.seen, self.params = enc, seen, params
        self.fill = random.Random(kw.get("seed"))

    def before_trial(self, study, trial) -> None:
        super().before_trial(study, trial)
        if self.params is not None:
            self.get_trial_generation(study, trial)

    def sample_relative(self, study, trial, search_space) -> dict:
        if self.params is not None:
            return {}
        for _ in range(_TRIES):
            params = super().sample_relative(study, trial, search_space)
            if not params:  # the first generation: drawn at random, one parameter at a time
                return params
            # the parameters NSGA-II leaves out are the ones it mutates: redrawn uniformly
            full = {name: params[name] if name in params else self.fill.choice(values)
                    for name, values in self.enc.choices().items()}
            if effective(self.enc.decode(full)) not in self.seen:
                break
        return {name: full[name] for name in search_space}

    def sample_independent(self, study, trial, name: str, distribution):
        if self.params is not None:
            return self.params[name]
        return super().sample_independent(study, trial, name, distribution)


@dataclass(frozen=True)
class Strategy:
    name: str
    seed: int = 0
    population: int = 20
    sample_size: int = 5
    crossover: float = 0.3

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise PimcError(f"unknown strategy '{self.name}'; accepted: {', '.join(STRATEGIES)}")
        if self.population < 2 or not 1 <= self.sample_size <= self.population:
            raise PimcError(f"population {self.population}, sample size {self.sample_size}; "
                            "accepted: population >= 2 and 1 <= sample size <= population")


def effective(cand: Candidate) -> str:
    """What the candidate's score and compiled cost depend on: per live operator its fields
    (a dense `dot` also reads tokens; a sparse operator with `merge` also reads dense
    inputs), the FM term and the hardware. Candidates equal here are the same model."""
    arch, live, parts = cand.arch, cand.arch.live_operators(), []
    for i, b in enumerate(arch.blocks):
        if (i, "dense") in live:
            parts.append([i, "dense", b.dense_op, b.dense_width, b.dense_in, b.dense_bits,
                          b.sparse_in if b.dense_op == "dot" else None])
        if (i, "sparse") in live:
            parts.append([i, "sparse", b.sparse_op, b.sparse_width, b.sparse_in,
                          b.sparse_bits, b.merge, b.dense_in if b.merge else None])
    return json.dumps([arch.fm, parts, cand.hw], sort_keys=True)


def mutate(enc: Encoding, rng: random.Random, cand: Candidate) -> Candidate:
    """One choice changed: of the hardware with the share of its fields among all choices,
    else of the architecture (`SearchSpace.mutate`: ordered choices to a neighbour)."""
    if enc.hw_space.fields and rng.random() < len(enc.hw_space.fields) / len(enc.choices()):
        return Candidate(cand.arch, enc.hw_space.mutate(cand.hw, rng))
    return Candidate(enc.space.mutate(cand.arch, rng), cand.hw)


Ranked = list[tuple[Candidate, tuple[int, float]]]  # candidate, (Pareto rank, -crowding)


def _rank(points: list[list[float]], needed: int | None = None) -> list[tuple[int, float]]:
    """(Pareto rank, -crowding) of each point; with `needed`, exact only for the first fronts
    that hold `needed` points (the rest rank after them), which is all a population reads."""
    fronts = nondominated_sort(points) if needed is None else first_fronts(points, needed)
    order = [(len(fronts), 0.0)] * len(points)
    for r, front in enumerate(fronts):
        for i, d in crowding_distance(points, front).items():
            order[i] = (r, -d)
    return order


def _population(done: list[tuple[str, list[float]]], size: int) -> Ranked:
    """The `size` best finished trials (candidate JSON, objective values) by Pareto rank,
    then crowding distance, then trial order; each with its rank and crowding within the
    population."""
    keys = _rank([v for _, v in done], size)
    best = sorted(range(len(done)), key=lambda i: (keys[i], i))[:size]
    kept = [done[i] for i in sorted(best)]
    return list(zip((Candidate.from_json(c) for c, _ in kept), _rank([v for _, v in kept])))


def _tournament(rng: random.Random, pop: Ranked, size: int) -> Candidate:
    sample = rng.sample(range(len(pop)), size)
    return pop[min(sample, key=lambda i: (pop[i][1], i))][0]


def _evolve(strategy: Strategy, enc: Encoding, rng: random.Random, pop: Ranked,
            seen: set[str]) -> Candidate:
    parent = _tournament(rng, pop, strategy.sample_size)
    for _ in range(_TRIES):
        cand = parent
        if rng.random() < strategy.crossover:
            other = _tournament(rng, pop, strategy.sample_size)
            cand = Candidate(enc.space.crossover(parent.arch, other.arch, rng),
                             enc.hw_space.crossover(parent.hw, other.hw, rng))
        child = mutate(enc, rng, cand)
        if effective(child) not in seen:
            break
    return child


def _finished(trials: list[FrozenTrial],
              study: optuna.Study) -> list[tuple[str, list[float]]]:
    """The finished trials in number order: (candidate JSON, values to minimise)."""
    signs = [1 if d == optuna.study.StudyDirection.MINIMIZE else -1 for d in study.directions]
    done = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.number)
    return [(t.user_attrs["candidate"], [s * v for s, v in zip(signs, t.values)]) for t in done]


@functools.lru_cache(maxsize=1 << 16)
def _effective_text(text: str) -> str:
    """`effective` of a candidate's JSON, worked out once per text: every draw looks at every
    trial before it, so parsing each again made a long search quadratic in its trials."""
    return effective(Candidate.from_json(text))


def sampler_for(strategy: Strategy, enc: Encoding, study: optuna.Study, n: int) -> BaseSampler:
    """The sampler that draws trial number `n` of `study`."""
    rng = random.Random(_seed(strategy.seed, n))
    corner = None
    if strategy.name != "random" and n < 2:
        arch = enc.space.corners(random.Random(_seed(strategy.seed, -1)))[n]
        corner = enc.encode(Candidate(arch, enc.hw_space.sample(rng)))
    trials = study.get_trials(deepcopy=False)
    seen = {_effective_text(t.user_attrs["candidate"]) for t in trials
            if t.number < n and "candidate" in t.user_attrs} if strategy.name != "random" else set()
    if strategy.name == "nsga2":
        return CornerNSGAII(enc, seen, corner, population_size=strategy.population,
                            seed=_seed(strategy.seed, n))
    if corner is not None:
        return _Fixed(corner)
    done = _finished(trials, study) if strategy.name == "evolution" else []
    if len(done) < strategy.population:
        cand = Candidate(enc.space.sample(rng), enc.hw_space.sample(rng))
    else:
        cand = _evolve(strategy, enc, rng, _population(done, strategy.population), seen)
    return _Fixed(enc.encode(cand))
