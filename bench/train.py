"""Throughput of supernet training and subnet evaluation on this machine (CPU).

    python bench/train.py [--space nasrec] [--steps 30] [--batch 256] [--threads 2]

Prints one table row per measurement: rows (samples) per second for supernet training
steps (uniform single-path sampling), for evaluating a subnet with inherited weights, and for
training a DLRM of the zoo, on the synthetic Criteo-schema data (tables capped at 10,000).
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import torch

from frontend.data import load_data
from frontend.space import get_space
from frontend.supernet.model import SuperNet
from frontend.supernet.train import TrainConfig, fit, predict, train_supernet


def _rate(rows: int, fn) -> float:
    t = time.perf_counter()
    fn()
    return rows / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="nasrec")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_data("synthetic", rows=max(20_000, args.steps * args.batch), max_table=10_000)
    rows = []
    for name in dict.fromkeys(["tiny", args.space]):
        space = get_space(name)
        net = SuperNet(space, data.table_sizes)
        cfg = TrainConfig(steps=args.steps, batch_size=args.batch, eval_every=10**9)
        train = _rate(args.steps * args.batch, lambda: train_supernet(net, data, data, cfg))
        subs = [net.subnet(space.sample(random.Random(s))) for s in range(3)]
        ev = np.mean([_rate(10_000, lambda s=s: predict(s, data.take(np.arange(10_000))))
                      for s in subs])
        rows.append((name, f"{10 ** space.log10_size():.1e}", train, ev))
    dlrm_rate = _rate(args.steps * args.batch, lambda: fit(
        __import__("frontend.zoo", fromlist=["build"]).build("dlrm", data.table_sizes),
        data, args.steps, args.batch))
    print(f"threads={args.threads} batch={args.batch} steps={args.steps}")
    print(f"{'space':<10} {'archs':>9} {'train rows/s':>13} {'subnet eval rows/s':>19}")
    for name, size, train, ev in rows:
        print(f"{name:<10} {size:>9} {train:>13,.0f} {ev:>19,.0f}")
    print(f"{'zoo dlrm':<10} {'':>9} {dlrm_rate:>13,.0f}")


if __name__ == "__main__":
    main()
