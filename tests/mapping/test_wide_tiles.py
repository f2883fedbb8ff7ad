"""A row block's crossbars are one `pim.mvm` over several crossbars (`crossbar_cols`): it
computes what one tile per crossbar and their concatenation compute, costs what they cost
side by side, takes its crossbars replica by replica in placement, receives its input once per
chip tile and replica, and the schedule checker and the folder's cross-check name each of its
crossbars."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from builders import tiny_target
from hypothesis import given, settings
from hypothesis import strategies as st

import ir.interp as interp
from compiler.checker import check_schedule
from compiler.schedule_json import schedule_dict
from compiler.verify_folder import cross_check
from ir.core import Graph, Module, Value
from ir.dialects import nn, pim
from ir.dialects.pim_attrs import UNIT
from ir.errors import PimcError
from ir.text import parse
from ir.types import TensorType
from passes._costing.choice import crossbar_form, tiles_of
from passes._costing.op_primitives import primitives
from passes._lowering.geometry import Geometry
from passes._lowering.mvm import Crossbar, tile_matrix
from passes._placement.cpsat_terms import traffic
from passes._placement.heuristics import naive
from passes._placement.layout import read_layout
from passes._placement.mesh import Mesh
from passes._placement.moves import _counts, edge_bytes, least_waits, plan_moves, reach, read_bytes
from passes._placement.placement import _group_locs, layout_of
from passes._placement.problem import Problem
from passes._placement.timeline import _transfer_waits, schedule
from passes.error_bound import error_bound
from passes.pipeline import parse_pipeline
from targets import load_target
from targets.coster import OpCoster


@pytest.mark.parametrize("signed", ["offset", "differential"])
@pytest.mark.parametrize("adc_bits", [3, 8], ids=["lossy", "lossless"])
@pytest.mark.parametrize("shape", [(9, 14), (16, 5), (3, 25)])
def test_a_tile_over_several_crossbars_computes_what_its_crossbars_alone_do(shape, adc_bits,
                                                                            signed):
    rows, cols = shape
    cb = Crossbar(Geometry(4, 3, 2, 1, adc_bits, signed), 6, 6, 0.05)
    rng = np.random.default_rng(rows * cols)
    w = rng.normal(size=shape).astype(np.float32)
    feed = {"x": (rng.normal(size=(5, rows)) * 40).astype(np.float32)}  # clips, too
    outs = []
    for per_crossbar in (False, True):
        x = Value(TensorType((5, rows), "f32"), name="x")
        ops, y = tile_matrix(x, w, "d0", cb, per_crossbar)
        module = Module("m", [Graph("main", [x], ops, [y])])
        outs.append((interp.run(module.main, feed), error_bound(module, feed)))
    (wide, wide_bound), (alone, alone_bound) = outs
    tiles = [op for op in ops if isinstance(op, pim.MVM)]
    assert len(tiles) == math.ceil(rows / 4) * math.ceil(cols / 3)  # the reference's
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(wide, alone))
    # a product over the whole width may sum in another order than per crossbar: the last bits
    np.testing.assert_allclose(wide_bound[0], alone_bound[0], rtol=1e-9, atol=0)


def _slow_adc(tmp_path) -> str:
    """isaac with ADCs ten times slower: a step then takes as long as its columns' conversions,
    so the widest crossbar of a tile sets its time (at isaac's own rate the array's read of
    100 ns does, whatever the columns)."""
    text = (Path(__file__).parents[2] / "targets/presets/isaac.yaml").read_text()
    assert "rate: 1.28 GS/s" in text
    path = tmp_path / "slow-adc.yaml"
    path.write_text(text.replace("rate: 1.28 GS/s", "rate: 0.128 GS/s")
                    .replace("name: isaac", "name: slow-adc"))
    return str(path)


@pytest.mark.parametrize("target", ["isaac", "puma", "hetero", "slow-adc"])
@pytest.mark.parametrize("bits, per", [(8, 31), (16, 15)])
@pytest.mark.parametrize("cols", [31, 93, 100])
def test_a_tile_over_several_crossbars_costs_its_crossbars_side_by_side(target, bits, per,
                                                                         cols, tmp_path):
    """The arrays' energy (ADCs, DACs, cells, shift-and-add): the sum of its crossbars' (one
    primitive each); time: the slowest one's. Its input is written once into the buffers, not
    once per crossbar, and buffer accesses round up over the whole tile, so its buffer
    energy is at most theirs. A cost model that split the columns by the array row's own
    count (isaac: 16 16-bit weights in 128 columns, where the offset column leaves room for
    15) would price other crossbars."""
    coster = OpCoster(load_target(_slow_adc(tmp_path) if target == "slow-adc" else target))
    x = Value(TensorType((8, 85), "f32"), name="x")
    w = Value(TensorType((85, cols), "f32"), name="w")
    attrs = {"op": "d", "tile": [0, 0], "rows": [0, 85], "cols": [0, cols], "w_bits": bits,
             "a_bits": 8, "cell_bits": 2, "dac_bits": 1, "adc_bits": 8, "signed": "offset",
             "x_scale": 0.1, "w_scale": 0.1, "crossbar_cols": per, "pim.unit": "crossbar"}
    wide = primitives(pim.MVM([x, w], attrs), coster.target)
    parts = []
    for c0 in range(0, cols, per):
        c1 = min(cols, c0 + per)
        part = dict(attrs, cols=[c0, c1], crossbar_cols=0)
        wpart = Value(TensorType((85, c1 - c0), "f32"), name="w")
        parts.append(primitives(pim.MVM([x, wpart], part), coster.target))
    assert wide[0].crossbar_cols == per
    got, want = coster.energy(wide), {}
    for p in parts:
        for key, joules in coster.energy(p).items():
            want[key] = want.get(key, 0.0) + joules
    assert got.keys() == want.keys()
    for key in want:
        if key.startswith("buffer."):
            assert got[key] <= want[key] * (1 + 1e-12)
        else:
            assert got[key] == pytest.approx(want[key], rel=1e-12), key
    assert coster.cycles(wide) == max(coster.cycles(p) for p in parts)
    assert coster.cost(wide[0]).counts["tiles"] == len(parts)


_MODEL = """module @m {
  graph @main(%x: tensor<4x170xf32>) -> (y: tensor<4x93xf32>) {
    %h = nn.relu(%x) : tensor<4x170xf32>
    %w = nn.constant {value = @w} : tensor<170x93xf32>
    %0 = nn.matmul(%h, %w) : tensor<4x93xf32>
    return %0
  }
}"""


def _placed(tmp_path, arrays: int = 4, replicas: str = "naive", cols: int = 93) -> Module:
    """A 170 x 93 matmul on a tiny target (2 chip tiles of `arrays` crossbars, 8-bit): two row
    blocks of 85 rows, each over 3 crossbars of 31 weights (`cols`: other than 93, the last
    crossbar holds the rest)."""
    w = np.random.default_rng(0).normal(size=(170, cols)).astype(np.float32)
    module = parse(_MODEL.replace("x93xf32", f"x{cols}xf32"), {"w": w})
    target = tiny_target(tmp_path, tiles=2, arrays=arrays)
    spec = (f"assign-precision{{default=8}},partition{{target={target}}},tile,"
            f"place{{solver={replicas}}},schedule")
    for p in parse_pipeline(spec):
        p.apply(module)
    return module


def test_the_last_crossbar_of_a_tile_lists_the_columns_it_holds(tmp_path):
    """80 weight columns over crossbars of 31: the third crossbar of each tile holds 18, and
    schedule.json's tiles say so for every replica (each weight 4 columns, plus the offset)."""
    module = _placed(tmp_path, arrays=8, replicas="greedy", cols=80)
    target = load_target(module.attrs["pim.target"])
    s = schedule_dict(module, target, "throughput")
    assert check_schedule(s) == []
    got = sorted((tuple(t["tile"]), t["replica"], t["columns"]) for t in s["tiles"])
    assert got == [((i, j), r, (31 if j < 2 else 18) * 4 + 1)
                   for i in range(2) for j in range(3) for r in range(2)]


