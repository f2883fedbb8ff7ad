"""schedule.json sizes a table's shards as tile and place do (`table_bytes`, at the table's
assigned weight precision), so the checker's bank capacities agree with the placement: a
Criteo-size table placed at 16 bits was refused as over capacity when counted at the 32 bits
of its float type."""

from pathlib import Path

import pytest

from compiler.checker import check_schedule
from compiler.driver import compile as compile_model

FM = Path(__file__).resolve().parents[1] / "fixtures" / "onnx" / "torchfm_fm_legacy.onnx"


@pytest.mark.skipif(not FM.exists(), reason="fixture corpus not built")
def test_shards_are_counted_at_the_assigned_weight_bits():
    out = compile_model(str(FM), "hbm-pim", batch=8, check="none")
    shards = out.schedule["shards"]
    assert shards
    dims = {}
    for op in out.module.main.ops:
        if op.name == "pim.gather":
            dims[(op.attrs["op"], op.attrs["shard"])] = op.operands[0].type.shape[1]
    for s in shards:
        dim = dims[(s["op"], s["shard"])]
        assert s["bytes"] == s["rows"] * dim * 16 // 8  # hbm-pim: 16-bit weights, f32 type
    assert check_schedule(out.schedule) == []
