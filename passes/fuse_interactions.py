"""fuse-interactions: raise `nn` patterns into `rec` ops (dense, embedding_bag, interactions).

The rules live in `passes.rules`, one module per family; `rules` selects families ("all" or
names joined by '+', e.g. "dense+fm"). Each rule is a pattern, a check that gives the reason
it may not fire, and a rewrite; `passes.rewrite.tracing()` records those reasons. Every
rewrite is numerically equivalent to what it replaces (tests/passes check each one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ir.core import Module
from passes._gc_pause import gc_paused
from passes.base import Pass
from passes.rewrite import apply_rules
from passes.rules import rules_for

__all__ = ["FuseInteractions"]


@dataclass(frozen=True)
class FuseInteractions(Pass):
    """Fuse recommender patterns into `rec` ops with the selected rule families."""

    name: ClassVar[str] = "fuse-interactions"
    rules: str = "all"

    def __post_init__(self) -> None:
        rules_for(self.rules)  # fail at construction on an unknown rule name

    def apply(self, module: Module) -> bool:
        rules = rules_for(self.rules)
        changed = False
        with gc_paused():  # every rewrite allocates; a collection would walk the whole module
            for graph in module.graphs:
                changed |= apply_rules(graph, rules)
        return changed
