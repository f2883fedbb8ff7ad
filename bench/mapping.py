"""Mapping bench: naive, greedy and CP-SAT placements, the lower bound, the scheduler against the
event-driven simulator, and the area each mapping uses.

    .venv/bin/python bench/mapping.py [--batch 64] [--objective throughput] [--time-limit 1]
                                      [--nasrec 20] [--targets isaac,puma,hetero,hbm-pim]

Models: the zoo's four families as real exports from the fixture corpus (DLRM, DCNv2 = torchrec
DLRM with a DCN-v2 interaction, DeepFM, AutoInt) and `--nasrec N` seeded architectures of the
`nasrec` space (mixed precisions) exported from an untrained supernet (their costs do not
depend on the weights' values).

"naive" is the baseline the literature compares against: every crossbar op's weight tiles laid
in graph order on consecutive crossbars, one copy each (no replication), embedding shards on
banks by expected lookups, digital ops on their first producer's chip tile. "greedy" grows the
replica count of the slowest crossbar op while crossbars last; CP-SAT starts from greedy and is
kept only when it scores better on the objective. All three are scheduled by the same list
scheduler (link contention, off-chip I/O and bank parallelism included) and re-derived by the
event-driven simulator (`sim` columns, with the difference to the schedule). "bound" is the
lower bound on the objective over every placement; "x naive" the best placement's gain over
naive on the objective; "used" the area the best mapping occupies of the chip's.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ZOO = {"DLRM": "torchrec_dlrm_legacy", "DCNv2": "torchrec_dlrm_dcn_legacy",
       "DeepFM": "deepctr_deepfm_legacy", "AutoInt": "deepctr_autoint_legacy"}
SOLVERS = ("naive", "greedy", "cp-sat")
TABLES = [1000, 500, 200, 100, 50, 20, 10, 5]


def _run(module, spec: str):
    from passes.pipeline import parse_pipeline

    for p in parse_pipeline(spec):
        p.apply(module)
    return module


def _tiled(proto, target: str, batch: int):
    from frontend.onnx import import_onnx

    m = import_onnx(proto, batch=batch)
    return _run(m, f"canonicalize,fuse-interactions,assign-precision,partition{{target={target}}},"
                   "tile")


def _placed(tiled, target, solver: str, args) -> dict:
    """One solver's mapping: the schedule's numbers, the simulator's, energy and used area."""
    from compiler.checker import check_schedule
    from compiler.mapped_report import report_of
    from compiler.schedule_json import schedule_dict
    from compiler.simulator import simulate

    m = copy.deepcopy(tiled)
    t = time.perf_counter()
    _run(m, f"place{{solver={solver},objective={args.objective},time-limit={args.time_limit}}},"
            "schedule,lower-bound")
    seconds = time.perf_counter() - t
    rep = report_of(m).to_dict()
    sched = schedule_dict(m, target, args.objective)
    errors = check_schedule(sched)
    sim = simulate(sched, m).to_dict()
    return {"rep": rep, "sim": sim, "seconds": seconds, "errors": len(errors),
            "solver": m.attrs.get("pim.place.solver")}


def _key(args) -> str:
    return "latency_cycles" if args.objective == "latency" else "interval_cycles"


def _diff(a: float, b: float) -> str:
    return f"{100 * (b - a) / max(a, 1):+.1f}%"


def row(name: str, proto, target_name: str, args) -> str:
    from ir.errors import PimcError
    from targets import load_target

    target = load_target(target_name)
    try:
        tiled = _tiled(proto, target_name, args.batch)
        res = {s: _placed(tiled, target, s, args) for s in SOLVERS}
    except PimcError as exc:
        return f"{name[:14]:14} {target_name:7} n/a: {str(exc)[:100]}"
    key = _key(args)
    best = res["cp-sat"]
    rep, sim = best["rep"], best["sim"]
    low = rep["bound"].get("latency" if args.objective == "latency" else "interval", 0)
    cells = " ".join(f"{res[s]['rep'][key]:>9}" for s in SOLVERS)
    area = rep["area"]
    return (f"{name[:14]:14} {target_name:7} {cells} {low:>9} "
            f"{(rep[key] - low) / max(1, rep[key]):6.1%} "
            f"{res['naive']['rep'][key] / max(1, rep[key]):7.2f}x "
            f"{sim[key]:>9} {_diff(rep[key], sim[key]):>7} "
            f"{rep['samples_per_second']:>10.4g} {rep['total_energy'] * 1e6:>9.3f} "
            f"{area['used_mm2']:>6.1f}/{area['chip_mm2']:<6.1f} "
            f"{rep['binding'].get('resource', '-'):>14} {best['solver']:>6} "
            f"{sum(r['errors'] for r in res.values()):>3}")


def nasrec_models(n: int, batch: int, seed: int = 0) -> list[tuple[str, object]]:
    """`n` seeded architectures of the `nasrec` space (mixed precisions), as ONNX protos."""
    from frontend.space import get_space
    from frontend.supernet import SuperNet
    from frontend.supernet.subnet import export

    space = get_space("nasrec")
    net = SuperNet(space, TABLES, seed=seed)
    rng = random.Random(seed)
    return [(f"nasrec-{k}", export(space.sample(rng), supernet=net, batch=batch))
            for k in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--objective", default="throughput", choices=("latency", "throughput"))
    ap.add_argument("--time-limit", type=float, default=1.0)
    ap.add_argument("--nasrec", type=int, default=20, help="sampled NASRec architectures")
    ap.add_argument("--targets", default="isaac,puma,hetero,hbm-pim")
    args = ap.parse_args()
    import onnx

    models = [(n, onnx.load(str(ROOT / "tests/fixtures/onnx" / f"{f}.onnx")))
              for n, f in ZOO.items()]
    if args.nasrec:
        models += nasrec_models(args.nasrec, args.batch)
    key = "latency" if args.objective == "latency" else "interval"
    print(f"objective {args.objective}, batch {args.batch}, CP-SAT time limit {args.time_limit} s; "
          f"cycles of the {key} per solver")
    print(f"{'model':14} {'target':7} {'naive':>9} {'greedy':>9} {'cp-sat':>9} {'bound':>9} "
          f"{'gap':>6} {'x naive':>8} {'sim':>9} {'sim dif':>7} {'samples/s':>10} "
          f"{'uJ/batch':>9} {'used/chip mm2':>13} {'binding':>14} {'kept':>6} err")
    for target in args.targets.split(","):
        for name, proto in models:
            print(row(name, proto, target, args), flush=True)


if __name__ == "__main__":
    main()
