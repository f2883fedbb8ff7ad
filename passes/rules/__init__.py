"""Fusion rules that raise `nn` patterns into `rec` ops, one module per family.

`RULE_FAMILIES` maps a family name (what `fuse-interactions{rules=...}` selects) to the
module defining its `RULES`; modules are imported on first use.
"""

from __future__ import annotations

import importlib

from ir.errors import PimcError
from passes.rewrite import Rule

__all__ = ["RULE_FAMILIES", "rules_for"]

# The order is the order rules are tried at one anchor: plain layers before the
# interactions built from them.
RULE_FAMILIES: dict[str, str] = {
    "dense": "passes.rules.dense",
    "batch-norm": "passes.rules.batch_norm",
    "layer-norm": "passes.rules.layer_norm",
    "embedding": "passes.rules.embedding",
    "masked-pool": "passes.rules.masked_pool",
    "dot-interaction": "passes.rules.dot_interaction",
    "fm": "passes.rules.fm",
    "pairwise": "passes.rules.pairwise",
    "bilinear": "passes.rules.bilinear",
    "cross": "passes.rules.cross",
    "cross-mix": "passes.rules.cross_mix",
    "attention": "passes.rules.attention",
    "gating": "passes.rules.gating",
    "moe": "passes.rules.moe",
    "attention-pool": "passes.rules.attention_pool",
    "efc": "passes.rules.efc",
    "gru": "passes.rules.gru",
}


def rules_for(spec: str) -> list[Rule]:
    """The rules of the families named in `spec` ("all" or names joined by '+')."""
    names = list(RULE_FAMILIES) if spec.strip() == "all" else \
        [n.strip() for n in spec.split("+") if n.strip()]
    unknown = [n for n in names if n not in RULE_FAMILIES]
    if unknown or not names:
        raise PimcError(f"unknown fusion rule '{unknown[0] if unknown else spec}'; known: all, "
                        + ", ".join(RULE_FAMILIES))
    out: list[Rule] = []
    for name in RULE_FAMILIES:  # registry order, whatever order the spec lists them in
        if name in names:
            out.extend(importlib.import_module(RULE_FAMILIES[name]).RULES)
    return out
