"""Fake-quantised reference execution: the float graph with some operands rounded to fixed point.

A plan maps ops to the operands to quantise: ``{op: {operand_index: (scale, bits)}}``. A
``scale`` of None means per-tensor max-abs scaling of that operand (weights); a number is a
calibrated scale (activations). A quantised operand is ``quantize(v, scale, bits) * scale``
(round to the nearest step, clip to the symmetric signed range), which is what a crossbar with
a lossless ADC computes on it, so the result matches the `pim` program up to float rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ir.core import Graph, Op
from ir.interp import evaluate
from ir.interp import run as _run
from ir.interp.pim import quantize

__all__ = ["QuantPlan", "fake_quantize", "run_quantised", "weight_scale"]

QuantPlan = Mapping[Op, Mapping[int, tuple[float | None, int]]]


def weight_scale(w: np.ndarray, bits: int) -> float:
    """Per-tensor scale that maps max |w| onto the largest code of `bits` signed bits."""
    return (_max_abs(w) or 1.0) / (2 ** (bits - 1) - 1)


def _max_abs(w: np.ndarray) -> float:
    """max |w| (0 when empty; NaN when any is). For floats, the larger of the largest and the
    negated smallest, exactly that: no |w| the size of the weights is made (a crossbar
    weight's scale took 2% of a search-loop compile that way)."""
    w = np.asarray(w)
    if not w.size:
        return 0.0
    if w.dtype.kind == "f":
        return float(np.maximum(w.max(), -w.min()))
    return float(np.max(np.abs(w)))


def fake_quantize(v: np.ndarray, scale: float | None, bits: int) -> np.ndarray:
    """`v` rounded to `bits` signed bits of step `scale` (max-abs scaling when None)."""
    step = weight_scale(v, bits) if scale is None else scale
    return (quantize(v, step, bits) * step).astype(np.asarray(v).dtype, copy=False)


def _quantised_operands(op: Op, arrays: list[np.ndarray],
                        plan: Mapping[int, tuple[float | None, int]]) -> list[np.ndarray]:
    return [fake_quantize(a, *plan[i]) if i in plan else a for i, a in enumerate(arrays)]


def run_quantised(graph: Graph, inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
                  plan: QuantPlan) -> list[np.ndarray]:
    """Interpret `graph` with the operands named in `plan` fake-quantised."""
    if not plan:
        return _run(graph, inputs)
    from ir.interp import _bind_inputs  # the interpreter's own argument checks

    env = _bind_inputs(graph, inputs)
    for op in graph.ops:
        arrays = [env[v] for v in op.operands]
        if op in plan:
            arrays = _quantised_operands(op, arrays, plan[op])
        env.update(zip(op.results, evaluate(op, arrays)))
    return [env[v] for v in graph.outputs]
