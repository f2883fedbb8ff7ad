"""What the CP-SAT model counts so that its objective agrees with the schedule's score, and
when it shares a crossbar op's start among its tiles (passes/_placement/cpsat.py)."""

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest
from builders import mlp

from compiler.driver import compile
from passes._placement import cpsat, cpsat_terms, solve
from passes._placement.heuristics import sequential
from passes._placement.moves import edge_bytes, plan_moves
from passes._placement.placement import Placement, evaluate, layout_of
from passes._placement.problem import Group, OpInfo, Problem

AFM = Path(__file__).resolve().parents[1] / "fixtures/onnx/torchfm_afm_legacy.onnx"
WIDE = ([512] * 5, 8)  # four 512-wide layers of 8-bit weights: 64 tiles each on isaac


def _problem(target: str = "isaac", widths: list[int] = WIDE[0], bits: int = WIDE[1],
             batch: int = 8) -> Problem:
    return Problem.of(mlp(target, widths, batch=batch, bits=bits))


def _apart(prob: Problem, name: str, r: int) -> Placement:
    """`name` at r copies from the first crossbar of a chip tile past every other op."""
    replicas = {n: (r if n == name else 1) for n in prob.groups}
    start = sequential(prob, {n: 1 for n in prob.groups})
    per_tile = prob.mesh.crossbars_per_chip_tile
    start[name] = -(-sum(g.weight_tiles for g in prob.groups.values()) // per_tile) * per_tile
    return Placement(replicas, start, {})


def _readers(prob: Problem) -> dict[int, list[tuple[int, int]]]:
    readers: dict = {}
    for (p, c), n in edge_bytes(prob).items():
        readers.setdefault(p, []).append((c, n))
    return readers


def _afm() -> Problem:
    return Problem.of(compile(AFM, "isaac", batch=8, emit="tiled").module)


# (problem, crossbar op, copies); AFM's 98 copies split a tile's input into uneven shares
CASES = [(_problem, "fc1", 1), (_problem, "fc1", 2), (_problem, "fc1", 3), (_problem, "fc1", 8),
         (_afm, "dense0", 98)]


@pytest.mark.parametrize("make,name,r", CASES)
def test_the_bytes_into_and_out_of_a_crossbar_op_are_those_the_move_planner_sends(make, name, r):
    prob = make()
    layout = layout_of(prob, _apart(prob, name, r))
    tiles = set(prob.groups[name].ops)
    moves = plan_moves(prob, layout)
    into = sum(sum(m.sends.values()) for m in moves if tiles & set(m.consumers))
    out = sum(sum(m.sends.values()) for m in moves
              if prob.by_op[id(m.value.owner)].index in tiles)
    assert cpsat_terms.traffic(prob, prob.groups[name], r, _readers(prob)) == (into, out)
    assert into > 0 and (out > 0) == (r > 1)  # one copy sits on its consumers' chip tile


def test_copies_cost_the_link_time_the_model_charges_the_interval():
    prob = _problem()
    links = cpsat_terms.link_cycles(prob, edge_bytes(prob))
    cycles = links["fc1"]
    assert list(cycles) == sorted(cycles) and cycles[-1] > 2 * cycles[0]
    net, clock = prob.target.chip.network, prob.target.clock
    g = prob.groups["fc1"]
    most = max(cpsat_terms.traffic(prob, g, g.choices[-1], _readers(prob)))
    assert cycles[-1] == net.serial_cycles(most, clock)


def test_without_a_mesh_no_link_is_charged():
    no_chip = _ops(("g", (), 5))
    assert cpsat_terms.link_cycles(no_chip, {}) == {}


@pytest.mark.parametrize("target", ["isaac", "hetero"])
def test_cpsat_places_a_wide_chain_better_than_greedy_on_the_schedule(target):
    """Without the links in its interval the model chose copies whose transfers the schedule
    queued on one link: 18421 against greedy's 10460 on isaac, 20521 against 7740 on hetero."""
    opts = solve.Options("cp-sat", "throughput", time_limit=0.5)
    greedy = solve.run(_problem(target), dataclasses.replace(opts, solver="greedy"))
    out = solve.run(_problem(target), opts)
    assert out.attrs["solver"] == "cp-sat" and "fallback" not in out.attrs
    assert out.score.value < greedy.score.value


def test_cpsat_counts_leakage_over_the_interval_for_energy():
    """Its energy was the network's alone, and on isaac leakage is most of it: CP-SAT's
    placement then scored 1.08e-7 J against greedy's 6.68e-8 J."""
    prob = _problem("isaac", [64, 300, 60], 16)
    opts = solve.Options("cp-sat", "energy", time_limit=0.5)
    greedy = solve.run(prob, dataclasses.replace(opts, solver="greedy"))
    out = solve.run(_problem("isaac", [64, 300, 60], 16), opts)
    assert out.attrs["solver"] == "cp-sat" and "fallback" not in out.attrs
    assert out.score.value <= greedy.score.value


def _model(prob: Problem) -> cpsat.Model:
    ref = evaluate(prob, solve.naive(prob), "throughput", (1.0, 1.0, 0.0))[0]
    return cpsat.build(prob, "throughput", (1.0, 1.0, 0.0), ref, edge_bytes(prob))


def test_past_the_per_tile_limit_tiles_share_their_ops_start(monkeypatch):
    prob = _problem()
    per_tile = cpsat.least_size(prob, shared=False)
    monkeypatch.setattr(cpsat, "PER_TILE_VARIABLES", per_tile - 1)
    shared = _model(prob)
    assert shared.shared and cpsat.least_size(prob) == cpsat.least_size(prob, shared=True)
    assert cpsat.least_size(prob, shared=True) <= cpsat.size(shared)
    tiles = sum(g.weight_tiles for g in prob.groups.values())
    monkeypatch.setattr(cpsat, "PER_TILE_VARIABLES", per_tile)
    own = _model(prob)
    assert not own.shared and cpsat.least_size(prob) == per_tile <= cpsat.size(own)
    assert cpsat.size(own) - cpsat.size(shared) == 2 * (tiles - len(prob.groups))
    # the same variables besides the starts and ends: both bounds are equally close
    assert cpsat.size(own) - per_tile == cpsat.size(shared) - cpsat.least_size(prob, True)


def test_a_shared_model_gives_cpsat_its_own_parameters(monkeypatch):
    seen = []
    real = cpsat._decode

    def spy(model, solver):
        seen.append((model.shared, solver.parameters.cut_level,
                     solver.parameters.absolute_gap_limit))
        return real(model, solver)

    monkeypatch.setattr(cpsat, "_decode", spy)
    prob = _problem("isaac", [256] * 3, 8)
    for limit in (0, 10**6):
        monkeypatch.setattr(cpsat, "PER_TILE_VARIABLES", limit)
        assert cpsat.solve(_model(prob), 0.2, 0, 1).placement is not None
    assert seen == [(True, 0, 1.0), (False, 1, 1.0)]


def _ops(*specs: tuple[str, tuple[int, ...], int]) -> SimpleNamespace:
    """A problem of ops (group or "", producers, cycles), one choice per crossbar op."""
    ops = [OpInfo(i, None, "crossbar" if g else "digital", preds, cycles, g)
           for i, (g, preds, cycles) in enumerate(specs)]
    groups: dict[str, Group] = {}
    for info in ops:
        if info.group:
            group = groups.setdefault(info.group, Group(info.group))
            group.ops.append(info.index)
            group.cycles[info.index] = (info.cycles,)
    mesh = SimpleNamespace(chip_tiles=0, crossbars=64, crossbars_per_chip_tile=8,
                           concentration=1)
    return SimpleNamespace(ops=ops, groups=groups, mesh=mesh,
                           target=SimpleNamespace(chip=None))


def test_an_op_whose_tiles_wait_for_each_other_keeps_a_start_per_tile():
    recurrent = _ops(("g", (), 5), ("", (0,), 1), ("g", (1,), 5))
    node, order = cpsat_terms.nodes(recurrent, shared=True)
    assert node == {0: 0, 1: 1, 2: 2} and order == [0, 1, 2]
    parallel = _ops(("g", (), 5), ("", (), 1), ("g", (1,), 5))
    node, order = cpsat_terms.nodes(parallel, shared=True)
    assert node == {0: "g", 1: 1, 2: "g"} and order.index(1) < order.index("g")


# Tile 2 waits for a slow producer (op 1), tile 3 is slow and feeds op 4: sharing a start,
# op 4 ends at 100 + 10 + 1, past the longest path of the ops each on their own (100 + 1 + 1).
SLOW_TILE_LATE = (("", (), 1), ("", (), 100), ("g", (1,), 1), ("g", (0,), 10), ("", (3,), 1))


def test_the_horizon_covers_the_shared_start():
    prob = _ops(*SLOW_TILE_LATE)
    model = cpsat.Model(prob)
    model.key = cpsat._keys(prob)
    pairs = cpsat._pair_bytes(model, {})
    assert cpsat._horizon(model, pairs, *cpsat_terms.nodes(prob, shared=True)) == 112
    assert cpsat._horizon(model, pairs, *cpsat_terms.nodes(prob, shared=False)) == 102


@pytest.mark.parametrize("shared,makespan", [(True, 111), (False, 101)])
def test_shared_tiles_start_after_every_producer_and_last_as_the_slowest(shared, makespan):
    prob = _ops(*SLOW_TILE_LATE)
    model = cpsat.Model(prob)
    model.shared, model.key = shared, cpsat._keys(prob)
    cpsat._groups(model)
    end = cpsat._timing(model, {})
    model.m.Minimize(end)
    solver = model.cp.CpSolver()
    assert solver.Solve(model.m) == model.cp.OPTIMAL and solver.Value(end) == makespan
