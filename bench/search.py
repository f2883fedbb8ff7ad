"""pimc search on MovieLens-100K: throughput, strategies against random, the zoo, and the
supernet's ranking quality.

    bash ../shared/data/fetch-movielens-100k.sh /tmp/ml100k   # once; never commit the data
    python bench/search.py [/tmp/ml100k] [--budget 128] [--seeds 0,1,2] [--workers 2] \
        [--work DIR] [--zoo-steps 0] [--tau-subnets 0]

Prints, for the `--space` space (default `tiny`) on isaac with objectives (validation
logloss, simulated latency): candidates evaluated per second (uncached evaluations only) and
the wall time of a 2,048-candidate search extrapolated from it; the hypervolume of
evolution, NSGA-II and random at equal budget, per seed and mean over the seeds (reference
point: 1.1 x the worst value of each objective over all runs, after normalising each
objective by its range over all runs); whether the front of all runs, each member trained
as long as the zoo models (`--zoo-steps`), dominates each zoo model; and
Kendall's tau between the loop's score (inherited weights after its fine-tune) and the
validation logloss of the same subnets trained alone, over
`--tau-subnets` sampled subnets (`--zoo-steps 0` and `--tau-subnets 0` skip those parts).

An evaluation is a function of (architecture, hardware, target, compile options, supernet,
data), so every run shares one cache (`--work DIR`/cache): a candidate two strategies or
seeds both draw is evaluated once, and a rerun with the same `--work` folder (which also
keeps the trained supernet) evaluates only candidates no earlier run drew. Study folders
(`--work DIR`/runs) are made afresh every time.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Run as `python bench/search.py`, this file's folder comes first on the path and its name
# would hide the `search` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from search._final import (  # noqa: E402
    check_supernet,
    finalise,
    train_quick,
    zoo_dominance,
    zoo_points,
)
from search.evaluate import EvalOptions, Setup, digest_file  # noqa: E402
from search.hardware import HardwareSpace  # noqa: E402
from search.outputs import front_members  # noqa: E402
from search.parallel import make_executor  # noqa: E402
from search.pareto import pareto_front  # noqa: E402
from search.rank_stats import kendall_tau  # noqa: E402
from search.strategies import Strategy  # noqa: E402
from search.study import SearchConfig, run_study  # noqa: E402

OBJ = ("logloss", "latency")
STRATEGY_NAMES = ("evolution", "nsga2", "random")


def hypervolume(points: list[tuple[float, float]], ref: tuple[float, float]) -> float:
    """2-D hypervolume (both minimised) dominated by `points` and bounded by `ref`."""
    front = sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1])
    volume, best_y = 0.0, ref[1]
    for x, y in front:
        if y < best_y:
            volume += (ref[0] - x) * (best_y - y)
            best_y = y
    return volume


def _points(study) -> list[tuple[float, float]]:
    return [(t.user_attrs["logloss"], t.user_attrs["latency_s"]) for t in study.trials
            if t.state.name == "COMPLETE"]


def strategies(setup: Setup, args, work: Path) -> dict:
    """Every (strategy, seed) study at the budget, all on the cache in `work`/cache."""
    runs, evaluated, busy = {}, 0, 0.0
    shutil.rmtree(work / "runs", ignore_errors=True)
    for name in args.strategies:
        for seed in args.seeds:
            strategy = Strategy(name, seed, args.population, args.sample_size)
            cfg = SearchConfig(args.space, "isaac", OBJ, strategy, args.budget, args.workers,
                               setup)
            out = work / "runs" / f"{name}-{seed}"
            out.mkdir(parents=True)
            executor = make_executor(args.workers)
            t0 = time.perf_counter()
            study = run_study(cfg, out, executor, say=lambda s: None, cache=work / "cache")
            wall = time.perf_counter() - t0
            executor.close()
            log = out / "evaluations.log"
            fresh = len(log.read_text().splitlines()) if log.is_file() else 0
            if fresh:
                evaluated, busy = evaluated + fresh, busy + wall
            runs[(name, seed)] = study
            print(f"{name} seed {seed}: {args.budget} trials, {fresh} evaluated (the rest "
                  f"cached), {wall:.0f} s", flush=True)
    return {"runs": runs, "evaluated": evaluated, "rate": evaluated / busy if busy else None}


def hv_table(runs: dict, names: list[str], seeds: list[int]) -> None:
    pts = [p for s in runs.values() for p in _points(s)]
    lo = [min(p[k] for p in pts) for k in (0, 1)]
    hi = [max(p[k] for p in pts) for k in (0, 1)]
    norm = lambda p: tuple((p[k] - lo[k]) / ((hi[k] - lo[k]) or 1) for k in (0, 1))  # noqa
    print("\n| strategy | hypervolume per seed | mean |\n|---|---|---|")
    for name in names:
        hv = [hypervolume([norm(p) for p in _points(runs[(name, s)])], (1.1, 1.1))
              for s in seeds]
        print(f"| {name} | {', '.join(f'{v:.4f}' for v in hv)} | {sum(hv) / len(hv):.4f} |")


def zoo_table(setup: Setup, runs: dict, work: Path, steps: int) -> None:
    """The zoo against the front of every run's fronts, each member trained as long as the zoo
    models (from its inherited weights, as `pimc search` trains its finalists) and compiled
    with the full check."""
    # trial numbers restart in every run: a member is named by its run too (its folder under
    # final/best and the trials a zoo model is dominated by)
    pool = {m["key"]: {**m, "trial": f"{name}-{seed}-{m['trial']}"}
            for (name, seed), s in runs.items() for m in front_members(s, OBJ)}
    members = list(pool.values())
    members = [members[i] for i in pareto_front([(m["logloss"], m["latency_s"])
                                                 for m in members])]
    finalise(members, setup, HardwareSpace("isaac"), work / "final", say=lambda s: None,
             train_steps=steps)
    zoo = zoo_points(setup, "isaac", steps, work, say=lambda s: None)
    zoo_dominance(members, zoo)
    print(f"\nfront of all runs: {len(members)} designs, each trained {steps} steps; "
          "logloss trained (inherited)")
    for m in sorted(members, key=lambda m: m["latency_s"]):
        print(f"  trial {m['trial']}: latency {m['latency_s']:.3g} s, logloss "
              f"{m['trained']['logloss']:.4f} ({m['logloss']:.4f}), full check "
              f"{'passed' if m.get('functional') else m.get('final_reason', 'not run')}")
    best = min(members, key=lambda m: m["trained"]["logloss"])
    print("\n| zoo model | val logloss | latency (s) | dominated by a searched design |"
          "\n|---|---|---|---|")
    for z in zoo:
        if "latency_s" not in z:
            print(f"| {z['model']} | {z['logloss']:.4f} | - ({z['reason']}) | - |")
            continue
        print(f"| {z['model']} | {z['logloss']:.4f} | {z['latency_s']:.3g} | "
              f"{'yes' if z['dominated_by'] else 'no'} (lowest searched logloss "
              f"{best['trained']['logloss']:.4f} at {best['latency_s']:.3g} s) |")


def tau(setup: Setup, space: str, count: int, steps: int) -> float:
    """Kendall's tau between the loop's own score of `count` sampled subnets (inherited
    weights after the loop's fine-tune, `search._accuracy.Scorer`) and the same subnets
    trained alone for `steps` batches (`train_scratch`: as the path of a fresh supernet, so
    that its activation ranges calibrate; bench/supernet_rank.py has the fuller study)."""
    import torch

    from frontend.space import get_space
    from frontend.supernet.train import evaluate, train_scratch
    from search._accuracy import Scorer

    torch.set_num_threads(1)
    o = setup.options
    scorer = Scorer(setup.checkpoint, setup.data, setup.rows, setup.max_table,
                    setup.data_seed, o.eval_rows, o.finetune_steps, o.finetune_what)
    rng, loop, scratch = random.Random(7), [], []
    for i in range(count):
        arch = get_space(space).sample(rng)
        loop.append(scorer.score(arch)[1]["logloss"])
        model = train_scratch(get_space(space), arch, scorer.train, steps, seed=i)
        scratch.append(evaluate(model, scorer.val)["logloss"])
    return kendall_tau(loop, scratch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default="/tmp/ml100k")
    ap.add_argument("--space", default="tiny")
    ap.add_argument("--budget", type=int, default=128)
    ap.add_argument("--population", type=int, default=16)
    ap.add_argument("--sample-size", type=int, default=2)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--strategies", default=",".join(STRATEGY_NAMES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None,
                    help="folder kept between runs: supernet.pt and the shared cache/")
    ap.add_argument("--supernet-steps", type=int, default=1500)
    ap.add_argument("--finetune-steps", type=int, default=EvalOptions.finetune_steps,
                    help="fine-tune steps before a candidate is scored (0: inherited weights)")
    ap.add_argument("--zoo-steps", type=int, default=1500)
    ap.add_argument("--tau-subnets", type=int, default=16)
    ap.add_argument("--tau-steps", type=int, default=1500)
    args = ap.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.strategies = args.strategies.split(",")
    work = args.work or Path(tempfile.mkdtemp(prefix="pimc-bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    spec = f"movielens:{args.data}"
    ckpt = work / "supernet.pt"
    if ckpt.is_file():
        d = Setup("", "", spec)  # the rows, table cap and data seed the search uses
        check_supernet(ckpt, args.space, spec, d.rows, d.max_table, d.data_seed)
        print(f"supernet: {ckpt} (kept from an earlier run)")
    else:
        t0 = time.perf_counter()
        train_quick(args.space, spec, args.supernet_steps, ckpt)
        print(f"supernet: {args.supernet_steps} steps in {time.perf_counter() - t0:.0f} s")
    options = EvalOptions(batch=64, finetune_steps=args.finetune_steps)
    setup = Setup(str(ckpt), digest_file(ckpt), spec, options=options)
    result = strategies(setup, args, work)
    if result["rate"]:
        print(f"\ncandidates evaluated per second ({args.workers} workers, "
              f"{result['evaluated']} uncached evaluations): {result['rate']:.3f}; "
              f"a 2,048-candidate search: about {2048 / result['rate'] / 60:.0f} min "
              "(extrapolated)")
    else:
        print("\nevery candidate came from the cache: no evaluation rate to report")
    hv_table(result["runs"], args.strategies, args.seeds)
    if args.zoo_steps:
        zoo_table(setup, result["runs"], work, args.zoo_steps)
    if args.tau_subnets:
        print(f"\nKendall tau, the loop's score ({setup.options.finetune_steps}-step "
              f"fine-tune of {setup.options.finetune_what}) vs trained alone "
              f"({args.tau_subnets} subnets, {args.tau_steps} steps each): "
              f"{tau(setup, args.space, args.tau_subnets, args.tau_steps):.3f}")


if __name__ == "__main__":
    main()
