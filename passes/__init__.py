"""Passes: a lazy registry from pipeline names to pass classes.

Each entry names the module and class of one pass; nothing is imported until it is used.
"""

from __future__ import annotations

import difflib
import importlib

from ir.errors import PimcError
from passes.base import Pass

__all__ = ["PASSES", "Pass", "get_pass", "pass_names"]

PASSES: dict[str, str] = {
    "canonicalize": "passes.canonicalize:Canonicalize",
    "fuse-interactions": "passes.fuse_interactions:FuseInteractions",
    "place": "passes.place:Place",
    "schedule": "passes.schedule:Schedule",
    "lower-bound": "passes.lower_bound:LowerBound",
    "assign-precision": "passes.assign_precision:AssignPrecision",
    "partition": "passes.partition:Partition",
    "tile": "passes.tile:Tile",
}


def pass_names() -> list[str]:
    return sorted(PASSES)


def get_pass(name: str) -> type[Pass]:
    """The pass class registered as `name`."""
    target = PASSES.get(name)
    if target is None:
        close = difflib.get_close_matches(name, pass_names(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PimcError(f"unknown pass '{name}'{hint}; known passes: {', '.join(pass_names())}")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)
