"""The schedule checker's edges that mutation testing found unguarded (docs/mutation.md): a
bank below 0, a span hidden behind a long one, a use that ends before it starts, one line per
clash, an interval of one cycle, links checked after a problem and after a repeated transfer,
a link held late, the float tolerance of the bandwidth rule, residency at interval 0, inputs
that are not loads, and an op of zero cycles."""

import copy

import pytest

from compiler.checker import check_schedule


def _one_op(**extra) -> dict:
    """A valid one-op schedule: a digital op on chip tile 0 for cycles 0-4, interval 4."""
    return {
        "schema": "pimc.schedule", "version": 2, "pipelined": True,
        "target": {"name": "t", "clock_hz": 1e9, "crossbars": 2, "crossbar_rows": 8,
                   "crossbar_columns": 8, "banks": 2, "bank_bytes": 100, "chip_tiles": 2,
                   **extra},
        "batch": 1, "objective": "throughput", "interval": 4, "latency": 4,
        "ops": [{"id": 0, "name": "pim.combine", "kind": "pim.combine", "unit": "digital",
                 "loc": [0], "start": 0, "end": 4, "inputs": []}],
        "tiles": [], "shards": [], "transfers": [],
        "units": {"tile:0": [{"op": 0, "start": 0, "end": 4}]},
    }


def _linked(rate: float, links: list[dict], held: dict[str, tuple[int, int]]) -> dict:
    """Op 0 (cycles 0-4) feeds op 2 (cycles 20-24) over transfer 1 (cycles 4-20) along
    `links`; `held`: link -> the cycles units holds it for transfer 1."""
    s = _one_op(link_bytes_per_cycle=rate)
    s["interval"], s["latency"] = 24, 24
    s["ops"].append({"id": 2, "name": "pim.combine", "kind": "pim.combine", "unit": "digital",
                     "loc": [1], "start": 20, "end": 24, "inputs": [0]})
    s["transfers"] = [{"id": 1, "src": 0, "dst": 2, "bytes": 40, "hops": len(links),
                       "start": 4, "end": 20, "links": links}]
    s["units"]["tile:1"] = [{"op": 2, "start": 20, "end": 24}]
    for name, (a, b) in held.items():
        s["units"][name] = [{"op": 1, "start": a, "end": b}]
    return s


def _streamed(interval: int) -> dict:
    """Streamed weights on crossbar 0: load (op 0, cycles 0-4) then its mvm (op 1, 4-8)."""
    s = _one_op(weights="streamed")
    s["interval"], s["latency"] = interval, 8
    s["ops"] = [
        {"id": 0, "name": "pim.load", "kind": "pim.load", "unit": "crossbar", "loc": [0],
         "start": 0, "end": 4, "inputs": []},
        {"id": 1, "name": "fc", "kind": "pim.mvm", "unit": "crossbar", "loc": [0],
         "start": 4, "end": 8, "inputs": [0], "tile": [0, 0], "replicas": 1}]
    s["tiles"] = [{"op": "fc", "tile": [0, 0], "replica": 0, "crossbar": 0, "rows": 8,
                   "columns": 8}]
    s["units"] = {"crossbar:0": [{"op": 0, "start": 0, "end": 4},
                                 {"op": 1, "start": 4, "end": 8}]}
    return s


def test_the_builders_give_valid_schedules():
    assert check_schedule(_one_op()) == []
    assert check_schedule(_linked(4.0, [{"link": "link:L", "bytes": 40, "cycles": 10}],
                                  {"link:L": (4, 14)})) == []
    assert check_schedule(_streamed(8)) == []


def test_a_shard_in_bank_minus_one_does_not_exist():
    s = _one_op()
    s["shards"] = [{"op": "emb", "shard": 0, "bank": -1, "rows": 1, "bytes": 8}]
    assert "bank -1 does not exist (target has 2)" in check_schedule(s)


def test_a_short_use_inside_a_long_one_does_not_hide_the_next_overlap():
    s = _one_op()
    s["interval"] = 0  # batch 0 only: the same-batch rule alone
    s["units"]["tile:0"] = [{"op": 0, "start": 0, "end": 10}, {"op": 5, "start": 2, "end": 3},
                            {"op": 6, "start": 5, "end": 6}]
    errors = check_schedule(s)
    assert "tile:0 runs op 0 and op 6 at once (cycles 0-10 and 5-6)" in errors, errors


def test_a_use_ending_before_it_starts_is_named():
    s = _one_op()
    s["units"]["tile:0"].append({"op": 0, "start": 3, "end": 1})
    assert any("holds op 0 for -2 cycles (cycles 3-1)" in e for e in check_schedule(s))


