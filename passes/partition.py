"""partition{target=NAME, objective=OBJECTIVE, weights=[L,I,E]}: the unit class of every op.

Writes the module attributes `pim.target` and `pim.batch` (axis 0 of the first argument) and
`pim.unit` on every op:

- crossbar matmuls (rec.dense, rec.efc, matrix rec.cross, attention projections, rec.gru,
  rec.bilinear's left factor, nn.gemm / nn.matmul with a constant weight): "crossbar" on a
  target with crossbar arrays,
  "bank" (near-bank GEMV) on one with DRAM banks only; except that, given an `objective`, a
  rec.gru or rec.bilinear goes to "digital" by the rule below;
- rec.embedding_bag: "bank" when the target has DRAM banks, else "digital" (tables read from
  off-chip DRAM, pooled by the vector units);
- everything else that computes: "digital", on the chip's vector units or, without one, the
  near-bank units;
- literals and views (constant, reshape, squeeze, unsqueeze, flatten, identity): "none".

The choice (`objective` = latency, throughput, energy or mix, as `place` takes it; without one,
every crossbar-capable op stays on crossbars, as before costs were compared). For a rec.gru or
rec.bilinear on a target with crossbars and digital units, `passes._costing.choice` prices
three forms with the scheduler's cost model: digital (its own VectorOps, one after another on
one unit), crossbar at one copy, and crossbar at the copies the chip could afford (1 + the
crossbars spare when every crossbar-capable op sits on crossbars once, over the op's tiles; 1
on streamed targets); a crossbar form is the op's tiles' MVMs plus the digital remainder of its
lowering. Each form has a latency (its longest path; transfers not counted), an interval (its
busiest resource, a lower bound) and an energy (its primitives'). The crossbar's best is the
less of its two forms on each number. The op goes digital when both hold:

1. digital beats the crossbar's best on the objective: latency, interval or energy; for
   mix, sum(w * digital / crossbar's best) over latency, interval and energy < sum(w),
   w = `weights` ([1, 1, 0], as `place`);
2. where batches are pipelined (throughput, energy, mix), the digital interval is no longer
   than the crossbar's best: crossbars bring no throughput that digital gives up.

Only rec.gru and rec.bilinear (whose digital costs price all of their work) are chosen so.
FiBiNET's and OPNN's bilinear products (D = 4) stay on crossbars on isaac and puma, where they
shorten the interval (FiBiNET 16,416 -> 12,837 cycles on isaac), and go digital on hetero,
whose near-bank units beat the crossbars and their ADCs (FiBiNET: interval 1,920 cycles and
0.90 uJ digital against 11,903 and 3.27 uJ on crossbars). The digital costs of rec.cross and
rec.attention cover only what follows their crossbar products, so their forms do not compare;
and a small rec.dense, though faster alone on the digital units, shares those units with every
other digital op, which a per-op comparison does not see: moved there, NARM's and SASRec's
denses lengthen the isaac interval by 36% and 31% (docs/mapping.md).

An op the target cannot run is refused naming the op, the unit class it needs and what the
target has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Module, Op
from ir.dialects.pim_attrs import BATCH, TARGET, UNIT
from ir.errors import PimcError
from passes._costing.choice import (
    CHOOSABLE,
    crossbar_form,
    digital_form,
    prefers_digital,
    spare_crossbars,
    tiles_of,
)
from passes._lowering.kinds import kind_of, op_names
from passes._placement.placement import OBJECTIVES
from passes.base import Pass

__all__ = ["Partition", "units_of"]

# kind -> the unit classes that can run it, in order of preference
_PREFERENCE = {
    "crossbar": ("crossbar", "bank"),
    "embedding": ("bank", "digital"),
    "digital": ("digital",),
    "free": ("none",),
}
_NEEDS = {"crossbar": "crossbar arrays or near-bank GEMV units",
          "embedding": "DRAM banks or a vector unit",
          "digital": "a vector unit (on the chip or near the DRAM banks)"}


def units_of(target) -> dict[str, bool]:
    """Which unit classes the target offers."""
    chip = target.chip
    vector = chip is not None and (chip.tile.pe.vector_unit or chip.tile.vector_unit)
    return {"crossbar": chip is not None, "bank": target.dram is not None,
            "digital": bool(vector) or target.dram is not None, "none": True}


def describe(target) -> str:
    """What a target has, in words, for error messages."""
    parts = []
    if target.chip is not None:
        a = target.chip.tile.pe.array
        parts.append(f"{a.technology} crossbars {a.rows}x{a.columns}")
        vector = target.chip.tile.pe.vector_unit or target.chip.tile.vector_unit
        parts.append("a vector unit" if vector else "no vector unit")
    parts.append("DRAM banks with near-bank units" if target.dram is not None
                 else "no DRAM banks")
    return ", ".join(parts)


def unit_for(op: Op, index: int, target, offers: dict[str, bool]) -> str:
    kind = kind_of(op)
    for unit in _PREFERENCE[kind]:
        if offers[unit]:
            return unit
    raise PimcError(f"{op.name} (op #{index}) needs {_NEEDS[kind]}, but target {target.name} "
                    f"has {describe(target)}", "partition")


class _Chooser:
    """Crossbar or digital for the choosable ops of one graph (see the module docstring)."""

    def __init__(self, graph, target, objective: str, weights: tuple[float, ...]) -> None:
        from targets.coster import shared_coster

        self.target, self.objective, self.weights = target, objective, weights
        self.coster = shared_coster(target)  # the prices place and schedule read too
        self.spare = spare_crossbars(graph, target)
        self.names = op_names(graph)

    def unit(self, op: Op) -> str:
        name, t = self.names[op], self.target
        most = 1 + self.spare // max(1, tiles_of(op, t))
        one = crossbar_form(op, name, t, self.coster)
        forms = (one, one if most == 1 else crossbar_form(op, name, t, self.coster, most))
        digital = digital_form(op, t, self.coster)
        return "digital" if prefers_digital(self.objective, self.weights, digital, forms) \
            else "crossbar"


@dataclass(frozen=True)
class Partition(Pass):
    """Choose crossbar, bank, digital or none for every op, from the target's capabilities
    and, given an objective, the costs of a GRU's or a bilinear's forms."""

    name: ClassVar[str] = "partition"
    target: str = ""
    objective: str = ""
    weights: tuple[float, ...] = (1.0, 1.0, 0.0)

    def _check(self) -> None:
        if self.objective and self.objective not in OBJECTIVES:
            raise PimcError(f"partition: objective '{self.objective}'; accepted: "
                            f"{', '.join(OBJECTIVES)} (or none: crossbar ops on crossbars)")
        if len(self.weights) != 3 or min(self.weights) < 0 or not any(self.weights):
            raise PimcError("partition: weights are [latency, interval, energy], three "
                            f"non-negative numbers not all 0; got {list(self.weights)}")

    def apply(self, module: Module) -> bool:
        from targets import load_target

        self._check()
        name = self.target or TARGET.of(module, None)
        if not name:
            raise PimcError("partition needs a target: partition{target=NAME} (see "
                            "`pimc targets list`)")
        target = load_target(name)
        offers = units_of(target)
        graph = module.main
        chooser = None
        if self.objective and offers["digital"] and target.chip is not None:
            chooser = _Chooser(graph, target, self.objective, tuple(self.weights))
        for i, op in enumerate(graph.ops):
            unit = unit_for(op, i, target, offers)
            if chooser is not None and unit == "crossbar" and isinstance(op, CHOOSABLE):
                unit = chooser.unit(op)
            UNIT.set(op, unit)
            op.meta["unit"] = unit
        TARGET.set(module, name)
        if graph.args and graph.args[0].type.rank:
            BATCH.set(module, graph.args[0].type.shape[0])
        return True
