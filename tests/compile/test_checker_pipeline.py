"""The checker checks the pipeline: a modulo reservation check of every resource at the
interval, link bandwidth, streamed-weight residency, the file's shape; and `pimc simulate`
refuses a broken schedule with one line naming the resource."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.checker import check_schedule, load_schedule
from compiler.verify_folder import write_manifest
from ir.errors import PimcError

ROOT = Path(__file__).resolve().parents[2]
DLRM = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


def _pipelined() -> dict:
    """Version 2, pipelined at interval 20: a tile (op 0) on crossbar 0, a digital op (op 2)
    fed over a two-link transfer (id 1, 40 bytes at 4 bytes/cycle), a second transfer (id 3)
    sharing the first link later."""
    return {
        "schema": "pimc.schedule", "version": 2, "pipelined": True,
        "target": {"name": "t", "clock_hz": 1e9, "crossbars": 4, "crossbar_rows": 8,
                   "crossbar_columns": 8, "banks": 0, "bank_bytes": 0, "chip_tiles": 4,
                   "weights": "resident", "link_bytes_per_cycle": 4.0},
        "batch": 2, "objective": "throughput", "interval": 20, "latency": 40,
        "ops": [
            {"id": 0, "name": "fc", "kind": "pim.mvm", "unit": "crossbar", "loc": [0],
             "start": 0, "end": 12, "inputs": [], "tile": [0, 0], "replicas": 1},
            {"id": 2, "name": "pim.combine", "kind": "pim.combine", "unit": "digital",
             "loc": [3], "start": 25, "end": 40, "inputs": [0]},
        ],
        "tiles": [{"op": "fc", "tile": [0, 0], "replica": 0, "crossbar": 0, "rows": 8,
                   "columns": 8}],
        "shards": [],
        "transfers": [
            {"id": 1, "src": 0, "dst": 2, "bytes": 40, "hops": 2, "start": 12, "end": 25,
             "links": [{"link": "link:0,0>1,0", "bytes": 40, "cycles": 10},
                       {"link": "link:1,0>1,1", "bytes": 40, "cycles": 10}]},
        ],
        "units": {
            "crossbar:0": [{"op": 0, "start": 0, "end": 12}],
            "tile:3": [{"op": 2, "start": 25, "end": 40}],
            "link:0,0>1,0": [{"op": 1, "start": 12, "end": 22}],
            "link:1,0>1,1": [{"op": 1, "start": 12, "end": 22}],
        },
    }


def test_a_valid_pipelined_schedule_passes():
    assert check_schedule(_pipelined()) == []


def _shrink_interval(s):
    s["interval"] = 11  # the tile holds crossbar 0 for 12 cycles of every batch


def _two_batches_one_crossbar(s):
    s["interval"] = 14  # apart in batch 0, but batch 1's op 0 (14-26) meets op 2 (15-26)
    s["units"]["crossbar:0"].append({"op": 2, "start": 15, "end": 26})


def _busy_link(s):
    s["units"]["link:0,0>1,0"].append({"op": 5, "start": 16, "end": 18})


def _times_zeroed(s):
    for op in s["ops"] + s["transfers"]:
        op["start"] = op["end"] = 0
    for uses in s["units"].values():
        for u in uses:
            u["start"] = u["end"] = 0


def _slow_link(s):
    s["transfers"][0]["links"][1]["cycles"] = 5
    s["units"]["link:1,0>1,1"][0]["end"] = 17


def _unheld_link(s):
    del s["units"]["link:1,0>1,1"]


def _latency_off(s):
    s["latency"] = 35


@pytest.mark.parametrize("corrupt, message", [
    (_shrink_interval, "crossbar:0 is held by op 0 for 12 cycles, longer than the interval 11"),
    (_two_batches_one_crossbar, "crossbar:0 is used by two batches at once at interval 14: "
                                "op 0 (cycles 0-12) and op 2 (cycles 15-26)"),
    (_busy_link, "link:0,0>1,0 runs op 1 and op 5 at once (cycles 12-22 and 16-18)"),
    (_times_zeroed, "crossbar:0 holds op 0 for 0 cycles"),
    (_slow_link, "link:1,0>1,1 is held by transfer 1 for 5 cycles but its 40 bytes need 10 at "
                 "4 bytes/cycle"),
    (_unheld_link, "link:1,0>1,1 is on transfer 1's route but units holds it never"),
    (_latency_off, "latency is 35 cycles but the ops run from cycle 0 to 40 (40 cycles)"),
])
def test_each_broken_pipeline_invariant_is_named(corrupt, message):
    s = copy.deepcopy(_pipelined())
    corrupt(s)
    errors = check_schedule(s)
    assert any(message in e for e in errors), errors


def test_a_link_shared_in_turn_is_accepted_and_the_bandwidth_rule_needs_the_rate():
    s = _pipelined()
    s["units"]["link:0,0>1,0"].append({"op": 5, "start": 22, "end": 24})  # right after
    assert check_schedule(s) == []
    _slow_link(s)
    assert check_schedule(s)
    del s["target"]["link_bytes_per_cycle"]  # version 1 gives no rate: the rule is skipped
    assert check_schedule(s) == []


def test_interval_zero_is_refused():
    s = _pipelined()
    s["interval"] = 0
    assert any("interval is 0 cycles" in e for e in check_schedule(s))


def _streamed() -> dict:
    """zigzag-style: one crossbar, two tiles loaded in turn (load 0 -> mvm 1, load 2 -> mvm 3)."""
    ops = []
    for k, (a, b, c) in enumerate(((0, 10, 12), (12, 22, 24))):
        ops += [{"id": 2 * k, "name": "pim.load", "kind": "pim.load", "unit": "crossbar",
                 "loc": [0], "start": a, "end": b, "inputs": []},
                {"id": 2 * k + 1, "name": "fc", "kind": "pim.mvm", "unit": "crossbar",
                 "loc": [0], "start": b, "end": c, "inputs": [2 * k], "tile": [k, 0],
                 "replicas": 1}]
    return {
        "schema": "pimc.schedule", "version": 2, "pipelined": False,
        "target": {"name": "z", "clock_hz": 1e8, "crossbars": 1, "crossbar_rows": 8,
                   "crossbar_columns": 8, "banks": 0, "bank_bytes": 0, "chip_tiles": 1,
                   "weights": "streamed"},
        "batch": 1, "objective": "latency", "interval": 24, "latency": 24, "ops": ops,
        "tiles": [{"op": "fc", "tile": [k, 0], "replica": 0, "crossbar": 0, "rows": 8,
                   "columns": 8} for k in range(2)],
        "shards": [], "transfers": [],
        "units": {"crossbar:0": [{"op": o["id"], "start": o["start"], "end": o["end"]}
                                 for o in ops]},
    }


def test_streamed_tiles_take_turns_in_one_crossbar():
    assert check_schedule(_streamed()) == []
    resident = _streamed()
    resident["target"]["weights"] = "resident"
    resident["ops"] = [o for o in resident["ops"] if o["kind"] != "pim.load"]
    for o in resident["ops"]:
        o["inputs"] = []
    resident["units"]["crossbar:0"] = [u for u in resident["units"]["crossbar:0"]
                                       if u["op"] in (1, 3)]
    assert any("crossbar 0 is over capacity: 2 tiles" in e for e in check_schedule(resident))


def test_a_streamed_tile_overwritten_before_its_use_is_named():
    s = _streamed()
    # load 2 moves into the gap between load 0 and its use (op 1 runs later)
    s["ops"][1].update(start=20, end=22)
    s["ops"][2].update(start=10, end=20)
    s["units"]["crossbar:0"] = [{"op": o["id"], "start": o["start"], "end": o["end"]}
                                for o in s["ops"]]
    s["ops"][3]["inputs"] = [2]
    errors = check_schedule(s)
    assert any("crossbar:0 loses tile fc[0, 0] (loaded by op 0 at cycle 0, used by op 1 until "
               "22): op 2 uses it at cycles 10-20" in e for e in errors), errors


@pytest.mark.parametrize("corrupt, message", [
    (lambda s: s["ops"][0].pop("start"), "ops[0] lacks 'start'"),
    (lambda s: s["ops"][0].update(loc=["0"]), "ops[0].loc[0] must be int, got str"),
    (lambda s: s["ops"][0].pop("replicas"), "ops[0] (pim.mvm) lacks 'replicas'"),
    (lambda s: s.update(interval="20"), "schedule.interval must be int, got str"),
    (lambda s: s.update(pipelined=1), "schedule.pipelined must be bool, got int"),
    (lambda s: s["target"].update(crossbars=True), "target.crossbars must be int, got bool"),
    (lambda s: s["transfers"][0]["links"][0].pop("bytes"), "transfers[0].links[0] lacks 'bytes'"),
    (lambda s: s["units"].update({"tile:3": {}}), "units['tile:3'] must be list, got dict"),
    (lambda s: s["units"]["tile:3"][0].update(end=None), "units['tile:3'][0].end must be int"),
    # past the first item, and in a key that only some items carry (optional, or not a dict)
    (lambda s: s["ops"][1].update(io_end=30.0), "ops[1].io_end must be int, got float"),
    (lambda s: s["ops"][0].update(replicas=True), "ops[0].replicas must be int, got bool"),
    (lambda s: s["transfers"][0].update(links={}), "transfers[0].links must be list, got dict"),
    (lambda s: s["transfers"][0]["links"].append(["link:0,0>1,0", 40, 10]),
     "transfers[0].links[2] must be an object, got list"),
    (lambda s: s["units"]["link:1,0>1,1"].append({"op": 1, "start": 12, "end": 25.0}),
     "units['link:1,0>1,1'][1].end must be int, got float"),
])
def test_a_missing_key_or_wrong_type_is_one_line_naming_it(tmp_path, corrupt, message):
    s = copy.deepcopy(_pipelined())
    corrupt(s)
    assert check_schedule(s) == [check_schedule(s)[0]] and message in check_schedule(s)[0]
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps(s))
    with pytest.raises(PimcError) as exc:
        load_schedule(path)
    assert message in str(exc.value) and "\n" not in str(exc.value)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("c") / "out"
    proc = subprocess.run([sys.executable, "-m", "compiler", "compile", str(DLRM), "--target",
                           "hetero", "--batch", "8", "--no-check", "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out


def _last_use(s: dict) -> tuple[str, int]:
    name = list(s["units"])[-1]
    return name, len(s["units"][name]) - 1


@pytest.mark.parametrize("corrupt, message", [
    # a whole list is tried at once before it is walked item by item: the last item of a
    # compiled schedule's long lists must still be found and named
    (lambda s: s["ops"][-1].update(start=1.5), lambda s: f"ops[{len(s['ops']) - 1}].start"),
    (lambda s: s["ops"][-1]["inputs"].append("3"), lambda s: f"ops[{len(s['ops']) - 1}].inputs"),
    (lambda s: s["transfers"][-1].pop("hops"),
     lambda s: f"transfers[{len(s['transfers']) - 1}] lacks 'hops'"),
    (lambda s: s["units"][_last_use(s)[0]][-1].update(op=True),
     lambda s: "units['{}'][{}].op must be int, got bool".format(*_last_use(s))),
])
def test_the_last_bad_item_of_a_long_list_is_named(compiled, corrupt, message):
    s = json.loads((compiled / "schedule.json").read_text())
    assert len(s["ops"]) > 50 and len(s["transfers"]) > 50
    assert check_schedule(s) == []
    corrupt(s)
    errors = check_schedule(s)
    assert len(errors) == 1 and message(s) in errors[0], errors


def _simulate(folder: Path, change) -> subprocess.CompletedProcess:
    s = json.loads((folder / "schedule.json").read_text())
    change(s)
    (folder / "schedule.json").write_text(json.dumps(s))
    write_manifest(folder)  # the manifest agrees: the schedule checker must catch the change
    return subprocess.run([sys.executable, "-m", "compiler", "simulate", str(folder)],
                          capture_output=True, text=True, cwd=ROOT)


def _zero(s):
    for op in s["ops"] + s["transfers"]:
        op["start"] = op["end"] = 0
    for uses in s["units"].values():
        for u in uses:
            u["start"] = u["end"] = 0


def _half_interval(s):
    s["interval"] //= 2


@pytest.mark.parametrize("change, message", [
    (lambda s: None, None),
    (_half_interval, r"(crossbar|tile|bank|link):[\d,>]+ is (held by op \d+ for \d+ cycles, "
                     r"longer than the interval|used by two batches at once)"),
    (_zero, r"(crossbar|tile|bank|link):[\d,>]+ holds op \d+ for 0 cycles"),
])
def test_pimc_simulate_refuses_a_broken_schedule_with_one_line(compiled, tmp_path, change,
                                                                message):
    import re
    import shutil

    folder = tmp_path / "out"
    shutil.copytree(compiled, folder)
    proc = _simulate(folder, change)
    if message is None:
        assert proc.returncode == 0, proc.stderr
        assert "simulated (8 batches" in proc.stdout and "binding" in proc.stdout
        return
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr
    assert re.search(message, lines[0]), lines[0]
