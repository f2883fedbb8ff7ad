"""A fused module lowered for a target: the pim-level program stays within its error bound."""

from __future__ import annotations

import numpy as np
from rec_pass_helpers import op_names, random_inputs

from ir.interp import run


def assert_lowers_within_bound(module, target: str = "hetero") -> list[str]:
    """Lower `module` (fused) at 16 bits for `target`; outputs within the error bound of the
    float run on random inputs. Returns the lowered op names."""
    from passes.error_bound import error_bound
    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    feed = random_inputs(module)
    want = run(module.main, feed)
    spec = f"assign-precision{{default=16}},partition{{target={target}}},tile"
    PassManager(parse_pipeline(spec)).run(module)
    for got, w, bound in zip(run(module.main, feed), want, error_bound(module, feed)):
        assert np.all(np.abs(got - w) <= bound)
    return op_names(module)
