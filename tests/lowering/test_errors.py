"""Out-of-order passes, missing facts, and what targets cannot run or hold: one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ir.core import Graph, Module, Value
from ir.dialects import nn, rec
from ir.errors import PimcError
from ir.types import TensorType
from passes.manager import PassManager
from passes.pipeline import parse_pipeline


def _mlp(sigmoid: bool = False) -> Module:
    x = Value(TensorType((2, 300), "f32"), name="x")
    w = nn.Constant(attrs={"value": np.full((300, 300), 0.5, np.float32)})
    dense = rec.Dense([x, w.result])
    ops = [w, dense] + ([nn.Sigmoid([dense.result])] if sigmoid else [])
    return Module("mlp", [Graph("main", [x], ops, [ops[-1].result])])


def _run(spec: str, sigmoid: bool = False) -> Module:
    module = _mlp(sigmoid)
    PassManager(parse_pipeline(spec)).run(module)
    return module


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_tile_before_partition():
    with pytest.raises(PimcError) as exc:
        _run("assign-precision,tile")
    assert "tile needs the module attribute pim.target (run partition{target=NAME} first)" \
        in _one_line(exc)


def test_tile_before_assign_precision():
    with pytest.raises(PimcError) as exc:
        _run("partition{target=puma},tile")
    assert "tile needs pim.w_bits on rec.dense dense0 (run assign-precision first)" \
        in _one_line(exc)


def test_partition_without_a_target():
    with pytest.raises(PimcError) as exc:
        _run("partition")
    assert "partition needs a target" in _one_line(exc)


def test_unknown_precision_mode_and_rows():
    with pytest.raises(PimcError, match="mode=fast is not known; accepted: options, model"):
        _run("assign-precision{mode=fast}")
    with pytest.raises(PimcError, match="rows=0 is not accepted; accepted: lossless, full"):
        _run("assign-precision,partition{target=puma},tile{rows=0}")


def test_digital_op_on_a_target_without_vector_units():
    with pytest.raises(PimcError) as exc:
        _run("assign-precision,partition{target=zigzag-aimc}", sigmoid=True)
    assert _one_line(exc).startswith(
        "partition: nn.sigmoid (op #2) needs a vector unit (on the chip or near the DRAM "
        "banks), but target zigzag-aimc has sram crossbars 128x1024, no vector unit, no DRAM banks")


@pytest.fixture
def one_crossbar(tmp_path: Path) -> str:
    """isaac shrunk to one tile, one IMA, one crossbar."""
    yaml = (Path(__file__).resolve().parents[2] / "targets" / "presets" / "isaac.yaml").read_text()
    yaml = yaml.replace("tiles: 168 ", "tiles: 1 ").replace("pes: 12 ", "pes: 1 ")
    yaml = yaml.replace("arrays: 8 ", "arrays: 1 ").replace("name: isaac", "name: tiny")
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml)
    return str(path)


def test_weights_that_do_not_fit_are_refused(one_crossbar):
    with pytest.raises(PimcError) as exc:
        _run(f"assign-precision{{default=8}},partition{{target={one_crossbar}}},tile")
    # 300 rows / 85 lossless rows = 4 row tiles; 300 cols / (128 - 1) // 4 = 31 = 10 col tiles
    assert _one_line(exc) == ("tile: weights need 40 crossbars (8-bit weights) but target tiny "
                              "has 1; use fewer bits or allow-streaming=true")


def test_allow_streaming_loads_every_tile(one_crossbar):
    module = _run(f"assign-precision{{default=8}},partition{{target={one_crossbar}}},"
                  "tile{allow-streaming=true}")
    names = [op.name for op in module.main.ops]
    assert module.attrs["pim.streamed"] is True
    assert names.count("pim.load") == names.count("pim.mvm") == 40


def test_streamed_target_loads_weights():
    module = _run("assign-precision{default=8},partition{target=zigzag-aimc},tile")
    loads = [op for op in module.main.ops if op.name == "pim.load"]
    mvms = [op for op in module.main.ops if op.name == "pim.mvm"]
    assert module.attrs["pim.streamed"] is True and len(loads) == len(mvms) > 0
    assert all(m.operands[1].owner in loads for m in mvms)
