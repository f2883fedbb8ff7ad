"""partition's choice between crossbar and digital for a rec.gru, by the target's cost model and
the objective: a GRU4Rec-sized GRU goes digital, a larger one stays on crossbars, the
pipelined objectives refuse a digital form with a longer interval, no objective keeps the
crossbar mapping, and the fixtures still pass the functional check with their GRUs digital."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compiler import driver
from ir.core import Graph, Module, Value
from ir.dialects import nn, rec
from ir.dialects.pim_attrs import UNIT
from ir.errors import PimcError
from ir.text import print_module
from ir.types import TensorType
from passes._costing.choice import Form, prefers_digital
from passes.manager import PassManager
from passes.pipeline import parse_pipeline

FIXTURES = Path(__file__).parents[1] / "fixtures" / "onnx"
FILECHECK = Path(sys.executable).with_name("filecheck")
GRU4REC = (8, 4, 4, 4)  # seq, batch, input, hidden: GRU4Rec's GRUs at batch 4
NARM = (8, 4, 8, 8)  # NARM's GRU: digital is shorter alone, yet holds its unit longer
LARGE = (8, 4, 24, 24)  # on isaac, digital steps outlast the crossbar steps


def gru_module(seq: int, batch: int, inp: int, hidden: int) -> Module:
    """x [seq, batch, inp] through one rec.gru of `hidden` units from a zero state."""
    rng = np.random.default_rng(0)
    x = Value(TensorType((seq, batch, inp), "f32"), name="x")
    arrays = [(rng.normal(size=s) * 0.3).astype(np.float32)
              for s in ((inp, 3 * hidden), (hidden, 3 * hidden), (3 * hidden,), (3 * hidden,))]
    consts = [nn.Constant(attrs={"value": a})
              for a in (*arrays, np.zeros((batch, hidden), np.float32))]
    gru = rec.Gru([x, *(c.result for c in consts)],
                  {"linear_before_reset": True, "reverse": False})
    return Module("gru", [Graph("main", [x], [*consts, gru], [gru.result])])


def partitioned(dims: tuple[int, ...], options: str) -> Module:
    module = gru_module(*dims)
    # 16 bits: isaac's and hetero's own precision, which the compile driver assigns
    PassManager(parse_pipeline(f"assign-precision{{default=16}},partition{{{options}}}")).run(
        module)
    return module


def gru_unit(dims: tuple[int, ...], options: str) -> str:
    (op,) = [o for o in partitioned(dims, options).main.ops if isinstance(o, rec.Gru)]
    return UNIT.of(op)


def test_a_gru4rec_sized_gru_goes_digital_on_isaac_for_latency():
    assert gru_unit(GRU4REC, "target=isaac,objective=latency") == "digital"


def test_a_larger_gru_stays_on_crossbars_on_isaac_for_latency():
    # hidden 24: 36,404 cycles on a vector unit against 21,296 on crossbars; hidden 16 is
    # still digital (16,896 against 19,362)
    assert gru_unit(LARGE, "target=isaac,objective=latency") == "crossbar"
    assert gru_unit((8, 4, 16, 16), "target=isaac,objective=latency") == "digital"


def test_without_an_objective_every_gru_stays_on_crossbars():
    assert gru_unit(GRU4REC, "target=isaac") == "crossbar"
    assert gru_unit(GRU4REC, "target=hetero") == "crossbar"


@pytest.mark.parametrize("objective", ["throughput", "energy", "mix"])
def test_pipelined_objectives_keep_a_gru_whose_digital_interval_is_longer(objective):
    # NARM's GRU on isaac: 4,762 cycles on one vector unit against 1,920 per crossbar MVM;
    # GRU4Rec's takes 1,460
    assert gru_unit(NARM, f"target=isaac,objective={objective}") == "crossbar"
    assert gru_unit(NARM, "target=isaac,objective=latency") == "digital"
    assert gru_unit(GRU4REC, f"target=isaac,objective={objective}") == "digital"


def test_on_hetero_the_near_bank_units_take_even_a_large_gru_unless_pipelined():
    big = (16, 4, 128, 128)
    assert gru_unit(big, "target=hetero,objective=latency") == "digital"
    assert gru_unit(big, "target=hetero,objective=throughput") == "crossbar"


CROSSBAR = (Form(1000, 800, 1.0, 8), Form(400, 100, 1.0, 64))  # one copy, affordable copies


@pytest.mark.parametrize("objective, digital, expected", [
    ("latency", Form(399, 399, 2.0), True),
    ("latency", Form(400, 10, 0.1), False),  # a tie is no gain
    ("throughput", Form(999, 99, 9.0), True),
    ("throughput", Form(1, 101, 0.1), False),  # the copies' interval, not one copy's
    ("energy", Form(9999, 100, 0.9), True),
    ("energy", Form(1, 101, 0.1), False),  # less energy, but crossbars bring throughput
    ("mix", Form(500, 50, 5.0), True),  # 500/400 + 50/100 = 1.75 < 2
    ("mix", Form(700, 50, 0.1), False),  # 700/400 + 50/100 = 2.25
])
def test_the_rule(objective, digital, expected):
    assert prefers_digital(objective, (1.0, 1.0, 0.0), digital, CROSSBAR) is expected


def test_mix_weights_count():
    digital = Form(440, 80, 5.0)  # latency worse by 10%, interval better by 20%
    assert prefers_digital("mix", (1.0, 1.0, 0.0), digital, CROSSBAR)
    assert not prefers_digital("mix", (1.0, 1.0, 1.0), digital, CROSSBAR)  # 5x the energy


@pytest.mark.parametrize("options, message", [
    ("target=isaac,objective=speed", "objective 'speed'; accepted: latency, throughput"),
    ("target=isaac,objective=mix,weights=[1,1]", "weights are [latency, interval, energy]"),
    ("target=isaac,objective=mix,weights=[0,0,0]", "not all 0"),
])
def test_bad_options_are_refused_in_one_line(options, message):
    with pytest.raises(PimcError, match=message.replace("[", r"\[")) as info:
        partitioned(GRU4REC, options)
    assert "\n" not in str(info.value)


def test_the_choice_needs_precisions():
    module = gru_module(*GRU4REC)
    with pytest.raises(PimcError, match="pim.w_bits on rec.gru gru0 .*assign-precision"):
        PassManager(parse_pipeline("partition{target=isaac,objective=latency}")).run(module)


CHECKS = """\
// CHECK:      module @gru attributes {pim.batch = 8, pim.target = "isaac"}
// CHECK:      rec.gru(%x, {{.*}}pim.unit = "{unit}"{{.*}}} : tensor<8x4x{hidden}xf32
"""


@pytest.mark.parametrize("dims, unit", [(GRU4REC, "digital"), (LARGE, "crossbar")])
def test_printed_ir(dims, unit, tmp_path):
    checks = tmp_path / "checks"
    checks.write_text(CHECKS.replace("{unit}", unit).replace("{hidden}", str(dims[3])))
    text = print_module(partitioned(dims, "target=isaac,objective=latency"))
    proc = subprocess.run([str(FILECHECK), str(checks)], input=text, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def _partition_with_objective(monkeypatch) -> None:
    """The driver's stages, partition given the compile's objective (when it lacks one)."""
    real = driver.stage_specs

    def specs(target, objective, *args, **kwargs):
        out = real(target, objective, *args, **kwargs)
        return [(n, s.replace("}", f",objective={objective}}}", 1)
                 if n == "partitioned" and "objective=" not in s else s) for n, s in out]

    monkeypatch.setattr(driver, "stage_specs", specs)


@pytest.mark.parametrize("target", ["isaac", "hetero"])
@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_gru4rec_runs_its_grus_digitally_and_passes_the_check(target, exporter, monkeypatch):
    _partition_with_objective(monkeypatch)
    result = driver.compile(FIXTURES / f"rechub_gru4rec_{exporter}.onnx", target, batch=4,
                            objective="latency")
    grus = [op for op in result.module.main.ops if isinstance(op, rec.Gru)]
    assert grus and all(UNIT.of(op) == "digital" for op in grus)
    assert not [op for op in result.module.main.ops if op.attrs.get("op", "").startswith("gru")]
    assert result.functional["passed"], result.functional["detail"]