def test_a_row_block_alone_on_a_chip_tile_waits_only_for_its_rows(tmp_path):
    """Three crossbars a chip tile: each row block of the matmul on a chip tile of its own.
    The second reads 85 of x's 170 rows from the relu on the first chip tile, so its least
    wait (`moves.least_waits`, before any move is planned) is that of 340 bytes, not of the
    whole 680, and equals the wait of the move the schedule plans (one send each)."""
    module = _placed(tmp_path, arrays=3)
    prob = Problem.of(module)
    layout = read_layout(prob)
    second = next(i for i in prob.ops if i.unit == "crossbar" and i.op.attrs["tile"][0] == 1)
    relu = next(i for i in prob.ops if i.op.name == "nn.relu")
    assert reach(prob, layout, second) == (1,) and reach(prob, layout, relu) == (0,)
    tl = schedule(prob, layout, False)
    assert [m.sends for m in tl.moves if second.index in m.consumers] == [{(0, 1): 340}]
    least = least_waits(prob, layout)
    assert least == _transfer_waits(prob, tl.moves) and least[(relu.index, second.index)] > 0


def test_partition_counts_every_crossbar_of_a_tile(tmp_path):
    """The crossbar form partition weighs holds a tile's crossbars at each copy: the 170 x 93
    matmul's 6 on isaac, its 2 tiles over 3 crossbars each."""
    module = parse(_MODEL, {"w": np.ones((170, 93), np.float32)})
    for p in parse_pipeline("assign-precision{default=8}"):
        p.apply(module)
    op = module.main.find(nn.MatMul)[0]
    UNIT.set(op, "crossbar")
    target = load_target("isaac")
    assert tiles_of(op, target) == 6
    for copies in (1, 3):
        form = crossbar_form(op, "matmul0", target, OpCoster(target), copies)
        assert form.crossbars == 6 * copies


