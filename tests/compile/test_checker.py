"""The schedule checker accepts a valid schedule and names each broken invariant."""

import copy
import json

import pytest

from compiler.checker import check_schedule, load_schedule
from ir.errors import PimcError


def _valid() -> dict:
    """Two tiles of a dense op (2 replicas), a bank gather, and a digital op fed by both
    through one transfer."""
    return {
        "schema": "pimc.schedule", "version": 1,
        "target": {"name": "t", "clock_hz": 1e9, "crossbars": 8, "crossbar_rows": 128,
                   "crossbar_columns": 129, "banks": 4, "bank_bytes": 1000, "chip_tiles": 2},
        "batch": 4, "objective": "latency", "interval": 30, "latency": 30,
        "ops": [
            {"id": 0, "name": "dense0", "kind": "pim.mvm", "unit": "crossbar", "loc": [0, 1],
             "start": 0, "end": 10, "inputs": [], "tile": [0, 0], "replicas": 2},
            {"id": 1, "name": "dense0", "kind": "pim.mvm", "unit": "crossbar", "loc": [2, 3],
             "start": 0, "end": 10, "inputs": [], "tile": [1, 0], "replicas": 2},
            {"id": 2, "name": "emb0", "kind": "pim.gather", "unit": "bank", "loc": [1],
             "start": 0, "end": 20, "inputs": []},
            {"id": 4, "name": "pim.combine", "kind": "pim.combine", "unit": "digital",
             "loc": [0], "start": 25, "end": 30, "inputs": [0, 1, 2]},
        ],
        "tiles": [
            {"op": "dense0", "tile": [0, 0], "replica": 0, "crossbar": 0, "rows": 128,
             "columns": 129},
            {"op": "dense0", "tile": [0, 0], "replica": 1, "crossbar": 1, "rows": 128,
             "columns": 129},
            {"op": "dense0", "tile": [1, 0], "replica": 0, "crossbar": 2, "rows": 16,
             "columns": 129},
            {"op": "dense0", "tile": [1, 0], "replica": 1, "crossbar": 3, "rows": 16,
             "columns": 129},
        ],
        "shards": [{"op": "emb0", "shard": 0, "bank": 1, "rows": 100, "bytes": 800}],
        "transfers": [{"id": 3, "src": 2, "dst": 4, "bytes": 64, "hops": 2, "start": 20,
                       "end": 24}],
        "units": {
            "crossbar:0": [{"op": 0, "start": 0, "end": 10}],
            "crossbar:1": [{"op": 0, "start": 0, "end": 10}],
            "crossbar:2": [{"op": 1, "start": 0, "end": 10}],
            "crossbar:3": [{"op": 1, "start": 0, "end": 10}],
            "bank:1": [{"op": 2, "start": 0, "end": 20}],
            "tile:0": [{"op": 4, "start": 25, "end": 30}],
        },
    }


def test_a_valid_schedule_passes():
    assert check_schedule(_valid()) == []


def _drop_tile(s):
    del s["tiles"][3]


def _duplicate_tile(s):
    s["tiles"].append(dict(s["tiles"][0], crossbar=5))


def _two_tiles_one_crossbar(s):
    s["tiles"][3]["crossbar"] = 2


def _too_many_columns(s):
    s["tiles"][0]["columns"] = 200


def _bank_overflow(s):
    s["shards"].append({"op": "emb0", "shard": 1, "bank": 1, "rows": 100, "bytes": 800})


def _overlap(s):
    s["units"]["tile:0"].append({"op": 2, "start": 28, "end": 35})


def _dependency(s):
    s["ops"][3]["start"] = 5


def _transfer_too_early(s):
    s["transfers"][0]["start"] = 10


def _missing_crossbar(s):
    s["tiles"][1]["crossbar"] = 99


@pytest.mark.parametrize("corrupt, message", [
    (_drop_tile, "tile dense0[1, 0] replica 1 is not placed"),
    (_duplicate_tile, "tile dense0[0, 0] replica 0 is placed 2 times"),
    (_two_tiles_one_crossbar, "crossbar 2 is over capacity: 2 tiles"),
    (_too_many_columns, "crossbar 0 is over capacity: tile dense0[0, 0] uses 128x200 cells"),
    (_bank_overflow, "bank 1 is over capacity: 1600 bytes of 1000"),
    (_overlap, "tile:0 runs op 4 and op 2 at once"),
    (_dependency, "dependency broken: op 4 (pim.combine) starts at 5 but op 0 ends at 10"),
    (_transfer_too_early, "transfer 3 starts at 10 before its producer op 2 ends at 20"),
    (_missing_crossbar, "crossbar 99 does not exist (target has 8)"),
])
def test_each_broken_invariant_is_named(corrupt, message):
    s = copy.deepcopy(_valid())
    corrupt(s)
    errors = check_schedule(s)
    assert any(message in e for e in errors), errors


def test_units_are_named_in_order_whatever_the_file_lists_first():
    """The rules over units report by unit name, not in the order of the file's keys."""
    s = copy.deepcopy(_valid())
    s["units"] = dict(reversed(list(s["units"].items())))
    s["units"]["tile:0"].append({"op": 2, "start": 26, "end": 28})
    s["units"]["bank:1"].append({"op": 4, "start": 10, "end": 12})
    s["units"]["crossbar:2"][0]["end"] = 0  # one use, of no length
    named = [e.split()[0] for e in check_schedule(s)
             if "at once" in e or "at least one cycle" in e]
    assert named == ["bank:1", "crossbar:2", "tile:0"], check_schedule(s)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ('{"schema": "other"}', "not a pimc schedule"),
    ('{"schema": "pimc.schedule", "version": 9}', "schedule version 9; accepted: 1, 2"),
    ('{"schema": "pimc.schedule", "version": 1, "ops": []}', "schedule lacks 'target'"),
])
def test_corrupt_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "schedule.json"
    path.write_text(text)
    with pytest.raises(PimcError) as exc:
        load_schedule(path)
    assert message in str(exc.value) and str(path) in str(exc.value)


def test_a_valid_file_loads(tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps(_valid()))
    assert load_schedule(path)["latency"] == 30
