"""`pimc demo`: the whole flow on the built-in default, no data file needed.

A small DLRM (frontend.builtin) on synthetic Criteo-like rows (frontend.synthetic) is
written as ONNX, imported, fused (checked against ONNX Runtime after every pass), then
compiled for a PIM target with the functional check on the same rows. Everything it writes
goes to one output folder: model.onnx, inputs.npz, imported.pir, optimized.pir and the
compile artifacts (mapped.pir, schedule.json, report.json, report.html).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ir.core import Module

__all__ = ["DEFAULT_PIPELINE", "run_demo"]

DEFAULT_PIPELINE = "canonicalize,fuse-interactions"


@dataclass
class Stage:
    name: str
    ops: int
    rec_ops: str
    max_rel_err: float
    seconds: float


def _rel_err(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    worst = 0.0
    for g, w in zip(got, want):
        scale = np.maximum(np.abs(w), 1e-6)
        worst = max(worst, float(np.max(np.abs(g - w) / scale)))
    return worst


def _stage(name: str, module: Module, inputs, want, seconds: float) -> Stage:
    from ir import interp

    got = interp.run(module.main, inputs)
    rec = Counter(op.name for op in module.main.ops if op.name.startswith("rec."))
    summary = ", ".join(f"{k.removeprefix('rec.')}x{v}" for k, v in sorted(rec.items()))
    return Stage(name, len(module.main.ops), summary or "-", _rel_err(got, want), seconds)


def _table(stages: list[Stage]) -> str:
    rows = [("stage", "ops", "rec ops", "max rel err vs ORT", "ms")]
    rows += [(s.name, str(s.ops), s.rec_ops, f"{s.max_rel_err:.2e}", f"{s.seconds * 1e3:.1f}")
             for s in stages]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def run_demo(out: Path, batch: int = 64, pipeline: str = DEFAULT_PIPELINE, seed: int = 0,
             target: str = "hetero", say=print) -> list[Stage]:
    """Run the demo into folder `out`; returns the per-stage summary."""
    import onnx
    import onnxruntime as ort

    from frontend.builtin import DEMO_TABLES, DLRMSpec, dlrm_onnx
    from frontend.onnx import import_onnx
    from frontend.synthetic import SyntheticCTR
    from ir.io import save
    from passes.manager import PassManager, PassTimer
    from passes.pipeline import parse_pipeline

    out.mkdir(parents=True, exist_ok=True)
    model = dlrm_onnx(DLRMSpec(seed=seed))
    onnx.save(model, out / "model.onnx")
    data = SyntheticCTR(table_sizes=DEMO_TABLES, seed=seed).batch(batch)
    inputs = {"dense": data.dense, "sparse": data.sparse}
    np.savez(out / "inputs.npz", **inputs)
    say(f"[1/4] built-in DLRM ({len(model.graph.node)} ONNX nodes) and {batch} synthetic rows "
        f"(positive rate {data.label.mean():.2f}) -> {out}")
    want = ort.InferenceSession(model.SerializeToString()).run(None, inputs)

    t = time.perf_counter()
    module = import_onnx(out / "model.onnx", batch=batch)
    stages = [_stage("import", module, inputs, want, time.perf_counter() - t)]
    save(module, out / "imported.pir")
    say(f"[2/4] imported -> {out / 'imported.pir'}")

    timer = PassTimer()
    for p in parse_pipeline(pipeline):
        PassManager([p], instruments=[timer]).run(module)
        stages.append(_stage(p.name, module, inputs, want, timer.times[-1][1]))
    save(module, out / "optimized.pir")
    say(f"[3/4] {pipeline} -> {out / 'optimized.pir'}")
    say(_table(stages))
    _compile(out, target, batch, inputs, say)
    return stages


def _compile(out: Path, target: str, batch: int, inputs, say) -> None:
    from compiler.artifacts import summary_rows
    from compiler.driver import compile

    say(f"[4/4] pimc compile model.onnx --target {target} --batch {batch}")
    c = compile(out / "model.onnx", target, batch=batch, inputs=inputs,
                say=lambda s: say("      " + s))
    for note in c.notes + c.warnings:
        say(f"      {note}")
    c.write(out)
    rows = summary_rows(c)
    width = max(len(k) for k in rows)
    say("\n".join(f"  {k:<{width}}  {v}" for k, v in rows.items()))
    say(f"open {out / 'report.html'} for the plots; schedule in {out / 'schedule.json'}")
