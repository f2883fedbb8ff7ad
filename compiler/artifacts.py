"""The files `pimc compile` writes: mapped.pir (+ .npz), schedule.json, report.json,
report.html, the functional check's inputs.npz and reference.npz, and manifest.json (written
last). The whole folder is built beside the target and swapped in at once, under a lock
(compiler/_outdir.py), so a failure or a kill never leaves a half-written or mixed output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.units import human, percent
from ir.dialects.pim_attrs import BATCH, LOWER_BOUND_FACTS, PLACE_FACTS, group_values

if TYPE_CHECKING:
    from compiler._outdir import OutputFolder
    from compiler.driver import Compiled

__all__ = ["ARTIFACTS", "write_artifacts", "report_dict", "simulated_line", "summary_rows"]

ARTIFACTS = ("mapped.pir", "mapped.npz", "schedule.json", "report.json", "report.html",
             "inputs.npz", "reference.npz", "manifest.json")


def report_dict(c: Compiled) -> dict:
    """report.json: the simulator's report plus how the mapping was made and checked."""
    m = c.module
    return {
        "model": c.model_name, "target": c.target, "stage": c.stage,
        "batch": BATCH.of(m, None),
        "placement": dict(sorted(group_values(m, PLACE_FACTS).items())),
        "bound": dict(sorted(group_values(m, LOWER_BOUND_FACTS).items())),
        "simulation": {k: v for k, v in c.report.items() if k != "simulated"},
        "simulated": c.report.get("simulated"),
        "functional_check": c.functional, "warnings": c.warnings,
        "stages_ms": {name: round(dt * 1e3, 3) for name, dt in c.stages},
    }


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


def _per_op(c: Compiled) -> list[dict]:
    """Per source op (tiles and shards grouped): busy cycles and energy by component."""
    rows: dict[str, dict] = {}
    for op in (c.schedule or {}).get("ops", []):
        row = rows.setdefault(op["name"], {"name": op["name"], "cycles": 0, "energy": {}})
        row["cycles"] = max(row["cycles"], op["end"] - op["start"])
    for key, parts in c.report.get("energy_by_op", {}).items():
        name = key.split(":", 1)[1]
        row = rows.setdefault(name, {"name": name, "cycles": 0, "energy": {}})
        for comp, joules in parts.items():
            row["energy"][comp] = row["energy"].get(comp, 0.0) + joules
    return sorted(rows.values(), key=lambda r: -sum(r["energy"].values()))[:40]


def _fill(c: Compiled, folder: Path) -> None:
    """Every artifact of `c` into the (staging) `folder`, the manifest last."""
    from compiler._outdir import fault_point
    from compiler.report_html import render_report
    from compiler.verify_folder import write_manifest
    from ir.io import save, write_npz

    save(c.module, folder / "mapped.pir")
    fault_point("partial")
    if c.schedule is not None:
        (folder / "schedule.json").write_text(json.dumps(c.schedule, indent=1, sort_keys=True))
        (folder / "report.json").write_text(json.dumps(report_dict(c), indent=1,
                                                       sort_keys=True, default=str))
        (folder / "report.html").write_text(render_report(c))
    if c.schedule is not None and c.inputs is not None:
        write_npz(c.inputs, folder / "inputs.npz")
    if c.schedule is not None and c.reference is not None:
        write_npz(c.reference, folder / "reference.npz")
    write_manifest(folder)


def write_artifacts(c: Compiled, out: Path, folder: OutputFolder | None = None) -> list[Path]:
    """Write the artifacts of `c` as folder `out`, replacing it at once (see _outdir); pass
    `folder` when its lock is already held. Returns the paths written."""
    from compiler._outdir import OutputFolder

    if folder is not None:
        return folder.replace(lambda d: _fill(c, d))
    with OutputFolder(out, ARTIFACTS) as held:
        return held.replace(lambda d: _fill(c, d))
