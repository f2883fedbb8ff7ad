"""Mapping bench: naive, greedy and CP-SAT placements of the fixture models on isaac and hetero.

    .venv/bin/python bench/mapping.py [--batch 64] [--objective throughput] [--time-limit 1]

For every model and target: latency (cycles), throughput (samples/s) and network+compute energy
per batch (uJ) of each solver's scheduled program, the lower bound on the objective, CP-SAT's
gap to the bound (and its own reported gap) and placement time, the speedup of the best
placement over naive on the objective, and the in-process time of the whole pipeline (import
included; not the `pimc compile` process, which also pays Python start-up).
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = ("torchrec_dlrm_legacy", "deepctr_dcn_legacy", "deepctr_deepfm_legacy",
          "deepctr_autoint_legacy")
TARGETS = ("isaac", "hetero")
SOLVERS = ("naive", "greedy", "cp-sat")


def _run(module, spec: str):
    from passes.pipeline import parse_pipeline

    for p in parse_pipeline(spec):
        p.apply(module)
    return module


def _tiled(model: str, target: str, batch: int):
    from frontend.onnx import import_onnx

    m = import_onnx(str(ROOT / "tests/fixtures/onnx" / f"{model}.onnx"), batch=batch)
    return _run(m, f"canonicalize,fuse-interactions,assign-precision,partition{{target={target}}},"
                   "tile")


def _row(model: str, target: str, args) -> list[str]:
    from ir.errors import PimcError
    from compiler.mapped_report import report_of

    t0 = time.perf_counter()
    try:
        tiled = _tiled(model, target, args.batch)
    except PimcError as exc:
        return [f"{model[:22]:22} {target:7} n/a: {str(exc)[:90]}"]
    key = "latency_cycles" if args.objective == "latency" else "interval_cycles"
    res, whole = {}, 0.0
    for solver in SOLVERS:
        m = copy.deepcopy(tiled)
        t1 = time.perf_counter()
        _run(m, f"place{{solver={solver},objective={args.objective},"
                f"time-limit={args.time_limit}}},schedule,lower-bound")
        res[solver] = (report_of(m).to_dict(), dict(m.attrs), time.perf_counter() - t1)
        if solver == "cp-sat":
            whole = time.perf_counter() - t0 - sum(r[2] for s, r in res.items() if s != "cp-sat")
    cells = []
    for solver in SOLVERS:
        rep = res[solver][0]
        cells.append(f"{rep['latency_cycles']:>8} {rep['samples_per_second']:>11.4g} "
                     f"{rep['total_energy'] * 1e6:>8.3f}")
    rep, attrs, secs = res["cp-sat"]
    low = rep["bound"]["latency" if args.objective == "latency" else "interval"]
    gap = (rep[key] - low) / max(1, rep[key])
    speed = res["naive"][0][key] / max(1, rep[key])
    return [f"{model[:22]:22} {target:7} " + " | ".join(cells)
            + f" | {low:>8} {gap:6.1%} {attrs.get('pim.place.gap', 0):6.1%} {secs:6.2f}"
            f" {speed:6.2f}x {whole:6.2f} {attrs.get('pim.place.solver')}"]


def _whole_process(model: str, target: str, repeat: int) -> str:
    """Best wall time of `pimc compile` (Python start-up and functional check included)."""
    best, status = float("inf"), "ok"
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "compiler", "compile",
                                   str(ROOT / "tests/fixtures/onnx" / f"{model}.onnx"),
                                   "--target", target, "--batch", "64", "-o", out],
                                  capture_output=True, text=True, cwd=ROOT)
            best = min(best, time.perf_counter() - t)
            if proc.returncode:
                status = proc.stderr.strip().splitlines()[-1][:80]
    return f"{model:24} {target:7} {best:7.2f} s  {status}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--objective", default="throughput", choices=("latency", "throughput"))
    ap.add_argument("--time-limit", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each whole-process compile")
    args = ap.parse_args()
    head = " | ".join(f"{s + ' lat':>8} {'samples/s':>11} {'uJ':>8}" for s in SOLVERS)
    print(f"objective {args.objective}, batch {args.batch}, CP-SAT time limit {args.time_limit} s")
    print(f"{'model':22} {'target':7} {head} | {'bound':>8} {'gap':>6} {'cpgap':>6} "
          f"{'cp s':>6} {'speedup':>7} {'total s':>6} kept")
    for model in MODELS:
        for target in TARGETS:
            for line in _row(model, target, args):
                print(line, flush=True)
    print("\nwhole-process `pimc compile --batch 64` (defaults, functional check included), "
          f"best of {args.repeat}:")
    for model in MODELS:
        for target in TARGETS:
            print(_whole_process(model, target, args.repeat), flush=True)


if __name__ == "__main__":
    main()
