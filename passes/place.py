"""place: tiles onto crossbars, shards onto banks, digital ops onto chip tiles.

`place{solver=cp-sat|greedy|naive, objective=latency|throughput|energy|mix,
weights=[LATENCY,INTERVAL,ENERGY], time-limit=SECONDS, seed=N, workers=N}`. Writes
`pim.replicas` and `pim.loc` on the ops and `pim.place.*` on the module (docs/mapping.md).
The solvers live in `passes._placement`; CP-SAT's answer never scores worse than greedy's,
and when it is not used `pim.place.fallback` says why. `mix` weighs latency, interval and
network energy, each over the naive placement's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Module
from ir.dialects.pim_attrs import PLACE_FACTS, set_group
from ir.errors import PimcError
from passes._gc_pause import gc_paused
from passes._placement.layout import write_layout
from passes._placement.placement import OBJECTIVES, PIPELINED_OBJECTIVES, keep_timeline
from passes._placement.problem import ANALYSIS, Problem
from passes._placement.solve import SOLVERS, Options, run
from passes.base import Pass

__all__ = ["Place"]


@dataclass(frozen=True)
class Place(Pass):
    name: ClassVar[str] = "place"
    preserves: ClassVar[tuple[str, ...]] = (ANALYSIS,)  # it writes only pim.loc, pim.replicas

    solver: str = "cp-sat"
    objective: str = "throughput"
    weights: tuple[float, ...] = (1.0, 1.0, 0.0)
    time_limit: float = 0.5
    seed: int = 0
    workers: int = 1

    def _check(self) -> None:
        if self.solver not in SOLVERS:
            raise PimcError(f"place: solver '{self.solver}'; accepted: {', '.join(SOLVERS)}")
        if self.objective not in OBJECTIVES:
            raise PimcError(f"place: objective '{self.objective}'; accepted: "
                            f"{', '.join(OBJECTIVES)}")
        if len(self.weights) != 3 or min(self.weights) < 0 or not any(self.weights):
            raise PimcError("place: weights are [latency, interval, energy], three "
                            f"non-negative numbers not all 0; got {list(self.weights)}")
        if self.time_limit < 0 or self.workers < 1:
            raise PimcError("place: time-limit must be >= 0 and workers >= 1")

    def apply(self, module: Module) -> bool:
        self._check()
        opts = Options(self.solver, self.objective, tuple(self.weights), self.time_limit,
                       self.seed, self.workers)
        with gc_paused():
            prob = Problem.shared(module)
            out = run(prob, opts)
            write_layout(prob, out.layout)
            facts = out.attrs
            # the problem stays for lower-bound and schedule with the chosen layout's timeline
            # only; the other scored candidates go now, by reference counting: alive when the
            # collector comes back, they would all be walked by its first collection
            keep_timeline(prob, out.layout, self.objective in PIPELINED_OBJECTIVES)
            del prob, out
        set_group(module, PLACE_FACTS, facts)
        return True
