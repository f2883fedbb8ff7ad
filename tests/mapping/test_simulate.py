"""compiler.mapped_report, passes._costing.op_primitives and targets.coster on placed, scheduled programs."""

import json

import pytest
from builders import mlp, tiny_target

from compiler.mapped_report import report_of
from ir.dialects import pim
from ir.errors import PimcError
from passes._costing.op_primitives import primitives
from passes.pipeline import parse_pipeline
from targets import CrossbarMVM, load_target
from targets.coster import OpCoster


def placed(module, spec="place{solver=greedy},schedule,lower-bound"):
    for p in parse_pipeline(spec):
        p.apply(module)
    return module


def test_report_reads_the_schedule_and_adds_up(tmp_path):
    m = placed(mlp(tiny_target(tmp_path, arrays=16), [20, 100, 30], batch=4, embeddings=1))
    r = report_of(m)
    assert r.latency_cycles == m.attrs["pim.latency"]
    assert r.samples_per_second == pytest.approx(r.batches_per_second * 4)
    assert r.total_energy == pytest.approx(sum(r.energy.values()))
    assert sum(sum(parts.values()) for parts in r.energy_by_op.values()) == pytest.approx(
        r.total_energy)  # no leakage here
    assert {"adc", "bank", "network"} <= set(r.energy)
    assert r.crossbars_used == sum(r.crossbars_per_tile) == len(
        {x for op in m.main.find(pim.MVM) for x in op.attrs["pim.loc"]})
    assert r.bound["latency"] <= r.latency_cycles and 0 <= r.gap["interval"] < 1
    json.dumps(r.to_dict())


def test_mvm_time_divides_by_replicas():
    m = mlp("isaac", [64, 16], batch=8)
    op = m.main.find(pim.MVM)[0]
    coster = OpCoster(load_target("isaac"))
    (prim,) = primitives(op, coster.target)
    assert prim == CrossbarMVM(64, 16, 16, 16, 8, 1)
    one = coster.cycles((prim,))
    four = coster.cycles((CrossbarMVM(64, 16, 16, 16, 8, 4),))
    assert four * 4 == pytest.approx(one, rel=0.01)


def test_simulate_needs_a_schedule():
    with pytest.raises(PimcError, match="scheduled"):
        report_of(mlp("isaac", [8, 8]))