def test_one_clash_in_batch_zero_is_one_line_not_also_a_cross_batch_one():
    s = _one_op()
    s["interval"] = 10
    s["units"]["tile:0"] = [{"op": 0, "start": 0, "end": 4}, {"op": 7, "start": 2, "end": 6}]
    assert check_schedule(s) == ["tile:0 runs op 0 and op 7 at once (cycles 0-4 and 2-6)"]


def test_an_interval_of_one_cycle_is_accepted():
    s = _one_op()
    s["ops"][0]["end"] = 1
    s["interval"] = s["latency"] = 1
    s["units"]["tile:0"] = [{"op": 0, "start": 0, "end": 1}]
    assert check_schedule(s) == []


def test_the_links_after_a_repeated_transfer_id_are_still_checked():
    s = _linked(4.0, [{"link": "link:L", "bytes": 40, "cycles": 10}], {"link:L": (4, 14)})
    again = copy.deepcopy(s["transfers"][0])
    later = dict(again, id=9, links=[{"link": "link:M", "bytes": 40, "cycles": 10}])
    s["transfers"] += [again, later]
    assert any(e.startswith("link:M is on transfer 9's route") for e in check_schedule(s))


def test_every_link_of_a_route_is_checked_after_a_bad_one():
    links = [{"link": "link:L", "bytes": 40, "cycles": 10},
             {"link": "link:M", "bytes": 40, "cycles": 2}]
    errors = check_schedule(_linked(4.0, links, {"link:M": (4, 6)}))
    assert any(e.startswith("link:L is on transfer 1's route but units holds it never") for e in
               errors), errors
    assert any(e.startswith("link:M is held by transfer 1 for 2 cycles") for e in errors), errors


def test_a_link_held_from_after_the_transfer_starts_is_named():
    s = _linked(4.0, [{"link": "link:L", "bytes": 40, "cycles": 10}], {"link:L": (5, 15)})
    assert any("units holds it from cycle 5 for it (the transfer starts at 4)" in e
               for e in check_schedule(s))


def test_a_link_held_exactly_its_bytes_over_the_rate_passes_despite_rounding():
    assert 100 * 0.29 < 29  # the float product rounds below the bytes
    s = _linked(0.29, [{"link": "link:L", "bytes": 29, "cycles": 100}], {"link:L": (4, 104)})
    s["transfers"][0]["bytes"], s["transfers"][0]["end"] = 29, 104
    s["ops"][1].update(start=104, end=108)
    s["units"]["tile:1"] = [{"op": 2, "start": 104, "end": 108}]
    s["interval"] = s["latency"] = 108
    assert check_schedule(s) == []


def test_the_cycles_a_slow_link_needs_are_rounded_up():
    s = _linked(3.0, [{"link": "link:L", "bytes": 10, "cycles": 2}], {"link:L": (4, 6)})
    assert any("its 10 bytes need 4 at 3 bytes/cycle" in e for e in check_schedule(s))


@pytest.mark.parametrize("use, lost", [((2, 6), True), ((8, 9), False), ((9, 10), False)])
def test_residency_at_interval_zero_flags_only_a_use_inside_the_held_span(use, lost):
    s = _streamed(0)
    s["units"]["crossbar:0"].append({"op": 5, "start": use[0], "end": use[1]})
    s["units"]["crossbar:0"].sort(key=lambda u: u["start"])
    s["ops"].append({"id": 5, "name": "pim.load", "kind": "pim.load", "unit": "crossbar",
                     "loc": [0], "start": use[0], "end": use[1], "inputs": []})
    s["latency"] = max(8, use[1])
    errors = check_schedule(s)
    assert any("crossbar:0 loses tile fc[0, 0]" in e for e in errors) == lost, errors


def test_an_input_that_is_not_a_load_holds_no_crossbar():
    s = _streamed(8)
    # a digital op elsewhere ("pim.combine" sorts before "pim.load") also feeds the mvm
    s["ops"].append({"id": 2, "name": "pim.combine", "kind": "pim.combine", "unit": "digital",
                     "loc": [1], "start": 0, "end": 2, "inputs": []})
    s["ops"][1]["inputs"] = [0, 2]
    s["units"]["tile:1"] = [{"op": 2, "start": 0, "end": 2}]
    assert check_schedule(s) == []


def test_an_op_of_zero_cycles_is_no_broken_order():
    s = _one_op()
    s["ops"].append({"id": 3, "name": "view", "kind": "pim.combine", "unit": "digital",
                     "loc": [0], "start": 4, "end": 4, "inputs": [0]})
    assert check_schedule(s) == []
