"""bound: lower bounds on the latency and the interval of any mapping of the module.

Writes `pim.bound.latency` and `pim.bound.interval` (cycles) from the work and the resources;
the argument is in `passes._placement.bounds`. Needs `pim.unit` on the ops and `pim.target`;
placement is not needed (the bound holds for every placement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Module
from passes._placement.bounds import lower_bounds
from passes._placement.problem import Problem
from passes.base import Pass

__all__ = ["Bound"]


@dataclass(frozen=True)
class Bound(Pass):
    name: ClassVar[str] = "bound"

    def apply(self, module: Module) -> bool:
        latency, interval = lower_bounds(Problem.of(module))
        module.attrs["pim.bound.latency"] = int(latency)
        module.attrs["pim.bound.interval"] = int(interval)
        return True
