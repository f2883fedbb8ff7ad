"""assign-precision: weight and activation bits per op, and calibrated crossbar input scales.

Writes `pim.w_bits` / `pim.a_bits` on every op with weights or arithmetic (not on literals and
views), `bits` = a_bits on their float result types, and `pim.x_scale` (max |x| over the
calibration inputs / (2^(a-1) - 1)) on ops whose weights go to crossbars. Bits come from

- ``mode=options`` (default): `default`, overridden per op type (`rec.attention=16`);
- ``mode=model``: the `bits` the model's IR types carry (weights from the weight operand,
  activations from the input), `default` where they carry none;
- ``mode=auto``: CP-SAT picks from `choices` per crossbar op to minimise the mapped cost
  (`objective`: energy, or edp = energy x latency, from targets.CostModel on the module's
  `pim.target` or the `target` option) with the summed relative output error, each op
  fake-quantised alone on the calibration inputs, within `budget`.

Calibration inputs: `inputs` (an .npz file) or seeded generated ones (ir.sample_inputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Graph, Module, Op
from ir.dialects.pim_attrs import A_BITS, TARGET, W_BITS, X_SCALE
from ir.errors import PimcError
from passes._lowering.kinds import kind_of, matrices
from passes._lowering.quantise import calibration_inputs, input_maxabs, scale_for
from passes.base import Pass

__all__ = ["AssignPrecision"]

MODES = ("options", "model", "auto")


def _parse_bits(key: str, text: str) -> int:
    if not text.isdigit() or not 2 <= int(text) <= 32:
        raise PimcError(f"assign-precision: {key}={text} is not a precision; accepted: 2..32")
    return int(text)


def _model_bits(op: Op, default: int) -> tuple[int, int]:
    ms = matrices(op)
    if ms:
        w = op.operands[ms[0].w_index].type.bits or default
        a = ms[0].x.type.bits or op.results[0].type.bits or w
        return w, a
    bits = op.results[0].type.bits or default
    return bits, bits


def _needs_bits(op: Op) -> bool:
    floats = any(r.type.np_dtype.kind == "f" for r in op.results)
    return floats and kind_of(op) != "free"


@dataclass(frozen=True)
class AssignPrecision(Pass):
    """Precision per op (from options, the model, or solved) and crossbar input scales."""

    name: ClassVar[str] = "assign-precision"
    mode: str = "options"
    default: int = 8
    per_op: tuple[tuple[str, str], ...] = ()
    budget: float = 0.01
    target: str = ""
    objective: str = "energy"
    choices: tuple[int, ...] = (4, 8, 16)
    inputs: str = ""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise PimcError(f"assign-precision: mode={self.mode} is not known; accepted: "
                            f"{', '.join(MODES)}")
        if self.objective not in ("energy", "edp"):
            raise PimcError(f"assign-precision: objective={self.objective} is not known; "
                            "accepted: energy, edp")
        _parse_bits("default", str(self.default))

    def apply(self, module: Module) -> bool:
        graph = module.main
        ops = [op for op in graph.ops if _needs_bits(op)]
        bits = {op: self._fixed_bits(op) for op in ops}
        crossbar = [op for op in ops if matrices(op)]
        inputs = calibration_inputs(module, self.inputs, self.seed) if crossbar else {}
        maxabs = input_maxabs(graph, inputs, crossbar) if crossbar else {}
        if self.mode == "auto":
            bits.update(self._solved(module, graph, inputs, crossbar, maxabs))
        for op in ops:
            _write(op, *bits[op], maxabs.get(op))
        return bool(ops)

    def _fixed_bits(self, op: Op) -> tuple[int, int]:
        given = dict(self.per_op)
        if op.name in given:
            b = _parse_bits(op.name, given[op.name])
            return b, b
        if self.mode == "model":
            return _model_bits(op, self.default)
        return self.default, self.default

    def _solved(self, module: Module, graph: Graph, inputs, ops: list[Op],
                maxabs: dict[Op, float]) -> dict[Op, tuple[int, int]]:
        from passes._lowering.solve_precision import solve
        from targets import load_target

        name = TARGET.of(module, None) or self.target
        if not name:
            raise PimcError("assign-precision{mode=auto} prices ops on a target: give "
                            "target=NAME or run partition{target=NAME} first")
        target = load_target(name)
        if target.chip is None:
            raise PimcError(f"assign-precision{{mode=auto}} prices crossbar MVMs, but target "
                            f"{target.name} has no crossbars")
        free = [op for op in ops if op.name not in dict(self.per_op)]
        chosen = solve(graph, inputs, free, maxabs, target, self.choices, self.budget,
                       self.objective, self.seed)
        return {op: (b, b) for op, b in chosen.items()}


def _write(op: Op, w_bits: int, a_bits: int, maxabs: float | None) -> None:
    W_BITS.set(op, w_bits)
    A_BITS.set(op, a_bits)
    if maxabs is not None:
        X_SCALE.set(op, scale_for(maxabs, a_bits))
    for r in op.results:
        if r.type.np_dtype.kind == "f":
            r.type = r.type.with_bits(a_bits)