def test_a_row_block_takes_its_crossbars_replica_by_replica(tmp_path):
    module = _placed(tmp_path, arrays=8, replicas="greedy")
    tiles = module.main.find(pim.MVM)
    assert [op.crossbars for op in tiles] == [3, 3]
    r = tiles[0].attrs["pim.replicas"]
    assert r == 2  # 16 crossbars hold two copies of the 6
    locs = [op.attrs["pim.loc"] for op in tiles]
    assert all(len(loc) == 3 * r for loc in locs)
    assert len({x for loc in locs for x in loc}) == 12  # every crossbar its own
    for loc in locs:  # a replica's crossbars side by side on the snake
        for j in range(r):
            run = loc[3 * j:3 * j + 3]
            assert list(run) == list(range(run[0], run[0] + 3))
    prob = Problem.of(module)
    assert prob.groups["matmul0"].weight_tiles == 6


def test_the_model_needs_every_crossbar_of_its_tiles(tmp_path):
    # 6 crossbars of weights on a chip of 4: refused by tile, as before the tiles were wide
    with pytest.raises(PimcError, match="weights need 6 crossbars"):
        _placed(tmp_path, arrays=2)


def test_a_chip_tile_holding_part_of_a_row_block_receives_its_whole_input(tmp_path):
    """Naive: row block 0 on crossbars 0-2 (chip tile 0), row block 1 on 3-5: crossbar 3 on
    chip tile 0, 4 and 5 on chip tile 1. The relu sits on chip tile 0; chip tile 1 needs all
    85 input rows of row block 1, not the two thirds of them its crossbars are of the tile."""
    module = _placed(tmp_path)
    prob = Problem.of(module)
    layout = layout_of(prob, naive(prob))
    second = prob.by_op[id(module.main.find(pim.MVM)[1])]
    assert [prob.mesh.chip_tile_of(x) for x in layout.locs(second)] == [0, 1, 1]
    x = second.op.operands[0]
    sent = [m for m in plan_moves(prob, layout) if m.value is x]
    assert sum(n for (_, dst), n in sent[0].sends.items() if dst == 1) == \
        read_bytes(prob, second, x) == 4 * 85


