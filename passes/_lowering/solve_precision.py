"""Measurements for `assign-precision{mode=auto}`: each crossbar op's mapped cost and output
error at each candidate precision, handed to the CP-SAT model in `precision_model`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ir.core import Graph, Op
from ir.errors import PimcError
from ir.interp import run
from ir.interp.quant import run_quantised
from passes._lowering.kinds import matrices
from passes._lowering.precision_model import InfeasibleBudget, choose_bits
from passes._lowering.quantise import scale_for

__all__ = ["mapped_cost", "relative_error", "solve"]


def mapped_cost(op: Op, target, bits: int, objective: str) -> float:
    """Energy (J), or energy x latency (J s), of `op`'s matrices on the target's crossbars."""
    from targets import CostModel, CrossbarMVM

    model, total = CostModel(target), 0.0
    for m in matrices(op):
        rows, cols = m.w.shape
        vectors = max(1, m.x.type.size // m.x.type.shape[m.axis])
        cost = model.cost(CrossbarMVM(rows, cols, bits, bits, vectors))
        energy = sum(cost.energy.values())
        total += energy * cost.seconds if objective == "edp" else energy
    return total


def relative_error(got: Sequence[np.ndarray], want: Sequence[np.ndarray]) -> float:
    """||got - want|| / ||want|| over all outputs together (Frobenius)."""
    num = sum(float(np.sum((np.asarray(g, np.float64) - w) ** 2)) for g, w in zip(got, want))
    den = sum(float(np.sum(np.asarray(w, np.float64) ** 2)) for w in want)
    return float(np.sqrt(num / den)) if den else float(np.sqrt(num))


def _error(graph: Graph, inputs, op: Op, bits: int, maxabs: float,
           want: Sequence[np.ndarray]) -> float:
    plan = {m.w_index: (None, bits) for m in matrices(op)}
    plan[matrices(op)[0].x_index] = (scale_for(maxabs, bits), bits)
    return relative_error(run_quantised(graph, inputs, {op: plan}), want)


def solve(graph: Graph, inputs: Mapping[str, np.ndarray], ops: Sequence[Op],
          maxabs: Mapping[Op, float], target, choices: Sequence[int], budget: float,
          objective: str, seed: int = 0) -> dict[Op, int]:
    """The precision of each op in `ops` (crossbar ops) that minimises mapped cost within
    `budget` (relative output error, errors assumed additive)."""
    want = [np.asarray(a, np.float64) for a in run(graph, inputs)]
    options = [{b: (mapped_cost(op, target, b, objective),
                    _error(graph, inputs, op, b, maxabs[op], want)) for b in choices}
               for op in ops]
    try:
        bits = choose_bits(options, budget, seed=seed)
    except InfeasibleBudget as exc:
        raise PimcError(f"assign-precision: no precision choice keeps the output error within "
                        f"budget={budget:g}; the least reachable is {exc.least:.3g} "
                        f"(raise the budget or add larger precisions)") from None
    return dict(zip(ops, bits))
