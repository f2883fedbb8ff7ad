"""Scheduling facts that mutation testing found unchecked (docs/mutation.md): where an op's
off-chip read ends, that an explicit pipeline option wins over the objective's default, and
that the schedule pass reports its change."""

from pathlib import Path

from compiler.driver import compile
from ir.dialects.pim_attrs import END, IO_END, START
from passes._placement.problem import Problem

FM = Path(__file__).resolve().parents[1] / "fixtures/onnx/torchfm_fm_legacy.onnx"


def test_an_offchip_read_holds_the_io_for_its_cycles_from_the_op_start():
    """On isaac the FM's tables live in off-chip DRAM: each lookup holds the chip's I/O for
    its read (at most all but the op's last cycle), from the op's start."""
    module = compile(FM, "isaac", batch=64, emit="scheduled").module
    reads = [i for i in Problem.of(module).ops if i.io_cycles > 0]
    assert len(reads) > 1 and all(START.of(i.op) > 0 for i in reads[1:])
    for info in reads:
        start, end = START.of(info.op), END.of(info.op)
        assert IO_END.of(info.op) == start + min(info.io_cycles, end - start - 1)


def test_an_explicit_pipeline_option_overrides_the_objectives_default():
    from builders import mlp

    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    for objective, pipeline, want in (("throughput", "false", False),
                                      ("latency", "true", True),
                                      ("throughput", "auto", True), ("latency", "auto", False)):
        module = mlp("isaac", [40, 64], batch=2)
        spec = f"place{{objective={objective}}},schedule{{pipeline={pipeline}}}"
        PassManager(parse_pipeline(spec)).run(module)
        assert module.attrs["pim.pipelined"] is want, (objective, pipeline)


def test_the_schedule_pass_says_it_changed_the_module():
    """What the IR printout after each pass marks "(no change)" from."""
    from builders import mlp

    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    module = mlp("isaac", [40, 64], batch=2)
    assert PassManager(parse_pipeline("place,schedule")).run(module) == [True, True]


def _problem(tmp_path, widths, arrays=8):
    from builders import mlp, tiny_target

    from passes._placement.problem import Problem

    return Problem.of(mlp(tiny_target(tmp_path, tiles=2, arrays=arrays), widths, batch=4))


def test_greedy_growth_shares_the_spare_crossbars_among_the_layers(tmp_path):
    from passes._placement.heuristics import grow

    prob = _problem(tmp_path, [20, 40, 30])  # two one-tile layers, 16 crossbars
    replicas = grow(prob)
    used = sum(prob.groups[n].weight_tiles * r for n, r in replicas.items())
    assert all(len(g.choices) > 2 for g in prob.groups.values())  # each alone could take more
    assert used <= prob.mesh.crossbars, replicas


def test_greedy_growth_stops_at_the_floor(tmp_path):
    from passes._placement.heuristics import grow

    prob = _problem(tmp_path, [20, 40, 30])
    floor = max(g.duration(0) for g in prob.groups.values())
    assert grow(prob, floor) == {n: g.choices[0] for n, g in prob.groups.items()}


def test_a_heuristic_placement_reports_the_whole_gap():
    from builders import mlp

    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    module = mlp("isaac", [64, 512, 256, 128, 1], batch=64)
    PassManager(parse_pipeline("place{solver=greedy,objective=latency}")).run(module)
    assert module.attrs["pim.place.status"] == "heuristic"
    assert module.attrs["pim.place.gap"] == 1.0
