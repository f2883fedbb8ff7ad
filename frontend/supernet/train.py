"""Training the supernet by path sampling, with validation, checkpoints and resume."""

from __future__ import annotations

import random
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from frontend.data import CTRData, auc, constant_logloss, logloss
from frontend.space import Arch, SearchSpace
from frontend.supernet._paths import best_path
from frontend.supernet._progress import Progress
from frontend.supernet._sampling import SAMPLINGS, train_paths, widest
from frontend.supernet.model import PathModel, SuperNet
from frontend.supernet.subnet import Subnet
from ir.errors import PimcError

__all__ = ["TrainConfig", "SCHEDULES", "SAMPLINGS", "FINETUNE_WEIGHTS", "train_supernet",
           "evaluate", "predict", "widest", "fit", "finetune_head", "finetune", "recalibrate",
           "train_scratch", "best_path", "ValidationWarning", "load_checkpoint"]

SCHEDULES = ("uniform", "anneal")
FINETUNE_WEIGHTS = ("head", "all")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 256
    lr: float = 3e-3
    schedule: str = "uniform"   # or "anneal": NASRec's whole-supernet to single-path
    anneal_frac: float = 0.5    # fraction of the steps over which "anneal" reaches single-path
    sampling: str = "single"    # or "sandwich": largest + smallest + random paths per step
    sandwich_random: int = 2    # random paths per "sandwich" step (BigNAS uses 2)
    eval_every: int = 500
    eval_archs: int = 4         # validation averages this many fixed sampled paths
    eval_rows: int = 20_000
    checkpoint_every: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise PimcError(f"unknown schedule '{self.schedule}'; accepted: "
                            f"{', '.join(SCHEDULES)}")
        if self.sampling not in SAMPLINGS:
            raise PimcError(f"unknown sampling '{self.sampling}'; accepted: "
                            f"{', '.join(SAMPLINGS)}")
        if self.sandwich_random < 0:
            raise PimcError(f"sandwich_random is {self.sandwich_random}; accepted: 0 or more "
                            "random paths besides the largest and the smallest")


def _tensors(batch: CTRData) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(batch.dense), torch.from_numpy(batch.sparse),
            torch.from_numpy(batch.label).unsqueeze(1))


def predict(model, data: CTRData, batch_size: int = 4096) -> np.ndarray:
    """Probabilities of `model(dense, sparse)` over `data`, in eval mode."""
    was = model.training
    model.eval()
    with torch.no_grad():
        out = [model(*_tensors(b)[:2]).numpy() for b in data.batches(batch_size)]
    model.train(was)
    return np.concatenate(out).reshape(-1)


def evaluate(model, data: CTRData) -> dict[str, float]:
    """Validation logloss and AUC of a subnet (or any model of (dense, sparse))."""
    p = predict(model, data)
    return {"logloss": logloss(data.label, p), "auc": auc(data.label, p)}


def _validate(net: SuperNet, val: CTRData, cfg: TrainConfig) -> dict[str, float]:
    rng = random.Random(cfg.seed + 7919)
    archs = [net.space.sample(rng) for _ in range(cfg.eval_archs)]
    data = val.take(np.arange(min(len(val), cfg.eval_rows)))
    scores = [evaluate(PathModel(net, a), data) for a in archs]
    return {k: float(np.mean([s[k] for s in scores])) for k in ("logloss", "auc")}


def _save(path: Path, net: SuperNet, opt, step: int, cfg: TrainConfig, history: list,
          rng: random.Random) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"model": net.state_dict(), "optim": opt.state_dict(), "step": step,
                "config": asdict(cfg), "space": asdict(net.space), "history": history,
                "table_sizes": net.table_sizes, "num_dense": net.num_dense,
                "rng": rng.getstate(), "torch_rng": torch.get_rng_state()}, tmp)
    tmp.replace(path)


