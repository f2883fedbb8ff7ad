"""What `pimc compile --compare` adds to the report: the same model compiled again in the same
call, with the naive mapping (tiles placed in op order, no replication: the baseline the
literature compares against) or for other targets, reduced to the numbers the report's
comparison table shows. These extra compiles skip the functional check: they are yardsticks,
not outputs."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

__all__ = ["compared"]


def _naive_pipeline(args: argparse.Namespace, calibration: Path) -> str:
    from compiler.pipelines import stage_specs
    from targets import load_target

    bits = args.precision or f"default={load_target(args.target).precision.weights}"
    specs = stage_specs(args.target, args.objective, args.time_limit, args.seed,
                        f"{bits},inputs={calibration}")
    return ",".join(spec.replace("place{", "place{solver=naive,", 1) for _, spec in specs)


def compared(args: argparse.Namespace, result, dims: dict[str, int]) -> list[dict]:
    """One row per `--compare` item (see the module docstring)."""
    from compiler.cli_checks import compare_specs
    from compiler.driver import compile
    from compiler.summary import numbers
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
