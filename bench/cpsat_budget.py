"""What CP-SAT's time limit buys: placement quality and compile time at several limits.

    python bench/cpsat_budget.py [-n 12] [--limits 1,0.25,0.1]
                                 [--cases nasrec-float:isaac:throughput,...]

Each case is SPACE:TARGET:OBJECTIVE. `-n` architectures are sampled from SPACE as
bench/compile_speed.py samples them (seeded, one supernet, batch 8) and compiled with the
default pipeline (greedy, then CP-SAT where greedy does not meet the lower bound), check
"none", once per `--limits` value (deterministic seconds: the answer does not depend on the
machine, its CPU time does). Per case and limit it prints the CPU seconds a candidate took, on
all of them and on those where CP-SAT ran, and the simulated figures against the first limit's:
the objective's own (interval for throughput, latency for latency and energy's tie-break) and
the other one, as how many candidates came out worse, the same or better, and the worst and
best ratio. A lower limit that leaves every figure the same costs nothing in quality; one that
moves them says by how much.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

CASES = "nasrec-float:isaac:throughput,nasrec-float:hetero:throughput,nasrec-float:isaac:latency"
NOT_RUN = ("CP-SAT was not needed", "nothing for CP-SAT", "CP-SAT not run")


def _compile(model, target: str, objective: str, limit: float) -> tuple[float, bool, dict]:
    """(CPU seconds, whether CP-SAT ran, the simulated figures) of one default compile."""
    from compiler.driver import compile as compile_model
    from ir.dialects.pim_attrs import PLACE_FACTS

    start = time.process_time()
    c = compile_model(model, target, batch=8, objective=objective, time_limit=limit,
                      check="none")
    spent = time.process_time() - start
    fallback = PLACE_FACTS["fallback"].of(c.module, "") or ""
    ran = not any(text in fallback for text in NOT_RUN)
    sim = c.report["simulated"]
    return spent, ran, {"interval": sim["interval_cycles"], "latency": sim["latency_cycles"]}


def compared(mine: list[int], base: list[int]) -> tuple[int, int, int, float, float]:
    """How many of `mine` are worse, the same and better than `base` (lower is better), and
    the worst and best ratio (1.0 when there is none)."""
    ratios = [m / b for m, b in zip(mine, base) if b]
    worse = sum(r > 1 for r in ratios)
    better = sum(r < 1 for r in ratios)
    return worse, len(ratios) - worse - better, better, max(ratios, default=1.0), \
        min(ratios, default=1.0)


def _cell(mine: list[int], base: list[int]) -> str:
    worse, same, better, worst, best = compared(mine, base)
    return f"{worse:>3d}/{same:>3d}/{better:<3d} {worst:.3f} / {best:.3f}"


def case(space: str, target: str, objective: str, n: int, limits: list[float]) -> None:
    from compile_speed import sample_models

    models = sample_models(space, n)
    main = "latency" if objective == "latency" else "interval"
    other = "interval" if main == "latency" else "latency"
    runs = {limit: [_compile(m, target, objective, limit) for m in models] for limit in limits}
    base = runs[limits[0]]
    print(f"\n{space} on {target}, objective {objective}, {n} architectures "
          f"(figures against limit {limits[0]:g}: worse/same/better, worst / best ratio)")
    print(f"{'limit':>6s} {'CPU s/cand':>10s} {'CP-SAT ran':>10s} {'CPU s/run':>9s}  "
          f"{main:>28s}  {other:>28s}")
    for limit in limits:
        rows = runs[limit]
        ran = [spent for spent, did, _ in rows if did]
        each = sum(spent for spent, _, _ in rows) / len(rows)
        per_run = f"{sum(ran) / len(ran):9.2f}" if ran else f"{'-':>9s}"
        cells = [_cell([r[2][k] for r in rows], [r[2][k] for r in base])
                 for k in (main, other)]
        print(f"{limit:6g} {each:10.2f} {len(ran):10d} {per_run}  {cells[0]:>28s}  "
              f"{cells[1]:>28s}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=12, help="architectures per case")
    ap.add_argument("--limits", default="1,0.25,0.1",
                    help="CP-SAT time limits, deterministic seconds; the first is the yardstick")
    ap.add_argument("--cases", default=CASES, help="SPACE:TARGET:OBJECTIVE, comma-separated")
    args = ap.parse_args()
    try:
        limits = [float(x) for x in args.limits.split(",")]
    except ValueError:
        ap.error(f"--limits {args.limits}; accepted: comma-separated seconds")
    if args.n < 1 or not limits or min(limits) < 0:
        ap.error(f"-n {args.n}, --limits {args.limits}; accepted: -n 1 or more, limits 0 or more")
    cases = [c.split(":") for c in args.cases.split(",")]
    bad = [":".join(c) for c in cases if len(c) != 3]
    if bad:
        ap.error(f"--cases {', '.join(bad)}; accepted: SPACE:TARGET:OBJECTIVE")
    for space, target, objective in cases:
        case(space, target, objective, args.n, limits)


if __name__ == "__main__":
    main()
