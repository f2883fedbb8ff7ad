"""The event-driven simulator against the scheduler, on the fixture corpus.

    .venv/bin/python bench/simulate_vs_schedule.py [--batch 64] [--models GLOB]
        [--targets isaac,puma,hetero,hbm-pim] [--objective throughput]
    .venv/bin/python bench/simulate_vs_schedule.py --engines [--simpy PATH]

For every fixture model and target: the scheduler's latency and interval (schedule.json), the
simulator's (8 batches, durations re-derived from the cost model), their difference in percent,
the binding resource and op, the simulator's run time and the share of the chip's area the
mapping uses. Rows beyond 5% are marked `!`. Last, per target: how many distinct simulated
throughputs the distinct models get, and how many compiles use less than the whole chip.

`--engines` times the simulator's heap-based engine against an equivalent SimPy model (one
process per task and batch, an `AllOf` over `PriorityResource` requests for its resources) on the
largest fixture; SimPy is imported from `--simpy` (a folder holding it, e.g. made with
`pip install --target /tmp/simpy simpy`), never installed into pimc's environment.
"""

from __future__ import annotations

import argparse
import fnmatch
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT / "tests/fixtures/onnx"


def scheduled(model: Path, target: str, batch: int, objective: str):
    """(schedule dict, mapped module) of one fixture, without the functional check."""
    from compiler.driver import compile
    from compiler.schedule_json import schedule_dict
    from targets import load_target

    c = compile(str(model), target, batch=batch, objective=objective, emit="scheduled")
    return schedule_dict(c.module, load_target(target), objective), c.module


def _row(model: Path, target: str, args) -> tuple[str, bool, dict]:
    from compiler._report_facts import used_area
    from compiler.simulator import compare, simulate
    from ir.errors import PimcError
    from targets import load_target

    name = model.stem[:30]
    try:
        sched, module = scheduled(model, target, args.batch, args.objective)
        t = time.perf_counter()
        sim = simulate(sched, module)
        secs = time.perf_counter() - t
        area = used_area(module, load_target(target))
    except PimcError as exc:
        return f"{name:30} {target:8} n/a: {str(exc)[:80]}", False, {}
    bad = compare(sim, sched)
    d = sim.difference_percent
    b = sim.binding
    used = area["used_mm2"] / area["chip_mm2"] if area["chip_mm2"] > 0 else math.nan
    facts = {"samples_per_s": round(sim.samples_per_second, 6), "used": used,
             "binding": b.get("resource", "-")}
    return (f"{name:30} {target:8} {sched['latency']:>9} {sim.latency_cycles:>9} "
            f"{d['latency']:>+7.2f} {sched['interval']:>9} {sim.interval_cycles:>9} "
            f"{d['interval']:>+7.2f} {'!' if bad else ' '} {secs:6.3f} {used:6.1%}  "
            f"{b.get('resource', '-')} ({str(b.get('op', '-'))[:24]})"), bool(bad), facts


def corpus(args) -> None:
    models = sorted(p for p in FIXTURES.glob("*.onnx") if fnmatch.fnmatch(p.stem, args.models))
    print(f"batch {args.batch}, objective {args.objective}, 8 simulated batches; differences "
          "are (simulated - scheduled) / scheduled")
    print(f"{'model':30} {'target':8} {'sch lat':>9} {'sim lat':>9} {'d lat%':>7} "
          f"{'sch II':>9} {'sim II':>9} {'d II%':>7}   {'sim s':>6} {'used':>6}  "
          "binding resource (op)")
    rows = worst = 0
    per_target: dict[str, dict[str, dict]] = {}
    for model in models:
        for target in args.targets.split(","):
            line, bad, facts = _row(model, target, args)
            rows += 1
            worst += bad
            if facts:
                per_target.setdefault(target, {})[model.stem] = facts
            print(line, flush=True)
    print(f"{rows} rows, {worst} beyond 5%")
    print("\nper target: distinct simulated throughputs over distinct models (a model's two "
          "exports count once), compiles using less than the whole chip")
    for target, got in per_target.items():
        models_ = {_family(m) for m in got}
        rates = {_family(m): f["samples_per_s"] for m, f in got.items()}
        below = sum(f["used"] < 1 for f in got.values())  # no area figures (nan): not below
        print(f"  {target:8} {len(set(rates.values()))} distinct of {len(models_)} models "
              f"({len(set(rates.values())) / max(1, len(models_)):.0%}); used < chip in "
              f"{below} of {len(got)} compiles")


def _family(stem: str) -> str:
    """The model a fixture exports (its exporter suffix dropped)."""
    for suffix in ("_legacy", "_dynamo"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def _simpy_run(tasks, resources: int, batches: int, interval):
    import simpy

    env = simpy.Environment()
    res = [simpy.PriorityResource(env, capacity=1) for _ in range(resources)]
    done = [[env.event() for _ in tasks] for _ in range(batches)]
    end = [[0] * len(tasks) for _ in range(batches)]

    def hold(req, r, cycles):
        yield env.timeout(cycles)
        res[r].release(req)

    def task(k, i, t):
        yield env.timeout(k * interval)
        if t.preds:
            yield simpy.AllOf(env, [done[k][p] for p in t.preds])
        reqs = {r: res[r].request(priority=(k, t.rank)) for r in t.use}
        if reqs:
            yield simpy.AllOf(env, list(reqs.values()))
        for r, req in reqs.items():
            env.process(hold(req, r, t.use[r]))
        yield env.timeout(t.cycles)
        end[k][i] = env.now
        done[k][i].succeed()

    for k in range(batches):
        for i, t in enumerate(tasks):
            env.process(task(k, i, t))
    env.run()
    return end


def engines(args) -> None:
    from compiler._sim_engine import run
    from compiler._sim_model import build
    from compiler.simulator import RULES

    if args.simpy:
        sys.path.insert(0, args.simpy)
    model = FIXTURES / f"{args.largest}.onnx"
    sched, module = scheduled(model, args.largest_target, args.batch, args.objective)
    m = build(sched, module, RULES)
    print(f"{args.largest} on {args.largest_target}: {len(m.tasks)} tasks per batch, "
          f"{len(m.resources)} resources, 8 batches, interval {sched['interval']}")
    for name, fn in (("heap", lambda: run(m.tasks, len(m.resources), 8, sched["interval"])),
                     ("simpy", lambda: _simpy_run(m.tasks, len(m.resources), 8,
                                                  sched["interval"]))):
        best, out = float("inf"), None
        for _ in range(3):
            t = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t)
        ends = out.end if hasattr(out, "end") else out
        print(f"{name:6} best of 3: {best:7.3f} s   last completion {max(ends[-1])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--targets", default="isaac,puma,hetero,hbm-pim")
    ap.add_argument("--objective", default="throughput")
    ap.add_argument("--models", default="*", help="a glob over the fixture names")
    ap.add_argument("--engines", action="store_true", help="time heap engine against SimPy")
    ap.add_argument("--simpy", default="", help="a folder to import SimPy from")
    ap.add_argument("--largest", default="deepctr_fibinet_legacy")
    ap.add_argument("--largest-target", default="isaac")
    args = ap.parse_args()
    (engines if args.engines else corpus)(args)


if __name__ == "__main__":
    main()
