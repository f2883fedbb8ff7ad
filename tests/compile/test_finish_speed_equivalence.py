"""The finish stages (schedule.json, the report, the simulator's task graph and ordered run)
against plain re-derivations of what they compute: the sums, orders and shared work their
faster forms must keep exactly."""

import dataclasses
import random
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from compiler import _sim_model, _sim_plan
from compiler._report_facts import binding, energy_sum
from compiler._sim_tasks import Task
from compiler.mapped_report import report_of
from compiler.simulator import RULES

ONNX = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx"
FIXTURES = [("torchrec_dlrm_legacy", "isaac"), ("torchfm_fm_legacy", "hetero")]


@cache
def _scheduled(model: str, target: str):
    """(schedule dict, mapped module) of a fixture."""
    from compiler.driver import compile
    from compiler.schedule_json import schedule_dict
    from targets import load_target

    c = compile(ONNX / f"{model}.onnx", target, batch=8, emit="scheduled")
    return schedule_dict(c.module, load_target(target), "throughput"), c.module


def _one_at_a_time(parts: list[dict], seq: list[int]) -> dict:
    total: dict = {}
    for k in seq:
        for key, j in parts[k].items():
            total[key] = total.get(key, 0.0) + j
    return total


def _same_sums(parts: list[dict], seq: list[int]) -> None:
    want, got = _one_at_a_time(parts, seq), energy_sum(parts, seq)
    assert list(got) == list(want)
    assert [(type(v), repr(v)) for v in got.values()] == \
        [(type(v), repr(v)) for v in want.values()]


@pytest.mark.parametrize("seed", range(40))
def test_energy_sums_are_the_sums_one_op_at_a_time_to_the_last_bit(seed):
    """Magnitudes far apart (a sum in another order rounds differently) and -0.0; for some
    seeds a numpy float among the values (the sum then keeps its type)."""
    rng = random.Random(seed)
    values = [1e16, 1.0, -1e16, 3e-9, -0.0, 0.1, 7.5e-13]
    parts = [{key: rng.choice(values) for key in rng.sample("abcdef", rng.randint(1, 4))}
             for _ in range(5)]
    if seed % 4 == 0:
        parts[0]["a"] = np.float32(0.1)
    seq = [rng.randrange(len(parts)) for _ in range(rng.randint(1, 300))]
    first = list(dict.fromkeys(seq))  # `parts` in the order of their first use
    _same_sums([parts[k] for k in first], [first.index(k) for k in seq])


def test_an_energy_of_minus_zero_sums_to_zero():
    _same_sums([{"a": -0.0, "b": 1.0}], [0, 0])  # 0.0 + -0.0 is 0.0


def _units(ops: list[dict], transfers: list[dict]) -> dict:
    """Resource -> uses, from the ops (after the off-chip read) and each transfer once."""
    kinds = {"crossbar": "crossbar", "digital": "tile", "bank": "bank"}
    units: dict = {}
    for op in ops:
        begin = op.get("io_end", op["start"])
        if begin > op["start"]:
            units.setdefault("io:0", []).append(
                {"op": op["id"], "start": op["start"], "end": begin})
        locs = op["loc"][:1] if op["unit"] == "crossbar" else op["loc"]  # a tile: its first
        for loc in locs:
            units.setdefault(f"{kinds[op['unit']]}:{loc}", []).append(
                {"op": op["id"], "start": begin, "end": op["end"]})
    seen = set()
    for t in transfers:
        if t["id"] not in seen:
            seen.add(t["id"])
            for link in t["links"]:
                units.setdefault(link["link"], []).append(
                    {"op": t["id"], "start": t["start"], "end": t["start"] + link["cycles"]})
    return {name: units[name] for name in sorted(units)}


@pytest.mark.parametrize("model, target", [*FIXTURES, ("deepctr_dcn_legacy", "hbm-pim")])
def test_the_units_are_what_the_ops_and_transfers_hold(model, target):
    """A crossbar op holds one resource, its first crossbar; any other op every location it
    has: on hbm-pim, a near-bank GEMV in all-bank mode holds every bank."""
    s, _ = _scheduled(model, target)
    want = _units(s["ops"], s["transfers"])
    assert list(s["units"]) == list(want) and s["units"] == want
    if target == "isaac":  # tables read off-chip: some ops hold the I/O first
        assert any(op.get("io_end", op["start"]) > op["start"] for op in s["ops"])
    if target == "hbm-pim":
        banks = max(len(op["loc"]) for op in s["ops"] if op["unit"] == "bank")
        assert banks > 1 and sum(u.startswith("bank:") for u in s["units"]) >= banks


