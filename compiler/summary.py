"""The few numbers a compile leads with, in human units with a PASS/FAIL per check: the terminal
summary, the HTML report's header and its comparison rows all read them from here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.units import human, percent
from ir.dialects.pim_attrs import BATCH, PLACE_FACTS

if TYPE_CHECKING:
    from compiler.driver import Compiled

__all__ = ["SIM_TOLERANCE", "numbers", "simulated_line", "summary_rows"]


def _fmt(x: float, unit: str) -> str:
    for scale, prefix in ((1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, "")):
        if abs(x) < scale * 1000:
            return f"{x / scale:.4g} {prefix}{unit}"
    return f"{x:.4g} {unit}"


def simulated_line(s: dict) -> str:
    """The event-driven simulator's numbers on one line, with their difference to the schedule."""
    d, b = s.get("difference_percent", {}), s.get("binding", {})
    diff = ", ".join(f"{k} {v:+.1f}%" for k, v in d.items() if v is not None)
    return (f"latency {s['latency_cycles']} cycles, interval {s['interval_cycles']} cycles"
            f"{f' (vs schedule: {diff})' if diff else ''}; binding "
            f"{b.get('resource', 'none')} ({b.get('op', '-')})")


SIM_TOLERANCE = 0.05  # the simulator and the scheduler agree within 5% (DESIGN.md)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _time(cycles: float, seconds: float) -> str:
    return f"{human(seconds, 's')} ({cycles:,} cycles"


def _sim_rows(sim: dict) -> dict[str, object]:
    bound, gap = sim.get("bound", {}), sim.get("gap", {})
    per_cycle = sim["latency_seconds"] / max(1, sim["latency_cycles"])
    area = sim["area"]
    rows: dict[str, object] = {
        "latency": _time(sim["latency_cycles"], sim["latency_seconds"])
        + f"; lower bound {bound.get('latency', '?')} cycles, gap "
          f"{100 * gap.get('latency', 0):.1f}%)",
        "interval": _time(sim["interval_cycles"], sim["interval_cycles"] * per_cycle)
        + f"; lower bound {bound.get('interval', '?')} cycles, gap "
          f"{100 * gap.get('interval', 0):.1f}%)",
        "throughput": f"{human(sim['samples_per_second'], 'samples/s')}",
        "energy / batch": human(sim["total_energy"], "J"),
        "area used": f"{area['used_mm2']:.4g} mm² of {area['chip_mm2']:.4g} mm² "
                     f"({percent(area['used_mm2'], area['chip_mm2'])})",
    }
    if sim.get("crossbars"):
        rows["crossbars used"] = (f"{sim['crossbars_used']:,} of {sim['crossbars']:,} "
                                  f"({percent(sim['crossbars_used'], sim['crossbars'])})")
    if sim.get("bank_bytes"):
        rows["bank memory used"] = (f"{human(sim['bank_bytes_used'], 'B', 1024)} of "
                                    f"{human(sim['bank_bytes'], 'B', 1024)} "
                                    f"({percent(sim['bank_bytes_used'], sim['bank_bytes'])})")
    if sim.get("table_bytes"):
        rows["embedding tables"] = (f"{human(sim['table_bytes'], 'B', 1024)} in "
                                    f"{sim.get('table_storage', '?').replace('_', ' ')}")
    b = sim.get("binding") or {}
    if b:
        rows["binding"] = f"{b['resource']} (held longest by {b['op']})"
    return rows


def _agreement(s: dict) -> str:
    d = s.get("difference_percent", {})
    worst = max((abs(v) for v in d.values() if v is not None), default=0.0)
    diff = ", ".join(f"{k} {v:+.1f}%" for k, v in d.items() if v is not None)
    return (f"{_verdict(worst <= 100 * SIM_TOLERANCE)} (simulator vs schedule within "
            f"{100 * SIM_TOLERANCE:.0f}%: {diff or 'no difference'})")


def summary_rows(c: Compiled) -> dict[str, object]:
    """The few numbers the summary table and the HTML page lead with, in human units, and a
    PASS/FAIL per check."""
    sim, m = c.report, c.module
    rows: dict[str, object] = {"model": c.model_name, "target": c.target,
                               "batch": BATCH.of(m, None)}
    if sim:
        rows.update(_sim_rows(sim))
    place = {k: PLACE_FACTS[k].of(m, "?") for k in ("solver", "status", "gap")}
    rows["placement"] = f"{place['solver']}, {place['status']} (solver gap {place['gap']})"
    if c.schedule is not None:  # a schedule that fails its check raises before this point;
        # the check is skipped only with the functional check (check="none")
        rows["schedule check"] = ("PASS (dependencies, capacities, one op per resource)"
                                  if c.functional is not None else "not run (check none)")
    if sim.get("simulated"):
        rows["simulator"] = _agreement(sim["simulated"])
    if c.functional is not None:
        rows["functional check"] = (f"{_verdict(c.functional['passed'])} (max error / bound "
                                    f"{c.functional['worst_error_over_bound']:.3g})")
    rows["compile time"] = human(sum(dt for _, dt in c.stages), "s")
    return rows


def numbers(name: str, rep: dict) -> dict:
    """The figures a comparison row shows, from a report's simulation dict."""
    return {"name": name, "latency_s": rep["latency_seconds"],
            "interval_cycles": rep["interval_cycles"],
            "samples_per_second": rep["samples_per_second"], "energy_j": rep["total_energy"],
            "used_mm2": (rep.get("area") or {}).get("used_mm2", 0.0),
            "crossbars_used": rep.get("crossbars_used", 0)}
