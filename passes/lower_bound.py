"""lower-bound: lower bounds on the latency and the interval of any mapping of the module.

Writes `pim.lower_bound.latency` and `pim.lower_bound.interval` (cycles) from the work and the
resources; the argument is in `passes._placement.lower_bounds`. Needs `pim.unit` on the ops and
`pim.target`; placement is not needed (the bounds hold for every placement). Not to be confused
with the error bound of the functional check (`passes.error_bound`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Module
from ir.dialects.pim_attrs import LOWER_BOUND_FACTS, set_group
from passes._gc_pause import gc_paused
from passes._placement.lower_bounds import lower_bounds
from passes._placement.problem import ANALYSIS, Problem
from passes.base import Pass

__all__ = ["LowerBound"]


@dataclass(frozen=True)
class LowerBound(Pass):
    name: ClassVar[str] = "lower-bound"
    preserves: ClassVar[tuple[str, ...]] = (ANALYSIS,)  # it writes module attributes only

    def apply(self, module: Module) -> bool:
        with gc_paused():
            latency, interval = lower_bounds(Problem.shared(module))
        set_group(module, LOWER_BOUND_FACTS, {"latency": int(latency), "interval": int(interval)})
        return True
