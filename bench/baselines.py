"""Baselines on MovieLens-100K: the zoo (DLRM, DCNv2, DeepFM, AutoInt) and logistic
regression, trained and evaluated on one fixed split.

    bash ../shared/data/fetch-movielens-100k.sh /tmp/ml100k   # once; never commit the data
    python bench/baselines.py [/tmp/ml100k] [--epochs 10] [--seeds 0,1,2] [--threads 1]

The data is `movielens:DIR` (label: rating >= 4; user, item, gender, occupation, zip code and
genre categorical; age and release year standardised on the training rows), split 80/10/10
stratified with seed 0 whatever the model seeds. Each model trains with Adam (batch 256) for
`--epochs` passes over the training rows, is validated every half epoch, and keeps its best
validated state (early stopping on validation logloss); the table gives that state's
validation and test logloss and AUC, mean and spread over the seeds, the step it was taken
at, and the wall time. The constant predictor (the training positive rate) is the first row.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from frontend.data import CTRData, auc, load_splits, logloss
from frontend.supernet.train import predict
from frontend.zoo import build
from ir.errors import PimcError

MODELS = ("lr", "dlrm", "dcnv2", "deepfm", "autoint")
SPLIT_SEED = 0


def _scores(model, data: CTRData) -> tuple[float, float]:
    p = predict(model, data)
    return logloss(data.label, p), auc(data.label, p)


def train(name: str, splits, seed: int, args) -> dict:
    """One model from `seed`: best validated state over `args.epochs` epochs."""
    tr = splits.train
    model = build(name, tr.table_sizes, tr.num_dense, dim=args.dim, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.BCELoss()
    per_epoch = len(tr) // args.batch
    every = max(1, per_epoch // 2)
    best = {"val": (float("inf"), 0.0), "step": 0, "state": None}
    step, t0 = 0, time.perf_counter()
    for epoch in range(args.epochs):
        for batch in tr.batches(args.batch, seed=seed * 1000 + epoch):
            model.train()
            prob = model(torch.from_numpy(batch.dense), torch.from_numpy(batch.sparse))
            loss = loss_fn(prob, torch.from_numpy(batch.label).unsqueeze(1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % every == 0:
                val = _scores(model, splits.val)
                if val[0] < best["val"][0]:
                    best = {"val": val, "step": step, "state": copy.deepcopy(model.state_dict())}
    model.load_state_dict(best["state"])
    return {"val": best["val"], "test": _scores(model, splits.test), "step": best["step"],
            "steps": step, "seconds": time.perf_counter() - t0}


def _cell(values: list[float]) -> str:
    mean = float(np.mean(values))
    return f"{mean:.4f}" if len(values) == 1 else f"{mean:.4f}±{float(np.std(values)):.4f}"


def _constant(splits) -> dict:
    rate = float(splits.train.label.mean())
    row = {}
    for part in ("val", "test"):
        y = getattr(splits, part).label
        row[part] = (logloss(y, np.full(len(y), rate)), 0.5)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default="/tmp/ml100k",
                    help="MovieLens folder (fetch-movielens-100k.sh DIR puts it there)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--dim", type=int, default=16, help="embedding dimension")
    ap.add_argument("--seeds", default="0,1,2", help="model seeds (the split stays seed 0)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads; more than the free cores slows training many times")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        splits = load_splits(f"movielens:{args.data}", seed=SPLIT_SEED)
    except PimcError as exc:
        raise SystemExit(f"{exc}\nfetch it with: bash ../shared/data/fetch-movielens-100k.sh "
                         f"{args.data}") from None
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"MovieLens-100K {args.data}: train {len(splits.train)}, val {len(splits.val)}, "
          f"test {len(splits.test)} rows; {args.epochs} epochs of batch {args.batch}, "
          f"lr {args.lr}, dim {args.dim}, seeds {seeds}, threads {args.threads}")
    print(f"{'model':<9} {'val logloss':>15} {'val AUC':>15} {'test logloss':>15} "
          f"{'test AUC':>15} {'best step':>10} {'s/seed':>7}")
    c = _constant(splits)
    print(f"{'constant':<9} {c['val'][0]:>15.4f} {0.5:>15.4f} {c['test'][0]:>15.4f} "
          f"{0.5:>15.4f} {'-':>10} {'-':>7}")
    for name in args.models.split(","):
        runs = [train(name, splits, seed, args) for seed in seeds]
        cells = [_cell([r[part][i] for r in runs]) for part in ("val", "test") for i in (0, 1)]
        steps = "/".join(str(r["step"]) for r in runs)
        secs = np.mean([r["seconds"] for r in runs])
        print(f"{name:<9} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} {cells[3]:>15} "
              f"{steps:>10} {secs:>7.0f}", flush=True)


if __name__ == "__main__":
    main()
