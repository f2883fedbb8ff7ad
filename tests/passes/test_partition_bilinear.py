"""partition's cost choice for rec.bilinear: FiBiNET's per-pair 4 x 4 bilinear products stay
on crossbars where they shorten the interval (isaac) and go to the near-bank units on hetero,
where crossbars and their ADCs cost more than the digital form; without an objective they stay
on crossbars (the earlier mapping)."""

from pathlib import Path

import pytest

from compiler import driver
from ir.dialects import rec
from ir.dialects.pim_attrs import UNIT

FIBINET = Path(__file__).resolve().parents[1] / "fixtures" / "onnx" / "deepctr_fibinet_legacy.onnx"


def _units(target: str, objective: str) -> list[str]:
    out = driver.compile(str(FIBINET), target, batch=8, objective=objective, emit="partitioned",
                         check="none")
    return [UNIT.of(op) for op in out.module.main.ops if isinstance(op, rec.Bilinear)]


@pytest.mark.skipif(not FIBINET.exists(), reason="fixture corpus not built")
@pytest.mark.parametrize("target, unit", [("isaac", "crossbar"), ("hetero", "digital")])
def test_fibinet_bilinear_goes_where_its_cost_is_lower(target, unit):
    units = _units(target, "throughput")
    assert units and set(units) == {unit}


@pytest.mark.skipif(not FIBINET.exists(), reason="fixture corpus not built")
def test_without_an_objective_the_bilinear_stays_on_crossbars():
    from frontend.onnx import import_onnx
    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    module = import_onnx(str(FIBINET), batch=8)
    PassManager(parse_pipeline("canonicalize,fuse-interactions,assign-precision,"
                               "partition{target=hetero}")).run(module)
    units = {UNIT.of(op) for op in module.main.ops if isinstance(op, rec.Bilinear)}
    assert units == {"crossbar"}  # near miss of the hetero case above: no objective, no choice
