"""A candidate's accuracy from the trained supernet, and its export (the torch side of the
evaluator; `search.evaluate` imports this module only inside a worker)."""

from __future__ import annotations

import numpy as np
import torch

from frontend.data import load_splits
from frontend.space import Arch
from frontend.supernet.subnet import Subnet, export
from frontend.supernet.train import evaluate, finetune, load_checkpoint

__all__ = ["Scorer"]


class Scorer:
    """Inherited-weight validation logloss and AUC of subnets of one supernet checkpoint."""

    def __init__(self, checkpoint: str, data: str, rows: int, max_table: int, seed: int,
                 eval_rows: int, finetune_steps: int, finetune_what: str = "head") -> None:
        torch.set_num_threads(1)  # one evaluation per core; the pool gives the parallelism
        self.net = load_checkpoint(checkpoint)
        splits = load_splits(data, rows=rows, max_table=max_table, seed=seed)
        self.train = splits.train
        self.val = splits.val.take(np.arange(min(len(splits.val), eval_rows)))
        self.finetune_steps, self.finetune_what, self.seed = finetune_steps, finetune_what, seed

    def score(self, arch: Arch):
        """(ONNX model of the subnet, {"logloss", "auc"} on the validation rows)."""
        sub = Subnet(self.net, arch)
        if self.finetune_steps:
            finetune(sub, self.train, self.finetune_steps, seed=self.seed,
                     weights=self.finetune_what)
        metrics = evaluate(sub, self.val)
        return export(sub), {k: float(v) for k, v in metrics.items()}
