"""Search strategies, each as the Optuna sampler that draws trial n.

- `random`: the control; each candidate drawn from the space (`SearchSpace.sample`: per
  choice uniform; inputs by count, then which) and the hardware space.
- `evolution`: regularized evolution (Real et al., AAAI 2019; NASRec's search): the
  population is the last `population` finished trials; a child is a tournament winner of
  `sample_size` of them, crossed (with probability `crossover`) with a second winner and
  mutated (one choice redrawn, of the architecture or of the hardware). With several
  objectives the tournament ranks by Pareto front, then crowding distance (Deb et al.).
- `nsga2`: Optuna's NSGAIISampler over the categorical encoding (`search.encoding`).

Every draw is a function of (seed, trial number, the finished trials the study shows), and
the study tells trials in number order (`search.study`), so a run is reproducible across
worker counts' timing, a kill and a resume.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

from ir.errors import PimcError
from search.encoding import Candidate, Encoding
from search.pareto import crowding_distance, nondominated_sort

__all__ = ["STRATEGIES", "Strategy", "sampler_for"]

STRATEGIES = ("evolution", "nsga2", "random")


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


def _tournament(rng: random.Random, pool: list[tuple[Candidate, list[float]]],
                size: int) -> Candidate:
    sample = rng.sample(pool, size)
    points = [v for _, v in sample]
    rank = {i: r for r, front in enumerate(nondominated_sort(points)) for i in front}
    crowd = {}
    for front in nondominated_sort(points):
        crowd.update(crowding_distance(points, front))
    best = min(range(len(sample)), key=lambda i: (rank[i], -crowd[i], i))
    return sample[best][0]


def _evolve(strategy: Strategy, enc: Encoding, rng: random.Random,
            pool: list[tuple[Candidate, list[float]]]) -> Candidate:
    parent = _tournament(rng, pool, strategy.sample_size)
    arch, hw = parent.arch, parent.hw
    if rng.random() < strategy.crossover:
        other = _tournament(rng, pool, strategy.sample_size)
        arch = enc.space.crossover(arch, other.arch, rng)
        hw = enc.hw_space.crossover(hw, other.hw, rng)
    for _ in range(8):  # a redraw may pick the value it replaces; a child should differ
        child = _mutate(enc, rng, Candidate(arch, hw))
        if child != parent:
            break
    return child


def _mutate(enc: Encoding, rng: random.Random, cand: Candidate) -> Candidate:
    """One choice redrawn: of the hardware with the share of its fields among all choices."""
    if enc.hw_space.fields and rng.random() < len(enc.hw_space.fields) / len(enc.choices()):
        return Candidate(cand.arch, enc.hw_space.mutate(cand.hw, rng))
    return Candidate(enc.space.mutate(cand.arch, rng), cand.hw)


def _pool(trials: list[FrozenTrial], study: optuna.Study,
          population: int) -> list[tuple[Candidate, list[float]]]:
    signs = [1 if d == optuna.study.StudyDirection.MINIMIZE else -1 for d in study.directions]
    done = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.number)
    return [(Candidate.from_json(t.user_attrs["candidate"]),
             [s * v for s, v in zip(signs, t.values)]) for t in done[-population:]]


def sampler_for(strategy: Strategy, enc: Encoding, study: optuna.Study, n: int) -> BaseSampler:
    """The sampler that draws trial number `n` of `study`."""
    rng = random.Random(_seed(strategy.seed, n))
    if strategy.name == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=strategy.population,
                                             seed=_seed(strategy.seed, n))
    pool = []
    if strategy.name == "evolution":
        pool = _pool(study.get_trials(deepcopy=False), study, strategy.population)
    if len(pool) < strategy.population:
        cand = Candidate(enc.space.sample(rng), enc.hw_space.sample(rng))
    else:
        cand = _evolve(strategy, enc, rng, pool)
    return _Fixed(enc.encode(cand))
