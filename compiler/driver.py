"""`compile(model, target, ...) -> Compiled`: the whole flow as a straight list of stages.

import -> fused -> precision -> partitioned -> tiled -> placed -> scheduled, then the
independent schedule check, the simulator and the functional check (the pim-level
interpreter against ONNX Runtime on the original model, within the error bound that follows
from the precisions). `emit` stops after any stage. Nothing is written here; `Compiled.write`
writes the artifacts.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compiler._deadline import Deadline, DeadlineCheck
from compiler._threads import blas_one_thread
from compiler.pipelines import EMIT_CHOICES, STAGES, stage_specs
from ir.core import Module
from ir.dialects.pim_attrs import PLACE_FACTS
from ir.errors import PimcError
from passes._gc_pause import gc_paused

__all__ = ["CHECKS", "Compiled", "compile", "continue_compile", "OBJECTIVES", "REPORTS"]

OBJECTIVES = ("latency", "throughput", "energy", "mix")
CHECKS = ("none", "final", "full")  # see _check_level and docs/api.md
REPORTS = ("full", "costs")  # see compile and docs/api.md


@dataclass
class Compiled:
    """What a compile produced; `write(folder)` saves it."""

    module: Module
    target: str
    stage: str
    model_name: str = "model"
    schedule: dict | None = None
    report: dict = field(default_factory=dict)
    functional: dict | None = None
    stages: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inputs: dict[str, np.ndarray] | None = None  # what the functional check ran on
    reference: dict[str, np.ndarray] | None = None  # ONNX Runtime's outputs on them
    compared: list[dict] = field(default_factory=list)  # other mappings, for report.html
    kept: Module | None = None  # compile(keep=STAGE): the module as it was after STAGE
    scope: str = "full"  # compile(report=...): "costs" keeps the figures only (no artifacts)

    def write(self, out: str | Path, folder=None) -> list[Path]:
        """Write the artifacts as folder `out` (`folder`: an OutputFolder already held)."""
        from compiler.artifacts import write_artifacts

        if self.scope != "full":
            raise PimcError(f"a compile with report '{self.scope}' has no artifacts to write; "
                            "accepted: a compile with report 'full' (the default)")
        return write_artifacts(self, Path(out), folder)

    def release(self) -> None:
        """Give up the IR (`module` and `kept` become None) with its op-value links broken
        (``Module.release``), so dropping this result frees it by reference counting at once:
        for a caller that reads the figures and moves on, such as the search loop
        (``search.evaluate.loop_cost``). The schedule and the report stay."""
        for module in (self.module, self.kept):
            if module is not None:
                module.release()
        self.module = self.kept = None


def _load_model(model: Any) -> tuple[Any, str]:
    """The model's proto, checked, with external data read from the model's own folder (the
    one ONNX reader of the importer: never relative to the current folder)."""
    import onnx

    from frontend.onnx import load_onnx

    if isinstance(model, onnx.ModelProto):
        return model, model.graph.name or "model"
    return load_onnx(model), Path(model).stem


def _run_stage(module: Module, spec: str, verify_each: bool = True,
               deadline: Deadline | None = None) -> None:
    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    checks = [DeadlineCheck(deadline)] if deadline is not None else []
    PassManager(parse_pipeline(spec), verify_each=verify_each, instruments=checks).run(module)


def _check_level(check: bool | str) -> str:
    """"full": the IR verified after every pass, the schedule checked and the functional check;
    "final": the same checks on the output only (the IR verified once, at the end); "none":
    none of them, for a search's inner loop. True and False mean "full" and "none"."""
    if isinstance(check, bool):
        return "full" if check else "none"
    if check not in CHECKS:
        raise PimcError(f"check '{check}'; accepted: {', '.join(CHECKS)} (or True/False)")
    return check


@dataclass
class _Flow:
    say: Callable[[str], None]
    deadline: Deadline = field(default_factory=lambda: Deadline(None))
    stages: list[tuple[str, float]] = field(default_factory=list)

    def step(self, name: str, total: int, fn: Callable[[], Any]) -> Any:
        self.deadline.stage = name
        self.deadline.check()
        t = time.perf_counter()
        out = fn()
        self.deadline.check()
        dt = time.perf_counter() - t
        self.stages.append((name, dt))
        self.say(f"[{len(self.stages)}/{total}] {name:<12} {dt * 1e3:8.1f} ms")
        return out


