"""What `pimc compile --compare` adds to the report: the same model compiled again in the same
call, with the naive mapping (tiles placed in op order, no replication: the baseline the
literature compares against) or for other targets, reduced to the numbers the report's
comparison table shows. These extra compiles skip the functional check: they are yardsticks,
not outputs."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ir.errors import PimcError

__all__ = ["compare_specs", "compared", "numbers"]


def compare_specs(text: str) -> list[str]:
    """`--compare` items: "naive" and target preset names ("none" for nothing)."""
    from compiler.cli_checks import preset_name
    from targets import list_targets

    items = [x.strip() for x in text.split(",") if x.strip()]
    if items == ["none"]:
        return []
    out = []
    for item in items:
        name = item if item == "naive" else preset_name(item)
        if name != "naive" and name not in list_targets() and not Path(name).is_file():
            raise PimcError(f"--compare '{item}': not 'naive', 'none' or a target; accepted: "
                            f"naive, {', '.join(list_targets())}, a target .yaml")
        out.append(name)
    return out


def numbers(name: str, rep: dict) -> dict:
    """The figures a comparison row shows, from a report's simulation dict."""
    return {"name": name, "latency_s": rep["latency_seconds"],
            "interval_cycles": rep["interval_cycles"],
            "samples_per_second": rep["samples_per_second"], "energy_j": rep["total_energy"],
            "used_mm2": (rep.get("area") or {}).get("used_mm2", 0.0),
            "crossbars_used": rep.get("crossbars_used", 0)}


def _naive_pipeline(args: argparse.Namespace, calibration: Path) -> str:
    from compiler.pipelines import stage_specs
    from targets import load_target

    bits = args.precision or f"default={load_target(args.target).precision.weights}"
    specs = stage_specs(args.target, args.objective, args.time_limit, args.seed,
                        f"{bits},inputs={calibration}")
    return ",".join(spec.replace("place{", "place{solver=naive,", 1) for _, spec in specs)


def compared(args: argparse.Namespace, result, dims: dict[str, int]) -> list[dict]:
    """One row per `--compare` item (see the module docstring)."""
    from compiler.driver import compile
    from ir.io import write_npz

    rows = []
    for item in compare_specs(args.compare):
        common = dict(batch=args.batch, objective=args.objective, inputs=result.inputs,
                      seed=args.seed, check="none", dims=dims)
        if item == "naive":
            with tempfile.TemporaryDirectory(prefix="pimc-compare-") as tmp:
                write_npz(result.inputs or {}, Path(tmp) / "inputs.npz")
                other = compile(args.model, args.target, pipeline=_naive_pipeline(
                    args, Path(tmp) / "inputs.npz"), **common)
            name = f"naive mapping on {result.target}"
        else:
            other = compile(args.model, item, precision=args.precision,
                            time_limit=args.time_limit, **common)
            name = f"{other.target} (default mapping)"
        if other.report:
            rows.append(numbers(name, other.report))
    return rows
