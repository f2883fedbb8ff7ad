"""What report.html says: sorted per-op charts with a summed rest, energy adding up with
leakage, numeric resource order, the binding op marked, units in the summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler._report_schedule import group_of
from compiler._svg import natural_key, nice_ticks
from compiler.artifacts import summary_rows
from compiler.driver import compile
from compiler.report_html import TOP_N, render_report
from compiler.units import human

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


@pytest.fixture(scope="module")
def compiled():
    return compile(FIXTURES / "torchrec_dlrm_legacy.onnx", "isaac", batch=4)


def test_natural_sort_and_ticks():
    names = ["crossbar:1000", "crossbar:101", "crossbar:100", "crossbar:2"]
    assert sorted(names, key=natural_key) == ["crossbar:2", "crossbar:100", "crossbar:101",
                                              "crossbar:1000"]
    assert sorted(names) != sorted(names, key=natural_key)  # the near miss: plain text order
    assert nice_ticks(17487)[:3] == [0, 2000, 4000] and len(nice_ticks(17487)) == 9
    assert group_of("crossbar:200", 96) == "chip tile 2" and group_of("tile:7", 96) == "chip tile 7"


def test_human_units():
    assert human(2.156e-5, "s") == "21.56 µs" and human(1780608, "B", 1024) == "1.698 MiB"
    assert human(4294967296, "B", 1024) == "4 GiB" and human(3.3e-9, "J") == "3.3 nJ"


def test_summary_has_units_and_verdicts(compiled):
    rows = summary_rows(compiled)
    assert rows["latency"].startswith(human(compiled.report["latency_seconds"], "s"))
    assert rows["functional check"].startswith("PASS")
    assert rows["simulator"].startswith("PASS") and rows["schedule check"].startswith("PASS")
    assert "samples/s" in rows["throughput"] and "mm²" in rows["area used"]


def test_charts_sorted_with_the_rest_summed(compiled):
    page = render_report(compiled)
    busy = re.search(r"<h2>Busy time per op</h2>(.*?)<h2>", page, re.S).group(1)
    n_ops = len(compiled.schedule["ops"])
    assert f"top {TOP_N} of {n_ops} ops" in busy and f"other {n_ops - TOP_N} ops (summed)" in busy
    values = [int(v.replace(",", "")) for v in re.findall(r">([\d,]+) cycles \(", busy)]
    assert values[:TOP_N] == sorted(values[:TOP_N], reverse=True)
    op = compiled.report["binding"]["op"].split(":")[0]
    assert re.search(rf'fill="#b00">[^<]*#{op}</text>', busy)  # the binding op is marked


def test_energy_by_component_includes_leakage_and_adds_up(compiled):
    page = render_report(compiled)
    energy = compiled.report["energy"]
    assert "leakage" in energy
    total = human(compiled.report["total_energy"], "J")
    assert f"add up to {human(sum(energy.values()), 'J')} (total {total})" in page
    section = re.search(r"by component</h2>(.*?)<h2>", page, re.S).group(1)
    assert section.count("<rect") == len(energy)


def test_comparison_table_shows_ratios(compiled):
    compiled.compared = [{"name": "naive", "latency_s": 2 * compiled.report["latency_seconds"],
                          "interval_cycles": compiled.report["interval_cycles"] * 3,
                          "samples_per_second": 1.424e6, "energy_j": 1.0, "used_mm2": 1.0,
                          "crossbars_used": 1}]
    page = render_report(compiled)
    assert "2.00×" in page and "3.00×" in page
    table = page[page.index("Compared with"):]
    assert "1.424 Msamples/s" in table and "e+" not in table  # units as the summary has them
    compiled.compared = []
    assert "Compared with" not in render_report(compiled)
