"""`pimc train-supernet`: train the weight-sharing supernet of a search space on CTR data."""

from __future__ import annotations

import json
import sys
import warnings

__all__ = ["add_commands"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line each (Python's own form adds a path and a source line)."""
    sys.stderr.write(f"warning: {message}\n")


def _train(args) -> int:
    import torch

    from frontend.data import constant_logloss, load_splits
    from frontend.space import get_space
    from frontend.supernet.model import SuperNet
    from frontend.supernet.train import TrainConfig, best_path, train_supernet

    if args.threads:
        torch.set_num_threads(args.threads)
    space = get_space(args.space)
    data = load_splits(args.data, rows=args.rows, max_table=args.max_table, seed=args.seed)
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                      schedule=args.schedule, sampling=args.sampling,
                      eval_every=args.eval_every,
                      checkpoint_every=args.checkpoint_every, seed=args.seed)
    net = SuperNet(space, data.train.table_sizes, data.train.num_dense, seed=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = _show_warning
        history = train_supernet(net, data.train, data.val, cfg, checkpoint=args.out,
                                 resume=args.resume, progress=not args.quiet)
    best = min(history, key=lambda h: h["logloss"]) if history else None
    summary = {"space": args.space, "data": args.data,
               "rows": {"train": len(data.train), "val": len(data.val), "test": len(data.test)},
               "numeric": data.normaliser.describe(data.train.dense_names),
               "constant_logloss": constant_logloss(data.val.label[:cfg.eval_rows]),
               "final": history[-1] if history else None, "best": best,
               "checkpoint": args.out, "best_checkpoint": str(best_path(args.out))}
    print(json.dumps(summary, indent=2))
    return 0


def add_commands(subparsers) -> None:
    """Register `train-supernet` on the `pimc` CLI."""
    p = subparsers.add_parser("train-supernet", help="train a weight-sharing supernet on CTR data")
    p.add_argument("--space", default="nasrec", help="search space name (nasrec, tiny, ...)")
    p.add_argument("--data", default="synthetic",
                   help="synthetic | criteo:PATH | avazu:PATH | csv:PATH[:label=NAME] | "
                   "movielens:DIR | libsvm:TRAIN[,VAL[,TEST]][:fields=FILE]; each may end "
                   "with :numeric=log|standard|none (docs/data.md)")
    p.add_argument("--steps", type=int, default=2000, help="training steps (sampled paths)")
    p.add_argument("--out", required=True,
                   help="checkpoint file (.pt), written periodically; the best validated "
                   "state goes beside it (NAME.best.pt)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    again.add_argument("--overwrite", action="store_true",
                       help="replace an earlier run's --out (and its .best.pt); without this "
                       "or --resume an existing checkpoint is refused before any work")
    p.add_argument("--batch-size", type=int, default=256, help="rows per training step")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--schedule", choices=("uniform", "anneal"), default="uniform",
                   help="uniform single-path, or NASRec's whole-supernet to single-path")
    p.add_argument("--sampling", choices=("single", "sandwich"), default="single",
                   help="one path per step, or the sandwich rule: the largest, the smallest "
                   "and two random paths per step (4x the work per step)")
    p.add_argument("--eval-every", type=int, default=500, help="steps between validations")
    p.add_argument("--checkpoint-every", type=int, default=1000,
                   help="steps between checkpoints")
    p.add_argument("--rows", type=int, default=200_000, help="rows of synthetic data")
    p.add_argument("--max-table", type=int, default=10_000, help="bound on table sizes")
    p.add_argument("--seed", type=int, default=0, help="data, weights and path sampling seed")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)
