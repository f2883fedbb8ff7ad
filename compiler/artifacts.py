"""The files `pimc compile` writes: mapped.pir (+ .npz), schedule.json, report.json and
report.html. Everything is written to a temporary folder first and moved into place at the
end, so a failure leaves no half-written output."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.errors import PimcError

if TYPE_CHECKING:
    from compiler.driver import Compiled

__all__ = ["ARTIFACTS", "write_artifacts", "report_dict", "summary_rows"]

ARTIFACTS = ("mapped.pir", "mapped.npz", "schedule.json", "report.json", "report.html")


def _attrs(module, prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in sorted(module.attrs.items()) if k.startswith(prefix)}


def report_dict(c: Compiled) -> dict:
    """report.json: the simulator's report plus how the mapping was made and checked."""
    m = c.module
    return {
        "model": c.model_name, "target": c.target, "stage": c.stage,
        "batch": m.attrs.get("pim.batch"),
        "placement": _attrs(m, "pim.place."), "bound": _attrs(m, "pim.bound."),
        "simulation": c.report, "functional_check": c.functional, "warnings": c.warnings,
        "stages_ms": {name: round(dt * 1e3, 3) for name, dt in c.stages},
    }


def summary_rows(c: Compiled) -> dict[str, object]:
    """The few numbers the summary table and the HTML page lead with."""
    sim, m = c.report, c.module
    rows: dict[str, object] = {"model": c.model_name, "target": c.target,
                               "batch": m.attrs.get("pim.batch")}
    for key in ("latency_cycles", "latency_s", "throughput_samples_per_s", "energy_j",
                "area_mm2", "crossbar_utilisation", "bank_utilisation", "bound_gap"):
        if key in sim:
            rows[key] = sim[key]
    rows["placement"] = f"{m.attrs.get('pim.place.solver', '?')} " \
                        f"(gap {m.attrs.get('pim.place.gap', '?')})"
    if c.functional is not None:
        rows["functional check"] = ("passed" if c.functional["passed"] else "FAILED") + \
            f" (error/bound {c.functional['worst_error_over_bound']:.3g})"
    rows["compile ms"] = round(sum(dt for _, dt in c.stages) * 1e3, 1)
    return rows


def _per_op(sim: dict) -> list[dict]:
    return [{"name": p.get("name", "?"), "cycles": p.get("cycles", 0.0),
             "energy": p.get("energy", {})} for p in sim.get("per_op", [])]


def write_artifacts(c: Compiled, out: Path) -> list[Path]:
    """Write the artifacts of `c` into folder `out`; returns the paths written."""
    from compiler.report_html import render_report
    from ir.io import save

    if out.exists() and not out.is_dir():
        raise PimcError("output exists and is not a folder", str(out))
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pimc-", dir=out))
    try:
        save(c.module, tmp / "mapped.pir")
        if c.schedule is not None:
            (tmp / "schedule.json").write_text(json.dumps(c.schedule, indent=1, sort_keys=True))
            (tmp / "report.json").write_text(json.dumps(report_dict(c), indent=1,
                                                        sort_keys=True, default=str))
            (tmp / "report.html").write_text(render_report(summary_rows(c), _per_op(c.report),
                                                           c.schedule))
        for name in ARTIFACTS:  # a shorter run (--emit) must not leave stale files behind
            if not (tmp / name).exists():
                (out / name).unlink(missing_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            f.replace(out / f.name)
            written.append(out / f.name)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
