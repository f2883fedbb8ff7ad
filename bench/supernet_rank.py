"""How well the supernet's inherited-weight validation logloss ranks subnets, against the
same subnets trained from scratch, and the ceiling set by training noise.

    python bench/supernet_rank.py [--data movielens:/tmp/ml100k] [--space tiny]
        [--subnets 16] [--supernet-steps 1500] [--scratch-steps 1500] [--seeds 0,1]
        [--schedule uniform|anneal] [--sampling single|sandwich] [--recalibrate BATCHES]
        [--finetune STEPS] [--finetune-what head|all] [--proxy-steps STEPS] [--val-rows 0]
        [--cache FILE] [--checkpoint FILE]

Draws `--subnets` architectures of the space (seeded), trains each from scratch once per
seed in `--seeds` (`train_scratch`), trains one supernet (or loads `--checkpoint` when it
exists, else saves it there) and scores every subnet with inherited weights, optionally
after recalibrating its activation ranges (`recalibrate`) and fine-tuning its head
(`finetune`) or every weight (`--finetune-what all`). Prints Kendall's tau and Spearman's
rho of inherited logloss against each scratch seed and against their mean, and the ceiling:
the same statistics between two scratch seeds; with `--proxy-steps`, also the ranking by a
short scratch training of another seed, the cheap alternative to a supernet. When the
ceiling is near 0 the subnets' true differences are below training noise, and no proxy can
rank them on this setup. Scratch results are cached in `--cache` (keyed by everything they
depend on), so comparing supernet variants costs only the supernet.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

# Run as `python bench/supernet_rank.py`, this file's folder comes first on the path, and
# bench/search.py there would hide the `search` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from search.rank_stats import kendall_tau, spearman_rho  # noqa: E402


def _taus(a, b) -> str:
    """Kendall's tau and Spearman's rho of two score lists, as two table cells."""
    return f"{kendall_tau(a, b):.3f} | {spearman_rho(a, b):.3f}"


def _key(args, arch, seed: int, steps: int) -> str:
    return "|".join(map(str, (args.data, args.space, arch.hash(), steps, seed, args.val_rows,
                              args.data_seed)))


def _store(cache: Path, key: str, value: float) -> None:
    # read again before writing: runs for other seeds may share the cache
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    known[key] = value
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(known, indent=0))
    tmp.replace(cache)


def scratch_scores(args, archs, splits, val, seeds: list[int],
                   steps: int) -> dict[int, list[float]]:
    from frontend.space import get_space
    from frontend.supernet.train import evaluate, train_scratch

    cache = Path(args.cache)
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    out = {}
    for seed in seeds:
        out[seed] = []
        for i, arch in enumerate(archs):
            key = _key(args, arch, seed, steps)
            if key not in known:
                t0 = time.perf_counter()
                model = train_scratch(get_space(args.space), arch, splits.train, steps,
                                      seed=seed)
                known[key] = evaluate(model, val)["logloss"]
                _store(cache, key, known[key])
                print(f"scratch {steps} steps seed {seed} subnet {i}: {known[key]:.4f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
            out[seed].append(known[key])
    return out


def supernet(args, splits):
    from frontend.space import get_space
    from frontend.supernet.model import SuperNet
    from frontend.supernet.train import TrainConfig, load_checkpoint, train_supernet

    if args.checkpoint and Path(args.checkpoint).is_file():
        return load_checkpoint(args.checkpoint)
    net = SuperNet(get_space(args.space), splits.train.table_sizes, splits.train.num_dense,
                   seed=args.supernet_seed)
    cfg = TrainConfig(steps=args.supernet_steps, schedule=args.schedule,
                      sampling=args.sampling, eval_every=args.supernet_steps, eval_archs=1,
                      checkpoint_every=args.supernet_steps, seed=args.supernet_seed)
    t0 = time.perf_counter()
    train_supernet(net, splits.train, splits.val, cfg, checkpoint=args.checkpoint or None)
    print(f"supernet: {args.supernet_steps} steps, {args.schedule}/{args.sampling}, "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    return net.eval()


def inherited_scores(args, net, archs, splits, val) -> list[float]:
    from frontend.supernet.train import evaluate, finetune, recalibrate

    scores = []
    for arch in archs:
        sub = (recalibrate(net, arch, splits.train, batches=args.recalibrate)
               if args.recalibrate else net.subnet(arch))
        if args.finetune:
            sub = finetune(sub, splits.train, args.finetune, lr=args.finetune_lr,
                           weights=args.finetune_what)
        scores.append(evaluate(sub, val)["logloss"])
    return scores


def report(inherited: list[float], scratch: dict[int, list[float]],
           proxy: dict[str, list[float]]) -> None:
    seeds = list(scratch)
    mean = list(np.mean([scratch[s] for s in seeds], axis=0))
    print("\n| subnet | inherited | " + " | ".join(f"scratch seed {s}" for s in seeds) + " |")
    print("|---" * (2 + len(seeds)) + "|")
    for i, v in enumerate(inherited):
        print(f"| {i} | {v:.4f} | " + " | ".join(f"{scratch[s][i]:.4f}" for s in seeds) + " |")
    print("\n| compared | Kendall tau | Spearman rho |\n|---|---|---|")
    rows = [(f"inherited vs scratch seed {s}", scratch[s]) for s in seeds]
    rows.append((f"inherited vs scratch mean of {len(seeds)}", mean))
    for name, ref in rows:
        print(f"| {name} | {_taus(inherited, ref)} |")
    for a, b in zip(seeds, seeds[1:]):
        print(f"| ceiling: scratch seed {a} vs seed {b} | "
              f"{_taus(scratch[a], scratch[b])} |")
    for name, scores in proxy.items():
        print(f"| {name} vs scratch mean | {_taus(scores, mean)} |")
    if len(seeds) > 1:
        noise = float(np.std(np.subtract(scratch[seeds[0]], scratch[seeds[1]])) / np.sqrt(2))
        print(f"\nspread of scratch logloss across subnets (std of the mean): "
              f"{np.std(mean):.4f}; seed noise per training (std): {noise:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="movielens:/tmp/ml100k")
    ap.add_argument("--space", default="tiny")
    ap.add_argument("--subnets", type=int, default=16)
    ap.add_argument("--arch-seed", type=int, default=7, help="seed of the drawn subnets")
    ap.add_argument("--supernet-steps", type=int, default=1500)
    ap.add_argument("--supernet-seed", type=int, default=0)
    ap.add_argument("--schedule", default="uniform", help="uniform or anneal")
    ap.add_argument("--sampling", default="single", help="single or sandwich")
    ap.add_argument("--recalibrate", type=int, default=0,
                    help="batches of 1024 training rows to recalibrate each subnet's "
                         "activation ranges on (0: the supernet's shared ranges)")
    ap.add_argument("--finetune", type=int, default=0, help="fine-tune steps per subnet")
    ap.add_argument("--finetune-what", choices=("head", "all"), default="head",
                    help="fine-tune the last layer (NASRec) or every weight")
    ap.add_argument("--finetune-lr", type=float, default=1e-3)
    ap.add_argument("--scratch-steps", type=int, default=1500)
    ap.add_argument("--seeds", default="0,1", help="scratch training seeds (two for a ceiling)")
    ap.add_argument("--proxy-steps", type=int, default=0,
                    help="also rank by this many steps of scratch training (another seed): "
                         "the ranking the supernet must beat to be worth its training")
    ap.add_argument("--val-rows", type=int, default=0, help="validation rows (0: all)")
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--cache", default="/tmp/pimc-supernet-rank-scratch.json")
    ap.add_argument("--checkpoint", default="", help="supernet to load, or to save when absent")
    args = ap.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]

    import torch

    from frontend.data import load_splits
    from frontend.space import get_space

    torch.set_num_threads(1)
    splits = load_splits(args.data, seed=args.data_seed)
    val = splits.val if not args.val_rows else splits.val.take(np.arange(args.val_rows))
    rng = random.Random(args.arch_seed)
    archs = [get_space(args.space).sample(rng) for _ in range(args.subnets)]
    scratch = scratch_scores(args, archs, splits, val, args.seeds, args.scratch_steps)
    proxy = {}
    if args.proxy_steps:
        seed = max(args.seeds) + 1  # its own initialisation and batch order
        proxy = {f"no supernet: scratch {args.proxy_steps} steps (seed {seed})":
                 scratch_scores(args, archs, splits, val, [seed], args.proxy_steps)[seed]}
    net = supernet(args, splits)
    report(inherited_scores(args, net, archs, splits, val), scratch, proxy)

if __name__ == "__main__":
    main()
