"""The event-driven simulator: its engine's rules on hand-made task graphs, and on compiled
fixtures its agreement with the scheduler, its independence from the schedule's times, and its
response to a different mapping."""

import copy
import gc
import random
from functools import cache
from pathlib import Path

import pytest

from compiler._sim_engine import Task, run
from compiler.simulator import compare, simulate
from ir.errors import PimcError

ROOT = Path(__file__).resolve().parents[2]
ONNX = ROOT / "tests" / "fixtures" / "onnx"


# --- the engine ---------------------------------------------------------------------------

def test_tasks_on_one_resource_take_turns_in_rank_order():
    r = run([Task(1, 5, {0: 5}), Task(0, 3, {0: 3})], 1, 1, None)
    assert (r.start[0], r.end[0]) == ([3, 0], [8, 3])


def test_a_task_starts_only_when_all_its_resources_are_free_and_holds_none_meanwhile():
    tasks = [Task(0, 10, {0: 10}), Task(1, 4, {0: 4, 1: 4}), Task(2, 3, {1: 3})]
    r = run(tasks, 2, 1, None)
    assert r.start[0] == [0, 10, 0]  # task 2 uses resource 1 while task 1 waits for 0


def test_a_resource_is_held_for_its_own_length_and_the_result_comes_later():
    # a transfer: holds its link 4 cycles, arrives at 9; the next transfer may go at 4
    r = run([Task(0, 9, {0: 4}), Task(1, 9, {0: 4})], 1, 1, None)
    assert r.start[0] == [0, 4] and r.end[0] == [9, 13]


def test_dependencies_and_batch_injection():
    tasks = [Task(0, 4, {0: 4}), Task(1, 2, {1: 2}, preds=(0,))]
    r = run(tasks, 2, 3, 10)
    assert [r.start[k][0] for k in range(3)] == [0, 10, 20]
    assert [r.start[k][1] for k in range(3)] == [4, 14, 24]
    late = run(tasks, 2, 3, 2)  # an interval below the resource's 4 cycles: batches queue
    assert [late.start[k][0] for k in range(3)] == [0, 4, 8]
    serial = run(tasks, 2, 3, None)  # not pipelined: a batch after the previous one is done
    assert [serial.start[k][0] for k in range(3)] == [0, 6, 12]


def test_the_older_batch_goes_first():
    tasks = [Task(1, 5, {0: 5}), Task(2, 5, {1: 5}, preds=(0,)), Task(0, 1, {1: 1})]
    r = run(tasks, 2, 2, 5)
    # at cycle 5 batch 0's task 1 and batch 1's task 2 (of a lower rank) both want resource 1
    assert r.start[0][1] == 5 and r.start[1][2] == 10


def test_a_streamed_load_keeps_its_crossbar_until_its_reader_is_done():
    load_a, use_a = Task(0, 3, {0: 3}, holds_for=(1,)), Task(2, 2, {0: 2}, preds=(0,))
    load_b = Task(1, 3, {0: 3})  # ranked before the use: without the hold it would go first
    r = run([load_a, use_a, load_b], 1, 1, None)
    assert r.start[0] == [0, 3, 5]
    free = run([Task(0, 3, {0: 3}), use_a, load_b], 1, 1, None)  # no hold: b overwrites a
    assert free.start[0] == [0, 6, 3]


def test_ordered_a_resource_serves_its_tasks_in_planned_order_even_when_free():
    # task 1 is ready at 0 and its resource is free, but task 0 is planned first on it
    tasks = [Task(0, 2, {0: 2}, preds=(2,), at=5), Task(1, 3, {0: 3}, at=9),
             Task(2, 5, {1: 5}, at=0)]
    assert run(tasks, 2, 1, None).start[0] == [5, 0, 0]  # non-delay: task 1 jumps the queue
    assert run(tasks, 2, 1, None, ordered=True).start[0] == [5, 7, 0]


def test_ordered_batches_interleave_by_planned_start_plus_k_intervals():
    # on resource 0: a at 0 and b at 6; with interval 4, batch 1's a (at 4) comes before
    # batch 0's b (at 6) although b is older, as the modulo schedule planned
    tasks = [Task(0, 2, {0: 2}, at=0), Task(1, 2, {0: 2}, preds=(2,), at=6),
             Task(2, 1, {1: 1}, at=0)]
    r = run(tasks, 2, 2, 4, ordered=True)
    assert (r.start[0], r.start[1]) == ([0, 6, 0], [4, 8, 4])
    older_first = run(tasks, 2, 2, 4)
    assert older_first.start[1][0] == 4 and older_first.start[0][1] == 2