def test_the_checker_and_the_cross_check_name_each_crossbar_of_a_tile(tmp_path):
    module = _placed(tmp_path, arrays=8, replicas="greedy")  # two copies
    target = load_target(module.attrs["pim.target"])
    s = schedule_dict(module, target, "throughput")
    assert check_schedule(s) == []
    cross_check(s, module, "schedule.json")
    entry = next(op for op in s["ops"] if op["kind"] == "pim.mvm")
    assert entry["crossbars"] == 3
    assert sorted(tuple(t["tile"]) for t in s["tiles"] if t["op"] == entry["name"]) == \
        [(i, j) for i in range(2) for j in range(3) for _ in range(2)]
    assert {t["columns"] for t in s["tiles"]} == {31 * 4 + 1}
    # a tile's crossbars, every replica's, are held together and by nothing else: one
    # resource, its first crossbar
    for op in (op for op in s["ops"] if op["kind"] == "pim.mvm"):
        held = {unit for unit, uses in s["units"].items() for u in uses if u["op"] == op["id"]}
        assert len(op["loc"]) == 6 and held == {f"crossbar:{op['loc'][0]}"}
    no_count = {**s, "ops": [dict(op, crossbars=1) if op is entry else op for op in s["ops"]]}
    assert any("is placed but no op computes it" in e for e in check_schedule(no_count))
    dropped = {**s, "tiles": [t for t in s["tiles"] if t["tile"] != [0, 2]]}
    assert any("tile matmul0[0, 2] replica 0 is not placed" in e
               for e in check_schedule(dropped))
    with pytest.raises(PimcError, match="crossbars"):
        cross_check(no_count, module, "schedule.json")


def test_a_negative_crossbar_width_is_refused():
    x = Value(TensorType((2, 4), "f32"), name="x")
    w = Value(TensorType((4, 6), "f32"), name="w")
    with pytest.raises(PimcError, match="crossbar_cols = -3 is negative"):
        pim.MVM([x, w], {"op": "d", "tile": [0, 0], "rows": [0, 4], "cols": [0, 6],
                         "w_bits": 8, "a_bits": 8, "cell_bits": 2, "dac_bits": 1,
                         "adc_bits": 8, "x_scale": 0.1, "w_scale": 0.1,
                         "crossbar_cols": -3}).check()


