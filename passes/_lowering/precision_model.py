"""The CP-SAT model behind `assign-precision{mode=auto}`: one precision per op, least cost,
output error within a budget. Plain data in, plain data out; no IR, no pipeline.

    choose_bits(options, budget) -> [bits per op]

`options[i]` maps each candidate precision of op i to (cost, error); errors are assumed to
add up (each measured alone, with every other op in float). Costs and errors are scaled to
integers (CP-SAT is an integer solver): costs to 10^6 of the largest, errors to 10^6 of the
budget, rounded up so a chosen set never exceeds the budget by rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["choose_bits"]

_SCALE = 1_000_000


class InfeasibleBudget(ValueError):
    """No choice of precisions meets the budget; `least` is the smallest error possible."""

    def __init__(self, least: float) -> None:
        super().__init__(f"least reachable error {least:.3g}")
        self.least = least


def choose_bits(options: Sequence[Mapping[int, tuple[float, float]]], budget: float,
                time_limit: float = 10.0, seed: int = 0) -> list[int]:
    """The precision per op that minimises total cost with summed error <= `budget`."""
    from ortools.sat.python import cp_model

    least = sum(min(e for _, e in opt.values()) for opt in options)
    if least > budget:
        raise InfeasibleBudget(least)
    top = max((c for opt in options for c, _ in opt.values()), default=1.0) or 1.0
    model = cp_model.CpModel()
    picks: list[dict[int, object]] = []
    cost_terms, error_terms = [], []
    for i, opt in enumerate(options):
        var = {b: model.NewBoolVar(f"op{i}_b{b}") for b in opt}
        model.AddExactlyOne(var.values())
        for b, (cost, err) in opt.items():
            cost_terms.append(math.ceil(cost / top * _SCALE) * var[b])
            error_terms.append(math.ceil(err / budget * _SCALE) * var[b])
        picks.append(var)
    model.Add(sum(error_terms) <= _SCALE)
    model.Minimize(sum(cost_terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InfeasibleBudget(least)
    return [next(b for b, v in var.items() if solver.Value(v)) for var in picks]
