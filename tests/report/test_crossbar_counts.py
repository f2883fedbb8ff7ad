"""The report's crossbar counts and used area, recounted from the mapped ops' locations: every
crossbar of every copy of every tile (`pim.loc`), the PEs and chip tiles they fall in, and the
chip tiles the digital ops run on."""

from pathlib import Path

import pytest

from compiler.driver import compile
from ir.dialects import pim
from ir.dialects.pim_attrs import LOC, UNIT
from search.evaluate import EvalOptions, loop_pipeline
from targets import load_target
from targets.rollup import components

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


@pytest.mark.parametrize("model, target", [("torchrec_dlrm_legacy", "isaac"),
                                           ("deepctr_dcn_legacy", "hetero"),
                                           ("torchfm_xdfm_legacy", "puma")])
@pytest.mark.parametrize("grown", [False, True], ids=["default", "copies-to-capacity"])
def test_crossbars_and_used_area_are_those_the_ops_hold(model, target, grown):
    """With the default pipeline, and with the search loop's (latency, greedy copies grown
    while crossbars last: crossbars on many chip tiles)."""
    pipeline = None
    if grown:
        opts = EvalOptions(batch=8)
        pipeline = loop_pipeline(target, opts, load_target(target).precision.weights)
    result = compile(ONNX / f"{model}.onnx", target, batch=8, check="none", pipeline=pipeline,
                     objective="latency" if grown else "throughput")
    chip = load_target(target).chip
    per_pe = chip.tile.pe.arrays
    per_tile = chip.tile.pes * per_pe
    crossbars, pes, tiles = set(), set(), set()
    for op in result.module.main.ops:
        unit = UNIT.of(op, None)
        if unit == "crossbar" and isinstance(op, pim.MVM):
            crossbars.update(LOC.of(op))
        elif unit == "digital" and LOC.has(op):
            tiles.add(LOC.of(op)[0])
    pes.update(x // per_pe for x in crossbars)
    tiles.update(x // per_tile for x in crossbars)
    report = result.report
    assert report["crossbars_used"] == len(crossbars) > 0
    assert report["crossbars_per_tile"] == [
        sum(1 for x in crossbars if x // per_tile == t) for t in range(chip.tiles)]
    share = {"pe.": len(pes) / (chip.tiles * chip.tile.pes), "tile.": len(tiles) / chip.tiles}
    used = report["area"]["by_component"]
    checked = 0
    for row in components(load_target(target)):
        for prefix, frac in share.items():
            if row.name.startswith(prefix):
                assert used[row.name] == pytest.approx(row.count * row.part.area * frac)
                checked += 1
    assert checked >= 2
    if grown and target == "isaac":  # copies over many chip tiles: a crossbar's tile shows
        assert sum(1 for n in report["crossbars_per_tile"] if n) > 1
