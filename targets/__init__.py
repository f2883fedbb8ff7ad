"""PIM hardware as data, and an analytical cost model built on published numbers.

Public API::

    load_target(name_or_path) -> Target      # a shipped preset by name, or a YAML file
    list_targets() -> list[str]              # names of the shipped presets
    CostModel(target).evaluate(primitives) -> Report
    CrossbarMVM, VectorOp, BankGather, Transfer, WeightLoad, DramAccess   # the primitives
    rollup(target) -> Rollup; capacity(target, bits)   # area, power, peak ops, capacity
    COST_MODELS                              # name -> cost-model class (lazy registry)

See ``targets/README.md`` for the YAML vocabulary and the meaning of every cost step.
"""

from __future__ import annotations

from targets.cost_model import CostModel
from targets.errors import TargetError
from targets.hardware import Target
from targets.loader import PRESETS, list_targets, load_target
from targets.primitives import BankGather, CrossbarMVM, DramAccess, Transfer, VectorOp, WeightLoad
from targets.report import OpCost, Report
from targets.rollup import Rollup, capacity, rollup

COST_MODELS: dict[str, type[CostModel]] = {CostModel.name: CostModel}

__all__ = [
    "COST_MODELS", "PRESETS", "BankGather", "CostModel", "CrossbarMVM", "DramAccess", "OpCost",
    "Report", "Rollup", "Target", "TargetError", "Transfer", "VectorOp", "WeightLoad", "capacity",
    "list_targets", "load_target", "rollup",
]
