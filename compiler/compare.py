"""What `pimc compile --compare` adds to the report: the same model compiled again in the same
call, with the naive mapping (tiles placed in op order, no replication: the baseline the
literature compares against) or for other targets, reduced to the numbers the report's
comparison table shows. These extra compiles skip the functional check: they are yardsticks,
not outputs. The naive mapping continues from the compile's own tiled module (`kept_stage`)
where the front ends agree, rather than compiling the model a second time."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

__all__ = ["compared"]


_FORK = "tiled"  # the naive mapping differs from the default from placement on


def kept_stage(args: argparse.Namespace) -> str | None:
    """The stage after which `pimc compile` keeps its module for the naive comparison to
    continue from: the default pipeline's front end is the naive one's (the same model,
    inputs, precisions and seed), so redoing it would only cost time (a third of a small
    compile). None where the front ends differ (--pipeline, --profile) or nothing is naive."""
    from compiler.cli_checks import compare_specs

    if "naive" not in compare_specs(args.compare) or args.pipeline or args.profile or \
            args.emit:
        return None
    return _FORK


def _naive_specs(args: argparse.Namespace, calibration: Path | None) -> list[tuple[str, str]]:
    from compiler.pipelines import stage_specs
    from targets import load_target

    bits = args.precision or f"default={load_target(args.target).precision.weights}"
    calibrated = bits if calibration is None else f"{bits},inputs={calibration}"
    return stage_specs(args.target, args.objective, args.time_limit, args.seed, calibrated,
                       solver="naive")


def _naive(args: argparse.Namespace, result, common: dict):
    """The naive mapping: continued from the compile's kept module, or compiled afresh."""
    from compiler.driver import compile, continue_compile
    from ir.io import write_npz

    if result.kept is not None:
        specs = _naive_specs(args, None)
        after = [name for name, _ in specs].index(_FORK) + 1
        kept, result.kept = result.kept, None  # rewritten in place: used once
        return continue_compile(kept, args.target, ",".join(s for _, s in specs[after:]),
                                args.objective, result.inputs or {}, result.model_name)
    with tempfile.TemporaryDirectory(prefix="pimc-compare-") as tmp:
        write_npz(result.inputs or {}, Path(tmp) / "inputs.npz")
        pipeline = ",".join(s for _, s in _naive_specs(args, Path(tmp) / "inputs.npz"))
        return compile(args.model, args.target, pipeline=pipeline, **common)


def compared(args: argparse.Namespace, result, dims: dict[str, int]) -> list[dict]:
    """One row per `--compare` item (see the module docstring)."""
    from compiler.cli_checks import compare_specs
    from compiler.driver import compile
    from compiler.summary import numbers

    rows = []
    for item in compare_specs(args.compare):
        common = dict(batch=args.batch, objective=args.objective, inputs=result.inputs,
                      seed=args.seed, check="none", dims=dims)
        if item == "naive":
            other = _naive(args, result, common)
            name = f"naive mapping on {result.target}"
        else:
            other = compile(args.model, item, precision=args.precision,
                            time_limit=args.time_limit, **common)
            name = f"{other.target} (default mapping)"
        if other.report:
            rows.append(numbers(name, other.report))
    return rows
