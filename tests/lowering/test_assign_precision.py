"""assign-precision: options, bits from the model, and the CP-SAT choice under a budget."""

from __future__ import annotations

import numpy as np
import pytest

from ir.core import Graph, Module, Value
from ir.dialects import nn, rec
from ir.errors import PimcError
from ir.interp import run
from ir.interp.quant import run_quantised
from ir.types import TensorType
from passes._lowering.precision_model import choose_bits
from passes._lowering.quantise import quant_plan
from passes._lowering.solve_precision import relative_error
from passes.manager import PassManager
from passes.pipeline import parse_pipeline


def _mlp() -> Module:
    rng = np.random.default_rng(0)
    x = Value(TensorType((8, 16), "f32"), name="x")
    ops, v = [], x
    for width in (32, 32, 4):
        w = nn.Constant(attrs={"value": rng.normal(size=(v.type.shape[1], width))
                               .astype(np.float32) / 4})
        dense = rec.Dense([v, w.result], {"activation": "relu" if width > 4 else "none"})
        ops += [w, dense]
        v = dense.result
    return Module("mlp", [Graph("main", [x], ops, [v])])


def _bits(spec: str) -> list[int]:
    module = _mlp()
    PassManager(parse_pipeline(spec)).run(module)
    return [op.attrs["pim.w_bits"] for op in module.main.ops if isinstance(op, rec.Dense)]


def test_default_and_per_op_options():
    assert _bits("assign-precision{default=4}") == [4, 4, 4]
    assert _bits("assign-precision{default=4,rec.dense=16}") == [16, 16, 16]


def test_auto_meets_the_budget_at_least_cost():
    loose = _bits("assign-precision{mode=auto,budget=10,target=puma}")
    tight = _bits("assign-precision{mode=auto,budget=1e-4,target=puma}")
    assert loose == [4, 4, 4]  # the cheapest precision everywhere
    assert min(tight) > 4
    with pytest.raises(PimcError, match="no precision choice keeps the output error within"):
        _bits("assign-precision{mode=auto,budget=1e-12,target=puma}")


def test_auto_choice_is_within_budget_when_errors_add():
    module = _mlp()
    PassManager(parse_pipeline("assign-precision{mode=auto,budget=0.02,target=puma}")).run(module)
    from ir.sample_inputs import sample_inputs

    feed = sample_inputs(module.main)
    want = run(module.main, feed)
    total = sum(relative_error(run_quantised(module.main, feed, quant_plan([op])), want)
                for op in module.main.ops if isinstance(op, rec.Dense))
    assert total <= 0.02


def test_solver_model_picks_cheapest_feasible():
    options = [{4: (1.0, 0.5), 8: (2.0, 0.1), 16: (4.0, 0.0)},
               {4: (1.0, 0.05), 8: (2.0, 0.01), 16: (4.0, 0.0)}]
    assert choose_bits(options, budget=0.2) == [8, 4]
    assert choose_bits(options, budget=1.0) == [4, 4]


def test_auto_needs_a_target():
    with pytest.raises(PimcError, match="give target=NAME or run partition"):
        _bits("assign-precision{mode=auto}")