def _resume(path: Path, net: SuperNet, opt, rng: random.Random) -> tuple[int, list]:
    state = torch.load(path, weights_only=False)
    if tuple(state["table_sizes"]) != net.table_sizes or state["space"] != asdict(net.space):
        raise PimcError("checkpoint was trained on other tables or another space; accepted: "
                        "a checkpoint of the same --space and --data", str(path))
    net.load_state_dict(state["model"])
    opt.load_state_dict(state["optim"])
    rng.setstate(state["rng"])
    torch.set_rng_state(state["torch_rng"])
    return int(state["step"]), list(state["history"])


class ValidationWarning(UserWarning):
    """Validation logloss is no better than predicting the positive rate for every row."""


def _report(step: int, entry: dict, baseline: float, bar: Progress, loss: float) -> None:
    bar.line(f"step {step}/{bar.total}: val logloss {entry['logloss']:.4f} auc "
             f"{entry['auc']:.4f} (constant {baseline:.4f}) loss {loss:.4f} "
             f"{bar.times(step)}")
    if entry["logloss"] >= baseline:
        warnings.warn(ValidationWarning(
            f"step {step}: validation logloss {entry['logloss']:.4f} is no better than the "
            f"constant predictor's {baseline:.4f}; try a lower --lr, more steps, or check "
            "the data's numeric transform"), stacklevel=3)


def load_checkpoint(path: str | Path) -> SuperNet:
    """The supernet saved at `path` (a checkpoint or its `best_path` copy), in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise PimcError(f"{path}: no such checkpoint; accepted: the --out of "
                        "pimc train-supernet, or its .best copy")
    state = torch.load(path, weights_only=False)
    net = SuperNet(SearchSpace(**state["space"]), tuple(state["table_sizes"]),
                   int(state["num_dense"]))
    net.load_state_dict(state["model"])
    return net.eval()


def train_supernet(net: SuperNet, train: CTRData, val: CTRData, cfg: TrainConfig,
                   checkpoint: str | Path | None = None, resume: bool = False,
                   progress: bool = False) -> list[dict]:
    """Train `net` for `cfg.steps` sampled paths; returns the validation history.

    With `checkpoint`, the state is saved there every `cfg.checkpoint_every` steps and at
    the end, and the state of the best validation so far at `best_path(checkpoint)`. A
    validation no better than the constant predictor raises a `ValidationWarning`."""
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    rng, step, history = random.Random(cfg.seed), 0, []
    path = Path(checkpoint) if checkpoint else None
    if resume and path is not None and path.is_file():
        step, history = _resume(path, net, opt, rng)
    bar, batches, loss_fn = Progress(cfg.steps, step, progress), _Batches(train, cfg), \
        torch.nn.BCELoss()
    baseline = constant_logloss(val.label[:cfg.eval_rows])
    net.train()
    while step < cfg.steps:
        loss = _step(net, opt, loss_fn, batches.next(step),
                     train_paths(net.space, rng, step, cfg))
        step += 1
        bar.update(step, loss, cfg.batch_size)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            best = min((h["logloss"] for h in history), default=float("inf"))
            history.append({"step": step, **_validate(net, val, cfg)})
            _report(step, history[-1], baseline, bar, loss)
            if path is not None and history[-1]["logloss"] < best:
                _save(best_path(path), net, opt, step, cfg, history, rng)
        if path is not None and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
            _save(path, net, opt, step, cfg, history, rng)
    bar.close()
    return history


def _step(net: SuperNet, opt, loss_fn, batch: CTRData, paths: list[Arch]) -> float:
    """One optimiser step on the gradients of `paths` summed over `batch`; their mean loss."""
    dense, sparse, label = _tensors(batch)
    opt.zero_grad()
    losses = []
    for arch in paths:
        loss = loss_fn(net(dense, sparse, arch), label)
        loss.backward()
        losses.append(loss.item())
    opt.step()
    return float(np.mean(losses))


class _Batches:
    """Shuffled batches, epoch after epoch; the order depends only on (seed, epoch)."""

    def __init__(self, data: CTRData, cfg: TrainConfig) -> None:
        self.data, self.cfg = data, cfg
        self.per_epoch = max(1, len(data) // cfg.batch_size)

    def next(self, step: int) -> CTRData:
        epoch, i = divmod(step, self.per_epoch)
        order = np.random.default_rng([self.cfg.seed, epoch]).permutation(len(self.data))
        size = self.cfg.batch_size
        return self.data.take(order[i * size:(i + 1) * size])


def fit(model: torch.nn.Module, data: CTRData, steps: int, batch_size: int = 256,
        lr: float = 3e-3, seed: int = 0, params=None) -> torch.nn.Module:
    """Train any model of (dense, sparse) -> prob with Adam on logloss (`params`: which)."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(list(params if params is not None else model.parameters()), lr=lr)
    batches, loss_fn = _Batches(data, TrainConfig(batch_size=batch_size, seed=seed)), \
        torch.nn.BCELoss()
    model.train()
    for step in range(steps):
        dense, sparse, label = _tensors(batches.next(step))
        loss = loss_fn(model(dense, sparse), label)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def finetune_head(subnet: torch.nn.Module, data: CTRData, steps: int = 200,
                  lr: float = 1e-3, seed: int = 0) -> torch.nn.Module:
    """NASRec's short fine-tune of the last layer of a subnet with inherited weights."""
    return fit(subnet, data, steps, lr=lr, seed=seed, params=subnet.head.parameters())


