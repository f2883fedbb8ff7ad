"""Calibration and quantisation plans shared by assign-precision, tile and error_bound.

A crossbar op quantises its activation input per tensor with a calibrated scale
(max |x| over the calibration inputs / (2^(a-1) - 1)) and each weight per tensor with its
own max-abs scale; biases and everything digital stay in float.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ir.core import Graph, Module, Op, Value
from ir.dialects.pim_attrs import A_BITS, W_BITS, X_SCALE
from ir.errors import PimcError
from ir.interp import run
from ir.interp.quant import QuantPlan
from passes._lowering.kinds import matrices

__all__ = ["calibration_inputs", "input_maxabs", "quant_plan", "scale_for"]


def scale_for(maxabs: float, bits: int) -> float:
    """The step that maps `maxabs` onto the largest code of `bits` signed bits."""
    return (maxabs or 1.0) / (2 ** (bits - 1) - 1)


def calibration_inputs(module: Module, path: str = "", seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs from an .npz file when a path is given, else seeded generated ones."""
    if not path:
        from ir.sample_inputs import sample_inputs

        return sample_inputs(module.main, seed=seed)
    try:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    except OSError as exc:
        raise PimcError(f"cannot read calibration inputs {path!r}: {exc}") from None


def input_maxabs(graph: Graph, inputs: Mapping[str, np.ndarray],
                 ops: Iterable[Op]) -> dict[Op, float]:
    """max |x| of the activation input of every given crossbar op, on the float run (with
    the values its matrices quantise with it, `Matrix.also`)."""
    wanted: dict[Value, list[Op]] = {}
    for op in ops:
        ms = matrices(op)
        for x in dict.fromkeys([ms[0].x, *(v for m in ms for v in m.also)]):
            wanted.setdefault(x, []).append(op)
    seen: dict[Value, float] = {}
    for arg in graph.args:
        if arg in wanted:
            seen[arg] = float(np.max(np.abs(inputs[arg.name]), initial=0.0))

    def observe(op: Op, outs: list[np.ndarray]) -> None:
        for r, a in zip(op.results, outs):
            if r in wanted:
                seen[r] = float(np.max(np.abs(a), initial=0.0))

    run(graph, inputs, observe)
    out: dict[Op, float] = {}
    for v, users in wanted.items():
        for op in users:
            out[op] = max(out.get(op, 0.0), seen[v])
    return out


def quant_plan(ops: Iterable[Op]) -> QuantPlan:
    """The fake-quantisation plan of ops carrying pim.w_bits, pim.a_bits and pim.x_scale."""
    plan = {}
    for op in ops:
        ms = matrices(op)
        if not ms or not X_SCALE.has(op):
            continue
        entry = {m.w_index: (None, W_BITS.of(op)) for m in ms}
        entry[ms[0].x_index] = (X_SCALE.of(op), A_BITS.of(op))
        plan[op] = entry
    return plan