@settings(max_examples=200, deadline=None)
@given(k=st.integers(1, 40), runs=st.integers(1, 60), per=st.sampled_from([1, 4, 96]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_chip_tile_counts_are_the_run_by_run_count(k, runs, per, seed):
    """`_counts` (numpy past 63 crossbars, a Counter for runs of one up to 1023) against
    counting run by run: a chip tile counts once per run of k crossbars with one there, in
    the order chip tiles first appear."""
    _check_counts_run_by_run(k, runs, per, seed)


@settings(max_examples=100, deadline=None)
@given(runs=st.integers(1, 1500), per=st.sampled_from([1, 4, 96]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_chip_tile_counts_of_single_crossbars_on_either_side_of_a_thousand(runs, per, seed):
    _check_counts_run_by_run(1, runs, per, seed)


def _check_counts_run_by_run(k, runs, per, seed):
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, 2000, size=runs)  # runs of consecutive crossbars, as placed
    locs = tuple(int(s) + x for s in starts for x in range(k))
    want: dict[int, int] = {}
    for j in range(runs):
        for t in dict.fromkeys(x // per for x in locs[j * k:(j + 1) * k]):
            want[t] = want.get(t, 0) + 1
    got = _counts(locs, k, per)
    assert list(got.items()) == list(want.items())


@pytest.mark.parametrize("target", ["isaac", "hetero", "puma"])
def test_positions_map_to_crossbars_as_one_by_one(target):
    mesh = Mesh.of(load_target(target))
    positions = np.random.default_rng(1).integers(0, 3 * mesh.crossbars, size=500)
    assert mesh.crossbars_at(positions).tolist() == [mesh.crossbar_at(int(p)) for p in positions]


@pytest.mark.parametrize("copies, start", [(1, 0), (2, 5), (20, 7), (40, 16000)])
def test_a_groups_crossbars_in_numpy_are_the_one_by_one_layout(tmp_path, copies, start):
    """Past 63 crossbars a group's layout is worked out in numpy: the same crossbars, in the
    same order, as position by position (replica j, crossbar x of tile i at start + j*t +
    offset(i) + x)."""
    module = _placed(tmp_path)
    prob = Problem.of(module)
    g = prob.groups["matmul0"]
    got = _group_locs(prob, "matmul0", copies, start)
    want = [tuple(prob.mesh.crossbar_at(start + j * 6 + 3 * k + x) for j in range(copies)
                  for x in range(3)) for k in range(2)]
    assert g.weight_tiles == 6 and got == want


@pytest.mark.parametrize("copies, start", [(1, 0), (3, 11), (30, 16100)])
def test_a_groups_crossbars_with_tiles_of_different_widths_are_the_one_by_one_layout(
        tmp_path, copies, start):
    """Tiles of 2 and 5 crossbars: each tile's crossbars are its own, past the tiles before
    it in every copy (and wrap past the last crossbar)."""
    prob = Problem.of(_placed(tmp_path))
    g = prob.groups["matmul0"]
    first, second = g.ops
    g.crossbars = {first: 2, second: 5}
    got = _group_locs(prob, "matmul0", copies, start)
    at = prob.mesh.crossbar_at
    want = [tuple(at(start + j * 7 + x) for j in range(copies) for x in range(2)),
            tuple(at(start + j * 7 + 2 + x) for j in range(copies) for x in range(5))]
    assert got == want


def test_a_crossbar_count_that_is_not_an_int_is_a_shape_problem(tmp_path):
    from compiler._schedule_shape import shape_problem

    module = _placed(tmp_path)
    s = schedule_dict(module, load_target(module.attrs["pim.target"]), "throughput")
    assert shape_problem(s) is None
    entry = next(op for op in s["ops"] if op["kind"] == "pim.mvm")
    entry["crossbars"] = "3"
    assert "crossbars" in shape_problem(s)


def test_cpsat_link_term_sends_each_chip_tile_of_a_replica_its_whole_input(tmp_path):
    """CP-SAT's traffic at one copy: row block 0 on chip tile 0, row block 1 over chip tiles
    0 and 1: three chip tile inputs of 85 rows each, as the move planner sends them."""
    module = _placed(tmp_path)
    prob = Problem.of(module)
    g = prob.groups["matmul0"]
    second = prob.by_index[g.ops[1]]
    read = read_bytes(prob, second, second.op.operands[0])
    into, _ = traffic(prob, g, 1, {})
    assert read == 4 * 85 and into == 3 * read
    # out: row block 1's columns from chip tile 1 (two of its three crossbars) to the sum on
    # chip tile 0, where row block 0 sits
    readers: dict[int, list] = {}
    for (p, c), nbytes in edge_bytes(prob).items():
        readers.setdefault(p, []).append((c, nbytes))
    (_, nbytes), = readers[g.ops[1]]
    assert nbytes == 4 * 93 and traffic(prob, g, 1, readers)[1] == math.ceil(nbytes * 2 / 3)
