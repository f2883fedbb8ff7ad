"""The NASRec/AutoRAC supernet (PyTorch): shared weights, path training, subnets, export.

- `SuperNet(space, table_sizes)`: every choice of a `frontend.space.SearchSpace`; widths
  slice full-width weights, precisions fake-quantise with a straight-through estimator.
- `train_supernet(net, train, val, TrainConfig(...))`: uniform single-path sampling, or
  NASRec's anneal from the whole supernet to single paths, or the sandwich rule (largest,
  smallest and random paths per step: `sampling="sandwich"`); validation logloss/AUC,
  checkpoints (the last, and the best validated beside it: `best_path`) and resume;
  `load_checkpoint(path)` gives the trained supernet back. CLI: `pimc train-supernet`
  (`frontend.supernet.cli`).
- `net.subnet(arch)` (a `Subnet`): a standalone module with inherited
  weights; `evaluate`, `finetune_head`, `finetune` (the head or every weight);
  `recalibrate(net, arch, data)`: the subnet with its activation ranges measured through
  its own path; `train_scratch(space, arch, data, steps)`: the subnet trained alone from
  fresh weights (its reference accuracy).
- `export(arch_or_model, path, supernet=..., exporter="legacy"|"dynamo")`: ONNX.

Precision convention in the exported ONNX (read by `frontend.precision`, torch-free):
every quantised tensor, weight or activation, is the chain

    Mul(Clamp(Round(Div(x, s)), -2^(b-1), 2^(b-1) - 1), s)

(Clamp is `Clip` from the TorchScript exporter, `Max` then `Min` from dynamo; s is a
constant scalar). The bit width b is read off the clamp bounds; the chain quantises a
weight when x is computed from constants only, else an activation (an operator's input).
Weights use s = max|w| / (2^(b-1) - 1); activations a calibrated s (a moving average of
max|x| during training). An operator of precision (w, a) reads its weights through w-bit
chains and its inputs through a-bit chains; float operators (32 bits) have no chain.
Quantised subnets are exported without constant folding so that weight chains survive.
`frontend.precision.quantised_values(model)` maps chain outputs to bits;
`read_precisions(model)` maps compute nodes to (weight bits, activation bits).
"""

from __future__ import annotations

import importlib

__all__ = ["SuperNet", "Subnet", "TrainConfig", "train_supernet", "evaluate", "finetune_head",
           "finetune", "recalibrate", "train_scratch", "export", "load_checkpoint", "best_path"]


# name -> the submodule that defines it; loaded on first use, so naming `frontend.supernet`
# (the CLI registers its command that way) never imports torch.
_HOMES = {"SuperNet": "model", "Subnet": "subnet", "export": "subnet", "TrainConfig": "train",
          "train_supernet": "train", "evaluate": "train", "finetune_head": "train",
          "recalibrate": "train", "train_scratch": "train", "finetune": "train",
          "load_checkpoint": "train", "best_path": "train"}


def __getattr__(name: str):
    # importlib, not `from frontend.supernet import ...`: that form looks the submodule up
    # as an attribute of this package first, which would call this function again.
    if name not in _HOMES:
        raise AttributeError(f"module 'frontend.supernet' has no attribute '{name}'")
    return getattr(importlib.import_module(f"frontend.supernet.{_HOMES[name]}"), name)
