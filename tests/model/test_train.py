"""Training for real on the synthetic data: the supernet, a DLRM against logistic
regression, checkpoints and resume, and the `train-supernet` command."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from frontend.data import constant_logloss, load_data, stratified_split  # noqa: E402
from frontend.space import get_space  # noqa: E402
from frontend.supernet.model import SuperNet  # noqa: E402
from frontend.supernet.train import (  # noqa: E402
    TrainConfig,
    evaluate,
    finetune_head,
    fit,
    train_supernet,
)
from frontend.zoo import build  # noqa: E402


@pytest.fixture(scope="module")
def synthetic():
    return stratified_split(load_data("synthetic", rows=300_000, max_table=2000, seed=0))


def test_supernet_beats_the_constant_predictor(synthetic):
    train, val, _ = synthetic
    net = SuperNet(get_space("tiny"), train.table_sizes, seed=0)
    history = train_supernet(net, train, val, TrainConfig(steps=1000, eval_every=500,
                                                          eval_rows=5000, eval_archs=3))
    baseline = constant_logloss(val.label[:5000])
    assert history[-1]["logloss"] < baseline - 0.04, (history, baseline)
    assert history[-1]["auc"] > 0.7
    sub = net.subnet(get_space("tiny").sample(11))
    before = evaluate(sub, val.take(np.arange(5000)))["logloss"]
    after = evaluate(finetune_head(sub, train, steps=100), val.take(np.arange(5000)))["logloss"]
    assert after < before + 0.01 and after < baseline


def test_dlrm_beats_logistic_regression(synthetic):
    train, val, _ = synthetic
    scores = {name: evaluate(fit(build(name, train.table_sizes, dim=8), train, 800), val)
              for name in ("lr", "dlrm")}
    assert scores["dlrm"]["logloss"] < scores["lr"]["logloss"] - 0.03, scores
    assert scores["dlrm"]["auc"] > scores["lr"]["auc"], scores


def test_resume_continues_exactly(tmp_path, criteo):
    space = get_space("tiny")
    cfg = TrainConfig(steps=20, batch_size=32, eval_every=10, eval_archs=1,
                      checkpoint_every=10)
    straight = SuperNet(space, criteo.table_sizes, seed=1)
    train_supernet(straight, criteo, criteo, cfg)
    half = SuperNet(space, criteo.table_sizes, seed=1)
    ckpt = tmp_path / "ck.pt"
    train_supernet(half, criteo, criteo, TrainConfig(**{**cfg.__dict__, "steps": 10}), ckpt)
    resumed = SuperNet(space, criteo.table_sizes, seed=5)
    history = train_supernet(resumed, criteo, criteo, cfg, ckpt, resume=True)
    assert [h["step"] for h in history] == [10, 20]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert torch.load(ckpt, weights_only=False)["step"] == 20


def test_train_supernet_command(tmp_path, capsys):
    from frontend.supernet.cli import add_commands

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    out = tmp_path / "s.pt"
    args = parser.parse_args(["train-supernet", "--space", "tiny", "--data", "synthetic",
                              "--steps", "30", "--rows", "4000", "--eval-every", "15",
                              "--batch-size", "64", "--out", str(out), "--max-table", "500"])
    assert args.func(args) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert summary["final"]["step"] == 30 and out.is_file()
    assert (tmp_path / "s.best.pt").is_file() and summary["best"]["step"] in (15, 30)
    # stderr is not a terminal here: one plain line per validation, no bar
    lines = [x for x in printed.err.splitlines() if x.startswith("step ")]
    assert [x.split(":")[0] for x in lines] == ["step 15/30", "step 30/30"], printed.err
    assert "\r" not in printed.err and "ETA" in lines[0] and "elapsed" in lines[0]