@pytest.mark.parametrize("model, target", FIXTURES)
def test_the_binding_resource_is_the_busiest_unit_and_its_first_longest_holder(model, target):
    s, m = _scheduled(model, target)
    busy = {r: sum(u["end"] - u["start"] for u in uses) for r, uses in s["units"].items()}
    most = max(busy.values())
    name = min(r for r in busy if busy[r] == most)
    longest = max(u["end"] - u["start"] for u in s["units"][name])
    first = min(u["op"] for u in s["units"][name] if u["end"] - u["start"] == longest)
    got = binding(m)
    assert (got["resource"], got["busy_cycles"]) == (name, most)
    assert got["op"].split(":")[0] == str(first)


def test_of_two_ops_holding_the_binding_resource_as_long_the_first_is_named():
    from ir.core import Graph, Module
    from ir.dialects import nn
    from ir.dialects.pim_attrs import END, LOC, START, UNIT

    ops = []
    for loc, end in ((10, 4), (10, 4), (9, 5)):
        op = nn.Constant(attrs={"value": np.zeros(1, np.float32)})
        for fact, value in ((UNIT, "crossbar"), (LOC, (loc,)), (START, 0), (END, end)):
            fact.set(op, value)
        ops.append(op)
    got = binding(Module(graphs=[Graph("main", ops=ops)]))
    assert got == {"resource": "crossbar:10", "busy_cycles": 8, "op": "0:nn.constant"}


def test_a_binding_tile_is_named_by_the_resource_schedule_json_holds():
    """A tile's crossbars, every replica's, are one resource, its first crossbar
    (schedule.json's units): a binding tile over crossbars 98, 99 and 100, and a second copy
    over 5, 6 and 7, is crossbar:98, not the least of their names (crossbar:100), nor its
    second copy's (crossbar:5)."""
    from ir.core import Graph, Module, Value
    from ir.dialects import pim
    from ir.dialects.pim_attrs import END, LOC, REPLICAS, START, UNIT
    from ir.types import TensorType

    x = Value(TensorType((2, 4), "f32"), name="x")
    w = Value(TensorType((4, 6), "f32"), name="w")
    op = pim.MVM([x, w], {"op": "d", "tile": [0, 0], "rows": [0, 4], "cols": [0, 6],
                          "w_bits": 8, "a_bits": 8, "cell_bits": 2, "dac_bits": 1,
                          "adc_bits": 8, "x_scale": 0.1, "w_scale": 0.1, "crossbar_cols": 2})
    for fact, value in ((UNIT, "crossbar"), (LOC, (98, 99, 100, 5, 6, 7)), (REPLICAS, 2),
                        (START, 0), (END, 7)):
        fact.set(op, value)
    got = binding(Module(graphs=[Graph("main", [x, w], [op])]))
    assert got == {"resource": "crossbar:98", "busy_cycles": 7, "op": "0:d"}


@pytest.mark.parametrize("model, target", FIXTURES)
def test_a_transfer_is_priced_by_its_size_and_hops_alone(model, target):
    """The report prices transfers of one size and hop count once, as the simulator does: the
    primitive of each is made of its bytes and hops, and each op's energy is its own."""
    from ir.dialects import pim
    from passes._costing.op_primitives import primitives
    from targets import load_target
    from targets.coster import shared_coster
    from targets.primitives import Transfer

    _, m = _scheduled(model, target)
    tgt = load_target(target)
    by_op = report_of(m).energy_by_op
    moved = [(i, op) for i, op in enumerate(m.main.ops) if isinstance(op, pim.Transfer)]
    assert len({(op.attrs["bytes"], op.attrs["hops"]) for _, op in moved}) > 1
    for i, op in moved:
        prims = primitives(op, tgt)
        assert prims == (Transfer(max(1, op.attrs["bytes"]), op.attrs["hops"]),)
        assert by_op[f"{i}:{op.name}"] == shared_coster(tgt).energy(prims)


def test_the_report_dict_is_asdict_and_its_own():
    _, m = _scheduled(*FIXTURES[0])
    report = report_of(m)
    data = report.to_dict()
    assert data == {**dataclasses.asdict(report), "units": data["units"]}
    key = next(iter(data["energy_by_op"]))
    data["energy_by_op"][key]["adc"] = -1.0
    assert report.energy_by_op[key].get("adc") != -1.0


def _model_facts(model) -> tuple:
    return ([(n.id, n.part, n.order, n.cycles, list(n.use.items()), n.preds, n.holds_for)
             for n in model.nodes], [dataclasses.astuple(t) for t in model.tasks],
            model.resources, list(model.energy.items()))