def _compile_scope(fn: Callable) -> Callable:
    """`fn` run with BLAS on one thread (compiler/_threads.py) and the cyclic collector paused
    (passes/_gc_pause.py), both as the caller had them afterwards; its signature kept."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with blas_one_thread(), gc_paused():
            return fn(*args, **kwargs)
    return wrapper


@_compile_scope
def compile(model: Any, target: str, batch: int | None = None, objective: str = "throughput",
            pipeline: str | None = None, precision: str | None = None,
            inputs: Mapping[str, np.ndarray] | None = None, emit: str | None = None,
            time_limit: float = 1.0, seed: int = 0, check: bool | str = "full",
            say: Callable[[str], None] = lambda s: None,
            deadline: float | Deadline | None = None,
            dims: Mapping[str, int] | None = None, profile: str | None = None,
            keep: str | None = None, report: str = "full") -> Compiled:
    """Compile an ONNX model (path or ModelProto) for `target` (preset name or YAML path);
    `check` is "full", "final" or "none" (see `_check_level`); past `deadline` seconds (or a
    Deadline) the compile stops with a PimcError naming the stage; `profile`: an .npz of
    per-row lookup counts by embedding bag (``pimc profile``) that shards tables by load and
    replicates hot rows; `keep`: a stage whose module is copied into `Compiled.kept` as it
    was after that stage, for `continue_compile` (another mapping of the same front end);
    `report`: "full", or "costs" (check "none" only): a search loop's figures, with nothing
    to write (docs/api.md)."""
    level = _check_level(check)
    _check_options(objective, emit, pipeline, keep, report, level)
    clock = deadline if isinstance(deadline, Deadline) else Deadline(deadline)
    from frontend.onnx import import_onnx
    from targets import load_target

    tgt = load_target(target)
    proto, name = _load_model(model)
    flow = _Flow(say, clock)
    total = 1 + (1 if pipeline is not None else len(stage_specs("", "", 0, 0))) + \
        (3 if emit is None else 0)
    module = flow.step("import", total, lambda: import_onnx(
        proto, batch=batch, dims=dims, name=name, verify_ir=level == "full"))
    result = Compiled(module, tgt.name, "ir", name, stages=flow.stages, scope=report)
    if emit == "ir":
        return result
    if _figures_only(pipeline, inputs, level, report, keep):
        # nothing reads a feed: the given pipeline calibrates on its own inputs, no check
        # runs, nothing is written and nothing continues from this module
        if _run_stages(result, [("passes", pipeline)], flow, total, False, keep, emit):
            return result
        _finish(result, proto, tgt, objective, (None, False), level, flow, total)
        return result
    from compiler._outdir import scratch_prefix, sweep_scratch

    sweep_scratch()  # what a killed compile left in the temp folder
    with tempfile.TemporaryDirectory(prefix=scratch_prefix()) as tmp:
        feed = _feed(module, inputs, Path(tmp) / "inputs.npz", seed)
        calib = f"inputs={Path(tmp) / 'inputs.npz'}"
        bits = precision or f"default={tgt.precision.weights}"  # the target's own default
        options = f"{bits},{calib}"
        stages = ([("passes", pipeline)] if pipeline is not None
                  else stage_specs(target, objective, min(time_limit, clock.left() / 2), seed,
                                   options, profile))  # CP-SAT gets half of what is left
        if _run_stages(result, stages, flow, total, level == "full", keep, emit):
            return result
    if level == "final":
        from ir.verify import verify

        verify(module)
    _finish(result, proto, tgt, objective, (feed, inputs is not None), level, flow, total)
    return result


def _figures_only(pipeline: str | None, inputs, level: str, report: str,
                  keep: str | None) -> bool:
    """Whether a compile needs no inputs of its own: a given pipeline (whose passes calibrate
    on their own inputs), none given, no check, the figures only and nothing kept: what a
    search loop compiles (``search.evaluate.loop_cost``). The driver's seeded inputs and the
    scratch folder they were saved to for the default pipeline's calibration were 1.7% of
    such a compile, for nobody (nasrec-float candidates on isaac)."""
    return pipeline is not None and inputs is None and level == "none" and \
        report == "costs" and keep is None


def _run_stages(result: Compiled, stages: list[tuple[str, str]], flow: _Flow, total: int,
                verify_each: bool, keep: str | None, emit: str | None) -> bool:
    """Run each (stage, pipeline) of `stages` on the result's module, keeping a copy after
    `keep`; True once `emit` stops it after a stage."""
    module = result.module
    for stage, spec in stages:
        flow.step(stage, total,
                  lambda spec=spec: _run_stage(module, spec, verify_each, flow.deadline))
        result.stage = stage
        if keep == stage:
            result.kept = module.clone()
        if emit == stage:
            module.analyses.clear()  # the caller's module: as a parsed one would be
            return True
    return False


def _check_options(objective: str, emit: str | None, pipeline: str | None,
                   keep: str | None, report: str, level: str) -> None:
    """compile's options that name something, each against what it accepts."""
    if report not in REPORTS:
        raise PimcError(f"report '{report}'; accepted: {', '.join(REPORTS)}")
    if report == "costs" and level != "none":
        raise PimcError(f"report 'costs' with check '{level}': the checks read the whole "
                        "schedule; accepted: report 'costs' with check 'none', or report 'full'")
    if keep is not None and (pipeline is not None or keep not in dict(STAGES)):
        raise PimcError(f"keep '{keep}'; accepted: a stage of the default pipeline "
                        f"({', '.join(name for name, _ in STAGES)})")
    if objective not in OBJECTIVES:
        raise PimcError(f"objective '{objective}'; accepted: {', '.join(OBJECTIVES)}")
    if emit is not None and emit not in EMIT_CHOICES:
        raise PimcError(f"--emit {emit}; accepted: {', '.join(EMIT_CHOICES)}")


