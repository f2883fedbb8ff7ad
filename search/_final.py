"""The torch side of a study's outputs: the supernet trained when none is given, the front
members exported and compiled with the full check (best/), and the zoo models trained
briefly, compiled on the same target and placed beside the front."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from frontend.data import load_splits
from frontend.space import Arch, get_space
from frontend.supernet.model import SuperNet
from frontend.supernet.subnet import Subnet, export
from frontend.supernet.train import TrainConfig, evaluate, fit, load_checkpoint, train_supernet
from frontend.zoo import build, export_onnx
from search.evaluate import EvalOptions, Setup, compile_cost, loop_cost
from search.hardware import target_file
from search.pareto import dominates

__all__ = ["train_quick", "check_supernet", "finalise", "zoo_dominance", "zoo_points", "ZOO"]

ZOO = ("dlrm", "dcnv2", "deepfm", "autoint")


def train_quick(space: str, data: str, steps: int, path: Path, seed: int = 0,
                rows: int = 50_000, max_table: int = 10_000) -> None:
    """Train a supernet for `steps` sampled paths and save it at `path`."""
    splits = load_splits(data, rows=rows, max_table=max_table, seed=seed)
    net = SuperNet(get_space(space), splits.train.table_sizes, splits.train.num_dense,
                   seed=seed)
    cfg = TrainConfig(steps=steps, eval_every=max(1, steps), checkpoint_every=max(1, steps),
                      seed=seed)
    train_supernet(net, splits.train, splits.val, cfg, checkpoint=path)


def check_supernet(path: Path, space: str, data: str, rows: int, max_table: int,
                   seed: int) -> None:
    """The checkpoint must be a supernet of `space` over the tables of `data`."""
    from dataclasses import asdict

    from ir.errors import PimcError

    net = load_checkpoint(path)
    splits = load_splits(data, rows=rows, max_table=max_table, seed=seed)
    if asdict(net.space) != asdict(get_space(space)):
        raise PimcError(f"{path}: a supernet of another space; accepted: one trained with "
                        f"--space {space}")
    if tuple(net.table_sizes) != tuple(splits.train.table_sizes):
        raise PimcError(f"{path}: trained on tables {tuple(net.table_sizes)}, the data has "
                        f"{tuple(splits.train.table_sizes)}; accepted: a supernet of this --data")


def _val_rows(setup: Setup):
    """(train, validation) of the study's data, validation cut to the loop's rows."""
    splits = load_splits(setup.data, rows=setup.rows, max_table=setup.max_table,
                         seed=setup.data_seed)
    val = splits.val
    return splits.train, val.take(torch.arange(min(len(val), setup.options.eval_rows)).numpy())


def finalise(members: list[dict], setup: Setup, hw_space, out: Path,
             say: Callable[[str], None] = print, train_steps: int = 0) -> None:
    """Export and compile each front member with the default pipeline and the full check,
    into best/trial-N/; the member gets "compile_folder" and "final" (or "final_reason").
    With `train_steps`, each member is first trained on its own for that many batches,
    starting from its inherited weights (all of them, as the zoo models are trained), and
    gets "trained": its logloss and AUC on the same validation rows; that trained model is
    the one exported and compiled."""
    torch.set_num_threads(1)
    net = load_checkpoint(setup.checkpoint)
    train, val = _val_rows(setup) if train_steps else (None, None)
    for m in members:
        folder = out / "best" / f"trial-{m['trial']}"
        folder.mkdir(parents=True, exist_ok=True)
        model = Subnet(net, Arch.from_json(json.dumps(m["architecture"])))
        if train_steps:
            fit(model, train, train_steps, seed=setup.data_seed)
            m["trained"] = {"steps": train_steps, **evaluate(model, val)}
            say(f"best/trial-{m['trial']}: trained {train_steps} steps, logloss "
                f"{m['trained']['logloss']:.4f} (inherited {m['logloss']:.4f})")
        proto = export(model, folder / "model.onnx")
        target = target_file(hw_space, m["hardware"], out / "targets")
        try:
            compiled, cost = compile_cost(proto, target, setup.options, full=True)
            compiled.write(folder)
            m.update(compile_folder=str(folder), final=cost,
                     functional=(compiled.functional or {}).get("passed"))
            say(f"best/trial-{m['trial']}: compiled, functional check "
                f"{'passed' if m['functional'] else 'not run'}")
        except Exception as exc:  # a finalist that fails the full compile is reported
            m.update(compile_folder=str(folder), final_reason=str(exc).splitlines()[0])
            say(f"best/trial-{m['trial']}: full compile failed: {m['final_reason']}")


def zoo_dominance(members: list[dict], zoo: list[dict]) -> None:
    """Mark each zoo point with the front members that dominate it on (validation logloss,
    loop latency): "dominated_by", trial numbers; a member's trained logloss is used where it
    has one (a zoo model is trained too), its inherited one otherwise."""
    for z in zoo:
        if "latency_s" not in z:
            continue
        z["dominated_by"] = [
            m["trial"] for m in members
            if dominates((m.get("trained", m)["logloss"], m["latency_s"]),
                         (z["logloss"], z["latency_s"]))]


def zoo_points(setup: Setup, target: str, steps: int, out: Path,
               say: Callable[[str], None] = print) -> list[dict]:
    """The zoo models trained for `steps` batches, scored on the same validation rows and
    compiled with the loop's options on `target` (the base target)."""
    torch.set_num_threads(1)
    tr, val = _val_rows(setup)
    opts: EvalOptions = setup.options
    points = []
    (out / "zoo").mkdir(parents=True, exist_ok=True)
    for name in ZOO:
        model = fit(build(name, tr.table_sizes, tr.num_dense, seed=setup.data_seed), tr,
                    steps, seed=setup.data_seed)
        point = {"model": name, **evaluate(model, val)}
        dense = torch.zeros(2, tr.num_dense)
        sparse = torch.zeros(2, len(tr.table_sizes), dtype=torch.long)
        proto = export_onnx(model, (dense, sparse), path=out / "zoo" / f"{name}.onnx")
        try:
            point.update(loop_cost(proto, target, opts))
        except Exception as exc:  # shown on the plot without a cost, with the reason
            point["reason"] = str(exc).splitlines()[0]
        cost = point.get("reason") or f"latency {point['latency_s']:.3g} s"
        say(f"zoo {name}: logloss {point['logloss']:.4f}, {cost}")
        points.append(point)
    return points
