"""partition{target=NAME}: the unit class of every op, from what the target has.

Writes the module attributes `pim.target` and `pim.batch` (axis 0 of the first argument) and
`pim.unit` on every op:

- crossbar matmuls (rec.dense, rec.efc, matrix rec.cross, attention projections, nn.gemm /
  nn.matmul with a constant weight): "crossbar" on a target with crossbar arrays, "bank"
  (near-bank GEMV) on one with DRAM banks only;
- rec.embedding_bag: "bank" when the target has DRAM banks, else "digital" (tables read from
  off-chip DRAM, pooled by the vector units);
- everything else that computes: "digital", on the chip's vector units or, without one, the
  near-bank units;
- literals and views (constant, reshape, squeeze, unsqueeze, flatten, identity): "none".

An op the target cannot run is refused naming the op, the unit class it needs and what the
target has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Module, Op
from ir.dialects.pim_attrs import BATCH, TARGET, UNIT
from ir.errors import PimcError
from passes._lowering.kinds import kind_of
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


@dataclass(frozen=True)
class Partition(Pass):
    """Choose crossbar, bank, digital or none for every op from the target's capabilities."""

    name: ClassVar[str] = "partition"
    target: str = ""

    def apply(self, module: Module) -> bool:
        from targets import load_target

        name = self.target or TARGET.of(module, None)
        if not name:
            raise PimcError("partition needs a target: partition{target=NAME} (see "
                            "`pimc targets list`)")
        target = load_target(name)
        offers = units_of(target)
        graph = module.main
        for i, op in enumerate(graph.ops):
            unit = unit_for(op, i, target, offers)
            UNIT.set(op, unit)
            op.meta["unit"] = unit
        TARGET.set(module, name)
        if graph.args and graph.args[0].type.rank:
            BATCH.set(module, graph.args[0].type.shape[0])
        return True
