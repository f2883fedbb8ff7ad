"""Handlers of the `pimc` subcommands; each returns the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ir.errors import PimcError

SPLIT_MARKER = "// -----"


def _emit(module, output: str | None) -> None:
    from ir.io import save
    from ir.text import print_module

    if output:
        save(module, output)
    else:
        sys.stdout.write(print_module(module))


def cmd_import(args: argparse.Namespace) -> int:
    from compiler.cli_checks import check_dims, check_output, need_kind, parse_dims
    from frontend.onnx import import_onnx, load_onnx

    need_kind(args.model, "onnx")
    check_output(args.output, ".pir")
    dims, model = parse_dims(args.dim), args.model
    if dims and Path(model).is_file():  # names checked against the model before importing
        model = load_onnx(args.model)
        check_dims(model, dims)
    module = import_onnx(model, batch=args.batch, dims=dims, fold=not args.no_fold,
                         name=Path(args.model).stem)
    _emit(module, args.output)
    return 0


def _chunks(text: str, split: bool) -> list[str]:
    """Input chunks; each keeps its original line numbers (padded with blank lines)."""
    if not split:
        return [text]
    chunks, line = [], 0
    for part in text.split(SPLIT_MARKER + "\n"):
        chunks.append("\n" * line + part)
        line += part.count("\n") + 1
    return chunks


def _read_input(path: str) -> tuple[str, dict | None, str]:
    from ir.io import read

    if path == "-":
        return sys.stdin.read(), None, "<stdin>"
    text, weights = read(path)
    return text, weights, path


def _verify_input(module, file: str) -> None:
    from ir.verify import verify

    try:
        verify(module)
    except PimcError as exc:
        raise PimcError(exc.message, f"{file}: {exc.where}" if exc.where else file) from None


def cmd_opt(args: argparse.Namespace) -> int:
    from compiler.cli_checks import check_output, need_kind
    from ir.text import parse, print_module
    from passes.manager import PassManager, PassTimer, PrintIRAfterAll
    from passes.pipeline import parse_pipeline

    need_kind(args.input, "ir")
    check_output(args.output, ".pir")
    passes = parse_pipeline(args.pipeline)
    text, weights, name = _read_input(args.input)
    chunks = _chunks(text, args.split_input_file)
    if args.output and len(chunks) > 1:
        raise PimcError("-o takes one module; drop --split-input-file or -o")
    timer = PassTimer()
    instruments = [PrintIRAfterAll(sys.stderr)] if args.print_ir_after_all else []
    outputs = []
    for chunk in chunks:
        module = parse(chunk, weights, file=name)
        if not args.no_verify:
            _verify_input(module, name)
        PassManager(passes, not args.no_verify, [*instruments, timer]).run(module)
        outputs.append(module)
    if args.time_passes:
        sys.stderr.write(timer.report())
    if args.output:
        _emit(outputs[0], args.output)
    else:
        sys.stdout.write((SPLIT_MARKER + "\n").join(print_module(m) for m in outputs))
    return 0


def load_inputs(path: str) -> dict[str, np.ndarray]:
    from ir.io import read_npz

    if not Path(path).exists():
        raise PimcError("no such file", path)
    return read_npz(Path(path))


def cmd_run(args: argparse.Namespace) -> int:
    from compiler._feed_check import check_feed
    from compiler.cli_checks import check_output, need_kind
    from ir import interp
    from ir.io import atomic_write, load, write_npz

    need_kind(args.input, "ir")
    need_kind(args.inputs, "npz")
    check_output(args.output, ".npz")
    module = load(args.input)
    _verify_input(module, args.input)
    graph = module.main
    feed = load_inputs(args.inputs)
    check_feed(graph, feed, args.inputs)
    outs = interp.run(graph, feed)
    named = dict(zip(graph.output_names, outs))
    if args.output:
        atomic_write(args.output, lambda tmp: write_npz(named, tmp))
        return 0
    for key, value in named.items():
        print(f"{key}: {value.dtype}{list(value.shape)}")
        print(np.array2string(value, threshold=64, precision=6))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from compiler.demo import DEFAULT_PIPELINE, run_demo

    stages = run_demo(Path(args.output), batch=args.batch,
                      pipeline=args.pipeline if args.pipeline is not None else DEFAULT_PIPELINE,
                      target=args.target)
    worst = max(s.max_rel_err for s in stages)
    if worst > 1e-4:
        raise PimcError(f"functional check failed: max relative error {worst:.2e} > 1e-4")
    return 0


def _summary(rows: dict[str, object]) -> str:
    width = max(len(k) for k in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows.items())


def cmd_compile(args: argparse.Namespace) -> int:
    from compiler._deadline import Deadline, guard
    from compiler._outdir import OutputFolder
    from compiler.artifacts import ARTIFACTS, summary_rows
    from compiler.cli_checks import precheck_compile
    from compiler.compare import kept_stage
    from compiler.driver import compile

    dims = precheck_compile(args)
    # the output folder is checked and locked before any work, and held until it is written
    with OutputFolder(args.output, ARTIFACTS) as folder:
        inputs = load_inputs(args.inputs) if args.inputs else None
        clock = Deadline(args.deadline)
        with guard(clock):
            result = compile(args.model, args.target, batch=args.batch,
                             objective=args.objective, pipeline=args.pipeline,
                             precision=args.precision, inputs=inputs, emit=args.emit,
                             time_limit=args.time_limit, seed=args.seed, dims=dims,
                             check=not args.no_check, say=lambda s: print(s, file=sys.stderr),
                             deadline=clock, profile=args.profile, keep=kept_stage(args))
        for note in result.notes:
            print(f"pimc: note: {note}", file=sys.stderr)
        for warning in result.warnings:
            print(f"pimc: warning: {warning}", file=sys.stderr)
        if result.schedule is not None:
            from compiler.compare import compared

            result.compared = compared(args, result, dims)
        written = result.write(args.output, folder)
    print(f"wrote {', '.join(p.name for p in written)} to {args.output}", file=sys.stderr)
    if result.schedule is not None:
        print(_summary(summary_rows(result)))
        _print_compared(result)
    elif result.stage != "scheduled":
        print(f"stopped after '{result.stage}' (--emit): {args.output} holds mapped.pir only; "
              "no schedule or report until a compile runs to the end", file=sys.stderr)
    return 0


def _print_compared(result) -> None:
    from compiler.summary import numbers

    mine = numbers("", result.report)
    for row in result.compared:
        ratios = ", ".join(f"{k} {row[key] / mine[key]:.2f}x" for k, key in (
            ("latency", "latency_s"), ("interval", "interval_cycles"), ("energy", "energy_j"))
            if mine[key])
        print(f"  compared: {row['name']}: {ratios} (its value / this mapping's)")


def cmd_simulate(args: argparse.Namespace) -> int:
    from compiler.checker import check_schedule, load_schedule
    from compiler.cli_checks import need_kind, no_schedule_reason
    from compiler.mapped_report import report_of
    from compiler.simulator import compare, simulate
    from compiler.verify_folder import verify_folder
    from ir.io import load

    path = Path(args.input)
    folder = path if path.is_dir() else path.parent
    need_kind(str(path), "ir")
    no_schedule_reason(folder)
    module = load(folder / "mapped.pir" if path.is_dir() else path)
    _verify_input(module, str(path))
    schedule = load_schedule(folder / "schedule.json")
    errors = check_schedule(schedule)
    if errors:
        raise PimcError(f"schedule check failed ({len(errors)} problems): {errors[0]}",
                        str(folder / "schedule.json"))
    verified = verify_folder(folder, module, schedule)
    report = report_of(module).to_dict()
    sim = simulate(schedule, module)
    for warning in compare(sim, schedule):
        print(f"pimc: warning: {warning}", file=sys.stderr)
    _print_simulation(report, sim, schedule, verified)
    return 0


def _print_simulation(report: dict, sim, schedule: dict, verified: str) -> None:
    """The schedule's figures, the simulator's, and a verdict per check, in human units."""
    from compiler.summary import _agreement, _sim_rows
    from compiler.units import human

    rows = {"target": report["target"], "batch": report["batch"], **_sim_rows(report),
            "schedule check": "PASS (dependencies, capacities, one op per resource)",
            "folder": f"PASS (verified: {verified})", "simulator": _agreement(sim.to_dict())}
    print(_summary(rows))
    clock = float(schedule["target"]["clock_hz"])
    b, d = sim.binding, sim.difference_percent
    print(f"simulated ({sim.batches} batches, event-driven):")
    print(_summary({
        "latency": f"{human(sim.latency_cycles / clock, 's')} ({sim.latency_cycles:,} cycles; "
                   f"schedule {schedule['latency']:,}, {_percent(d.get('latency'))})",
        "interval": f"{human(sim.interval_cycles / clock, 's')} ({sim.interval_cycles:,} "
                    f"cycles; schedule {schedule['interval']:,}, "
                    f"{_percent(d.get('interval'))})",
        "throughput": human(sim.samples_per_second, "samples/s"),
        "energy / batch": human(sim.energy_j, "J"),
        "binding": f"{b.get('resource', 'none')} (op {b.get('op', '-')}, busy "
                   f"{100 * b.get('busy_fraction', 0):.1f}% of the interval)",
    }))


def _percent(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.2f}%"