def finetune(subnet: torch.nn.Module, data: CTRData, steps: int = 200, lr: float = 1e-3,
             seed: int = 0, weights: str = "head") -> torch.nn.Module:
    """A short fine-tune of a subnet with inherited weights: its last layer ("head", as
    `finetune_head`) or every weight ("all"); see docs/search.md, Supernet ranking."""
    if weights not in FINETUNE_WEIGHTS:
        raise PimcError(f"unknown fine-tune weights '{weights}'; accepted: "
                        f"{', '.join(FINETUNE_WEIGHTS)}")
    if weights == "head":
        return finetune_head(subnet, data, steps, lr=lr, seed=seed)
    return fit(subnet, data, steps, lr=lr, seed=seed)


def recalibrate(net: SuperNet, arch: Arch, data: CTRData, batches: int = 8,
                batch_size: int = 1024, seed: int = 0) -> Subnet:
    """A `Subnet` of `arch` whose activation ranges are the mean max|x| over `batches` batches
    of `data` through that path alone, not the ranges all paths shared in training (the
    statistics recalibration of SPOS and OFA, applied to quantisation ranges). Weights are
    inherited unchanged, and the supernet is left as it was."""
    ranges = [r for block in net.ranges for r in block.values()]
    saved = [(r.amax.clone(), r.seen.clone(), r.momentum) for r in ranges]
    order, was = np.random.default_rng(seed).permutation(len(data)), net.training
    net.train()
    try:
        with torch.no_grad():
            for k in range(min(batches, -(-len(data) // batch_size))):
                for r in ranges:  # 1 / (k + 1): the running mean of the batch maxima
                    r.momentum = 1.0 / (k + 1)
                    r.seen.fill_(k > 0)
                net(*_tensors(data.take(order[k * batch_size:(k + 1) * batch_size]))[:2], arch)
        return net.subnet(arch)
    finally:
        for r, (amax, seen, momentum) in zip(ranges, saved):
            r.amax.copy_(amax)
            r.seen.copy_(seen)
            r.momentum = momentum
        net.train(was)


def train_scratch(space: SearchSpace, arch: Arch, data: CTRData, steps: int, seed: int = 0,
                  batch_size: int = 256, lr: float = 3e-3) -> Subnet:
    """`arch` trained alone from fresh weights (seeded by `seed`) for `steps` batches.

    It trains as the path of a fresh supernet, whose activation ranges calibrate while it
    trains; `fit(Subnet(fresh_supernet, arch))` would not do: a subnet's activation scales
    are fixed, and a fresh supernet's are 0, so every quantised activation would be 0."""
    net = SuperNet(space, data.table_sizes, data.num_dense, seed=seed)
    fit(PathModel(net, arch), data, steps, batch_size=batch_size, lr=lr, seed=seed)
    return net.subnet(arch)
