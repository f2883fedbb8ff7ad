"""The files `pimc compile` writes: mapped.pir (+ .npz, + .data: a copy of the model's
external data when its tables are mapped from it, see ir/io.py), schedule.json, report.json,
report.html, the functional check's inputs.npz and reference.npz, and manifest.json (written
last). The whole folder is built beside the target and swapped in at once, under a lock
(compiler/_outdir.py), so a failure or a kill never leaves a half-written or mixed output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.summary import simulated_line, summary_rows
from ir.dialects.pim_attrs import BATCH, LOWER_BOUND_FACTS, PLACE_FACTS, group_values

if TYPE_CHECKING:
    from compiler._outdir import OutputFolder
    from compiler.driver import Compiled

__all__ = ["ARTIFACTS", "write_artifacts", "report_dict", "simulated_line", "summary_rows"]

ARTIFACTS = ("mapped.pir", "mapped.npz", "mapped.data", "schedule.json", "report.json",
             "report.html", "inputs.npz", "reference.npz", "manifest.json")


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


def json_text(obj: dict, default=None) -> str:
    """`obj` as JSON with sorted keys, each top-level entry on a line of its own and each item
    of a top-level list or dict on a line of its own, every line written by json's C encoder
    (`indent=` takes the pure-Python one: a nasrec candidate's 12 MB schedule.json took 0.59 s
    that way, 0.11 s compact). The same values as `json.dumps(obj, sort_keys=True)`."""
    enc = json.JSONEncoder(sort_keys=True, default=default).encode

    def block(value, pad: str) -> str:
        if isinstance(value, list) and value:
            return "[\n" + ",\n".join(f"{pad} {enc(x)}" for x in value) + f"\n{pad}]"
        if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
            rows = (f"{pad} {enc(k)}: {block(v, pad + ' ') if pad == '' else enc(v)}"
                    for k, v in sorted(value.items()))
            return "{\n" + ",\n".join(rows) + f"\n{pad}}}"
        return enc(value)

    return block(obj, "")


def _fill(c: Compiled, folder: Path) -> None:
    """Every artifact of `c` into the (staging) `folder`, the manifest last."""
    from compiler._outdir import fault_point
    from compiler.report_html import render_report
    from compiler.verify_folder import write_manifest
    from ir.io import save, write_npz

    save(c.module, folder / "mapped.pir")
    fault_point("partial")
    if c.schedule is not None:
        (folder / "schedule.json").write_text(json_text(c.schedule))
        (folder / "report.json").write_text(json_text(report_dict(c), default=str))
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