def test_ordered_a_contradictory_order_stalls_and_names_the_resource():
    from compiler._sim_engine import Stalled

    # task 1 needs task 0's result but is planned before it on the shared resource
    tasks = [Task(0, 2, {0: 2}, at=5), Task(1, 2, {0: 2}, preds=(0,), at=1)]
    with pytest.raises(Stalled) as err:
        run(tasks, 1, 1, None, ordered=True)
    assert err.value.resource == 0 and err.value.waiting == (0, 1)
    assert run(tasks, 1, 1, None).start[0] == [0, 2]  # the near miss: unordered runs


# --- on compiled fixtures -----------------------------------------------------------------

@cache
def _scheduled(model: str, target: str, batch: int, place: str = ""):
    """(schedule dict, mapped module); `place`: a place{...} spec instead of the default."""
    from compiler.driver import compile
    from compiler.schedule_json import schedule_dict
    from targets import load_target

    path = ONNX / f"{model}.onnx"
    if not place:
        c = compile(path, target, batch=batch, emit="scheduled")
        return schedule_dict(c.module, load_target(target), "throughput"), c.module
    from frontend.onnx import import_onnx
    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    module = import_onnx(str(path), batch=batch)
    spec = (f"canonicalize,fuse-interactions,assign-precision,partition{{target={target}}},"
            f"tile,{place},schedule")
    PassManager(parse_pipeline(spec)).run(module)
    return schedule_dict(module, load_target(target), "throughput"), module


SAMPLE = [("torchrec_dlrm_legacy", "isaac", 8), ("deepctr_wdl_legacy", "puma", 8),
          ("torchfm_fm_legacy", "hetero", 8), ("torchrec_dlrm_projection_legacy", "hbm-pim", 64)]


@pytest.mark.parametrize("model, target, batch", SAMPLE)
def test_the_simulator_agrees_with_the_scheduler_within_5_percent(model, target, batch):
    s, m = _scheduled(model, target, batch)
    sim = simulate(s, m)
    assert compare(sim, s) == []
    assert abs(sim.difference_percent["latency"]) <= 5
    assert abs(sim.difference_percent["interval"]) <= 5
    assert sim.samples_per_second == pytest.approx(s["target"]["clock_hz"]
                                                   / sim.interval_cycles * s["batch"])
    assert sim.binding["resource"] in s["units"] and sim.energy_j > 0


def _scramble(s: dict, seed: int) -> dict:
    """Every planned cycle t = q x interval + r replaced by q x interval + g(r), g a random
    strictly increasing map of the residues: the order in which each resource serves the tasks
    of all batches (t + k x interval) is kept, the values are not; the units' own times are
    garbled outright."""
    s = copy.deepcopy(s)
    ii = s["interval"]
    keys = ("start", "end", "io_end")
    residues = sorted({x[k] % ii for x in s["ops"] + s["transfers"] for k in keys if k in x})
    rng = random.Random(seed)
    picked = sorted(rng.sample(range(ii), len(residues)))
    g = dict(zip(residues, picked))
    assert any(a != b for a, b in g.items())
    for x in s["ops"] + s["transfers"]:
        for k in keys:
            if k in x:
                x[k] = x[k] // ii * ii + g[x[k] % ii]
    for uses in s["units"].values():
        for u in uses:
            u["start"], u["end"] = u["start"] * 7 + 1, u["end"] * 3
    return s


def test_the_schedule_times_are_not_read_only_their_order():
    s, m = _scheduled("deepctr_dcn_legacy", "isaac", 8)  # a schedule whose order matters
    a = simulate(s, m)
    b = simulate(_scramble(s, 1), m)
    assert (a.latency_cycles, a.interval_cycles, a.energy, a.binding) == \
        (b.latency_cycles, b.interval_cycles, b.energy, b.binding)
    reordered = copy.deepcopy(s)  # near miss: a different order may change the numbers
    for op in reordered["ops"]:
        op["start"] = -op["start"]
    c = simulate(reordered, m)
    assert (c.latency_cycles, c.interval_cycles) != (a.latency_cycles, a.interval_cycles)


def test_a_different_mapping_gives_different_numbers():
    naive = simulate(*_scheduled("torchrec_dlrm_legacy", "isaac", 8, "place{solver=naive}"))
    greedy = simulate(*_scheduled("torchrec_dlrm_legacy", "isaac", 8, "place{solver=greedy}"))
    assert naive.interval_cycles > greedy.interval_cycles
    assert naive.binding != greedy.binding or naive.latency_cycles != greedy.latency_cycles