@_compile_scope
def continue_compile(kept: Module, target: str, pipeline: str, objective: str,
                     inputs: Mapping[str, np.ndarray], name: str = "model") -> Compiled:
    """The rest of a compile, unchecked, from a module `compile(keep=...)` kept (which this
    rewrites): `pipeline` (the stages after the kept one, e.g. another placement), then the
    schedule and the simulator; `inputs` are the kept compile's. For a yardstick such as the
    naive mapping of `pimc compile --compare`: the checks need the ONNX model, and a checked
    mapping is compiled from it."""
    from targets import load_target

    tgt = load_target(target)
    flow = _Flow(lambda s: None)
    flow.step("passes", 3, lambda: _run_stage(kept, pipeline, False, flow.deadline))
    result = Compiled(kept, tgt.name, "scheduled", name, stages=flow.stages)
    _finish(result, None, tgt, objective, (dict(inputs), True), "none", flow, 3)
    return result


def _feed(module: Module, inputs: Mapping[str, np.ndarray] | None, path: Path,
          seed: int) -> dict[str, np.ndarray]:
    """The inputs that calibrate precisions and feed the functional check: the given ones,
    or seeded generated ones that respect every index range; saved to `path` for the pass."""
    from ir.io import write_npz
    from ir.sample_inputs import sample_inputs

    if inputs is not None:
        from compiler._feed_check import check_feed

        check_feed(module.main, inputs, "inputs")
    feed = dict(inputs) if inputs is not None else sample_inputs(module.main, seed=seed)
    write_npz(feed, path)
    return feed


def _finish(result: Compiled, proto, tgt, objective: str, inputs, check: str, flow: _Flow,
            total: int) -> None:
    from compiler.checker import check_schedule
    from compiler.mapped_report import cost_figures, report_of
    from compiler.schedule_json import schedule_dict

    module, full = result.module, result.scope == "full"
    fallback = PLACE_FACTS["fallback"].of(module, None)
    if fallback:  # an optimal heuristic is news, not a warning
        optimal = PLACE_FACTS["status"].of(module, None) == "optimal"
        (result.notes if optimal else result.warnings).append(f"placement: {fallback}")

    def checked() -> dict:
        sched = schedule_dict(module, tgt, objective, tiles=full)
        errors = check_schedule(sched) if check != "none" else []
        if errors:
            raise PimcError(f"schedule check failed ({len(errors)} problems): {errors[0]}")
        return sched

    def simulated() -> dict:  # the scheduler's estimate, and the event-driven re-derivation
        from compiler.simulator import compare, simulate

        report = report_of(module).to_dict() if full else cost_figures(module)
        sim = simulate(result.schedule, module)
        result.warnings.extend(compare(sim, result.schedule))
        report["simulated"] = sim.to_dict()
        return report

    result.schedule = flow.step("check", total, checked)
    result.report = flow.step("simulate", total, simulated)
    result.inputs = None if inputs[0] is None else dict(inputs[0])
    if check != "none":
        from compiler.functional import functional_check
        from compiler.verify_folder import reference_record

        def checked_outputs() -> dict:  # the reference is kept so the folder re-checks itself
            result.reference = reference_record(module, proto, inputs[0])
            return functional_check(module, proto, *inputs, reference=result.reference)

        result.functional = flow.step("functional", total, checked_outputs)
        if not result.functional["passed"]:
            raise PimcError("functional check failed: " + result.functional["detail"])