@pytest.mark.parametrize("model, target", FIXTURES)
def test_transfers_on_one_route_are_worked_out_once_with_the_same_outcome(model, target,
                                                                         monkeypatch):
    s, m = _scheduled(model, target)
    shared = _sim_model.build(s, m, RULES)
    monkeypatch.setattr(_sim_model, "_BYTES", lambda link: [])  # no route to look up
    alone = _sim_model.build(s, m, RULES)
    assert _model_facts(alone) == _model_facts(shared)


def test_a_transfer_on_a_shared_route_with_a_resource_of_its_own_holds_it_alone():
    """Two transfers of one size on one route, the first also listed on a unit of its own:
    only its node holds that unit (the near miss: a memo by route alone hands it to both)."""
    s, m = _scheduled(*FIXTURES[0])
    last = {t["id"]: t for t in s["transfers"]}
    seen: dict = {}
    for i, t in last.items():
        route = (t["bytes"], t["hops"], tuple((x["link"], x["bytes"]) for x in t["links"]))
        if route in seen:
            a, b = seen[route], i
            break
        seen[route] = i
    units = dict(s["units"], **{"link:spare": [{"op": a, "start": 0, "end": 1}]})
    nodes = {n.id: n for n in _sim_model.build(dict(s, units=units), m, RULES).nodes}
    assert "link:spare" in nodes[a].use and "link:spare" not in nodes[b].use
    assert {**nodes[b].use, "link:spare": nodes[a].use["link:spare"]} == nodes[a].use


def _graph(rng: random.Random, n: int) -> list[Task]:
    tasks = []
    for i in range(n):
        preds = tuple(rng.sample(range(i), min(i, rng.randint(0, 2))))
        at = max((tasks[p].at + tasks[p].cycles for p in preds), default=0) + rng.randint(-3, 9)
        use = {r: rng.randint(0, 5) for r in rng.sample(range(4), rng.randint(0, 2))}
        tasks.append(Task(rng.randint(0, 30), rng.randint(0, 8), use, preds, at=at))
    return tasks


def _depths_one_task_at_a_time(plan, src, dst) -> list[int] | None:
    n = plan.n
    into: list[list[int]] = [[] for _ in range(n)]
    q = plan.q
    pairs = {(s % n, d % n) for s, d in zip(src.tolist(), dst.tolist())
             if s // n + q[s % n] == d // n + q[d % n]}
    for j, i in sorted(pairs):
        if plan.place[j] >= plan.place[i]:
            return None
        into[i].append(j)
    depth = [0] * n
    for i in plan.within:
        depth[i] = max((depth[j] + 1 for j in into[i]), default=0)
    return depth


@pytest.mark.parametrize("seed", range(60))
def test_a_plan_is_consistent_when_every_producer_is_planned_first(seed):
    """Plans of few distinct starts and ranks (ties down to the task), producers anywhere."""
    rng = random.Random(seed)
    n = rng.randint(1, 6)
    tasks = [Task(rng.randint(0, 1), 1, {}, tuple(rng.sample(range(n), rng.randint(0, min(n, 2)))),
                  at=rng.randint(0, 1)) for _ in range(n)]
    want = all((tasks[p].at, tasks[p].rank, p) < (t.at, t.rank, i)
               for i, t in enumerate(tasks) for p in t.preds)
    assert _sim_plan.consistent(tasks) == want


@pytest.mark.parametrize("seed", range(60))
def test_depths_are_their_plain_form(seed):
    rng = random.Random(seed)
    tasks = _graph(rng, rng.randint(1, 14))
    interval = rng.choice([None, 1, 4, 9])
    plan = _sim_plan.Plan(tasks, rng.randint(1, 4), interval, 1)
    src, dst, _ = _sim_plan.edges(plan)
    assert _sim_plan.depths(plan, src, dst) == _depths_one_task_at_a_time(plan, src, dst)


@pytest.mark.parametrize("tasks, want", [
    ([Task(0, 2, {0: 2}, at=0), Task(1, 3, {1: 3}, preds=(0,), at=2)],
     [[0, 2], [5, 7], [10, 12]]),
    ([Task(0, 2, {}, at=0)], [[0], [2], [4]]),  # no constraint at all: released only
])
def test_one_batch_after_another_constraint_by_constraint(tasks, want, monkeypatch):
    """Not pipelined, run in full one constraint at a time (the near miss: a batch not
    released after the one before, its first tasks start at 0)."""
    from compiler import _sim_levels

    monkeypatch.setattr(_sim_levels, "_PER_LEVEL", 10 ** 9)
    assert _sim_levels._run_plan(_sim_plan.Plan(tasks, 3, None, 3), None, 3).start == want