def test_an_interval_too_short_for_a_resource_is_found_and_named():
    s, m = _scheduled("torchrec_dlrm_legacy", "isaac", 8)
    short = dict(s, interval=s["interval"] // 2)
    sim = simulate(short, m)
    warnings = compare(sim, short)
    assert sim.interval_cycles >= s["interval"] * 0.95
    # batches entering too often queue at the binding resource; over any long run they leave
    # once per its busy cycles, however close a finite window of them is
    assert sim.interval_cycles >= sim.binding["busy_cycles"]
    assert sim.binding["busy_fraction"] <= 1
    assert any(w.startswith("simulated interval") and sim.binding["resource"] in w
               for w in warnings), warnings


def test_energy_is_dynamic_plus_leakage_over_the_simulated_interval():
    from targets import load_target
    from targets.rollup import rollup

    s, m = _scheduled("torchrec_dlrm_legacy", "isaac", 8)
    sim = simulate(s, m)
    target = load_target("isaac")
    assert sim.energy["leakage"] == pytest.approx(
        rollup(target).leakage * sim.interval_cycles / target.clock)
    assert sim.energy_j == pytest.approx(sum(sim.energy.values()))
    assert sim.energy["adc"] > 0


def test_a_version_1_schedule_still_simulates():
    s, m = _scheduled("torchrec_dlrm_legacy", "isaac", 8)
    v1 = copy.deepcopy(s)
    v1["version"] = 1
    v1.pop("pipelined", None)
    for t in v1["transfers"]:
        t.pop("links", None)
    v1["units"] = {k: v for k, v in v1["units"].items() if k.split(":")[0] in
                   ("crossbar", "tile", "bank")}
    sim = simulate(v1, m)
    assert sim.pipelined == (s["interval"] < s["latency"])
    assert not sim.binding["resource"].startswith("link:") and sim.interval_cycles > 0


def test_a_schedule_of_another_module_or_an_unknown_resource_is_refused():
    s, m = _scheduled("torchrec_dlrm_legacy", "isaac", 8)
    other = copy.deepcopy(s)
    other["ops"][0]["kind"] = "pim.gather"
    with pytest.raises(PimcError, match="belongs to another module"):
        simulate(other, m)
    odd = copy.deepcopy(s)
    odd["units"]["dma:0"] = [{"op": s["ops"][0]["id"], "start": 0, "end": 1}]
    with pytest.raises(PimcError, match="resource 'dma:0' is of no known kind; accepted: "
                                        "bank, crossbar, io, link, tile"):
        simulate(odd, m)
    with pytest.raises(PimcError, match="0 batches"):
        simulate(s, m, batches=0)


def test_a_schedule_whose_order_contradicts_its_dependencies_is_refused():
    s, m = _scheduled("torchrec_dlrm_legacy", "isaac", 8)
    inputs = {o["id"]: list(o["inputs"]) for o in s["ops"]}
    for t in s["transfers"]:
        inputs.setdefault(t["id"], []).append(t["src"])
        inputs[t["dst"]].append(t["id"])
    before: dict[int, set[int]] = {}  # op or transfer -> every one it depends on
    for i in sorted(inputs):  # ids are graph positions: producers first
        before[i] = set(inputs[i]).union(*(before.get(p, set()) for p in inputs[i]))
    a, b = next((x["op"], y["op"]) for uses in s["units"].values() for x in uses for y in uses
                if x["op"] in before[y["op"]])
    bad = copy.deepcopy(s)
    first = min(x["start"] for x in bad["ops"] + bad["transfers"] if x["id"] == a)
    for x in bad["ops"] + bad["transfers"]:
        if x["id"] == b:  # planned before what it reads, on a resource they share
            x["start"] = first - 1
            x.pop("io_end", None)
    with pytest.raises(PimcError, match=r"cannot run in its own order: \S+ waits for"):
        simulate(bad, m)
    assert gc.isenabled()  # the collector, paused while it ran, is back on after the error
    simulate(s, m)  # the near miss: the schedule as written runs


def test_the_simulator_names_the_binding_resource_the_report_names():
    """DLRM on hetero: many crossbars tie as the busiest; both name the same one."""
    from compiler._report_facts import binding

    s, m = _scheduled("torchrec_dlrm_legacy", "hetero", 8)
    sim = simulate(s, m)
    busy = sim.binding["busy_cycles"]
    ties = [r for r, uses in s["units"].items()
            if sum(u["end"] - u["start"] for u in uses) == busy]
    assert len(ties) > 1  # the near miss: picking any other of them disagrees
    assert sim.binding["resource"] == binding(m)["resource"]


def test_a_tie_goes_to_the_first_resource_by_name_not_by_number():
    """crossbar:10 comes before crossbar:9 by name; the report names it (near miss: by
    number, crossbar:9)."""
    import numpy as np

    from compiler._report_facts import binding
    from ir.core import Graph, Module
    from ir.dialects import nn
    from ir.dialects.pim_attrs import END, LOC, START, UNIT

    ops = []
    for loc in (9, 10):
        op = nn.Constant(attrs={"value": np.zeros(1, np.float32)})
        for fact, value in ((UNIT, "crossbar"), (LOC, (loc,)), (START, 0), (END, 4)):
            fact.set(op, value)
        ops.append(op)
    got = binding(Module(graphs=[Graph("main", ops=ops)]))
    assert got == {"resource": "crossbar:10", "busy_cycles": 4, "op": "1:nn.constant"}


def test_a_fetched_op_holds_its_unit_the_whole_time_unless_the_io_is_its_own_task():
    """DLRM on isaac reads its tables over the off-chip I/O (`io:0`): a task of its own, then
    the rest on its unit. Without `io:0` in its units (a near miss) the op is one task, which
    holds its unit the whole time, the off-chip part included."""
    from compiler._sim_model import build
    from compiler.simulator import RULES

    s, m = _scheduled("torchrec_dlrm_legacy", "isaac", 8)
    fetched = {n.id for n in build(s, m, RULES).nodes if n.part == 1}
    assert fetched
    whole = dict(s, units={k: v for k, v in s["units"].items() if not k.startswith("io:")})
    nodes = [n for n in build(whole, m, RULES).nodes if n.id in fetched]
    assert len(nodes) == len(fetched) and all(n.part == 0 for n in nodes)
    assert all(list(n.use.values()) == [n.cycles] for n in nodes)


def test_a_transfer_listed_for_several_consumers_holds_the_links_of_every_entry():
    from compiler._sim_model import _resources_of

    a, b = {"link": "link:a", "bytes": 8}, {"link": "link:b", "bytes": 8}
    s = {"units": {"link:c": [{"op": 5, "start": 0, "end": 1}]}, "ops": [],
         "transfers": [{"id": 5, "links": [a]}, {"id": 5, "links": [a, b]},
                       {"id": 5, "links": [a]}]}
    assert list(_resources_of(s)[5]) == ["link:c", "link:a", "link:b"]


def test_every_entry_of_a_transfer_feeding_several_ops_has_links_of_its_own():
    """One entry per consumer, each with its own link dicts: changing one entry (as a
    tampering test does) leaves the others as written."""
    from compiler.schedule_json import schedule_dict
    from targets import load_target

    _, m = _scheduled("deepctr_dcnmix_legacy", "isaac", 8)  # 5 such transfers
    s = schedule_dict(m, load_target("isaac"), "throughput")
    entries: dict[int, list[dict]] = {}
    for t in s["transfers"]:
        entries.setdefault(t["id"], []).append(t)
    first, second = next(e[:2] for e in entries.values() if len(e) > 1 and e[0]["links"])
    assert first["links"] == second["links"]
    first["links"][0]["cycles"] += 1
    assert first["links"] != second["links"]


def test_completions_drifting_ahead_of_plan_do_not_shorten_the_interval():
    """BST on puma: later batches use up the schedule's slack and finish ahead of plan, so
    completions in an 8-batch window come closer than the batches enter; the interval is the
    entry interval, which bounds any long run."""
    from compiler._sim_model import build
    from compiler.simulator import RULES, _interval, _run

    s, m = _scheduled("rechub_bst_legacy", "puma", 64)
    run = _run(build(s, m, RULES), 8, s["interval"])
    window = _interval([max(e) for e in run.end[:8]], 0)
    assert window < 0.97 * s["interval"]  # the near miss: the window alone says shorter
    assert simulate(s, m).interval_cycles == s["interval"]


def _variants(s: dict) -> list[dict]:
    """The schedule as compiled, with half its interval (batches queue, so batch k is not
    batch 0 shifted) and not pipelined (one batch after another)."""
    return [s, dict(s, interval=s["interval"] // 2), dict(s, pipelined=False)]


@pytest.mark.parametrize("model, target, batch", SAMPLE[:3])
def test_the_numpy_run_reports_what_the_one_pass_and_the_event_loop_report(model, target, batch,
                                                                          monkeypatch):
    import compiler._sim_engine as engine

    s, m = _scheduled(model, target, batch)
    fast = [simulate(v, m).to_dict() for v in _variants(s)]
    monkeypatch.setattr(engine, "run_levels", lambda *a, **k: None)
    assert [simulate(v, m).to_dict() for v in _variants(s)] == fast
    monkeypatch.setattr(engine, "_run_in_order", lambda *a, **k: None)
    assert [simulate(v, m).to_dict() for v in _variants(s)] == fast
