"""train-supernet's output and checkpoints: the bar on a terminal, plain lines elsewhere,
elapsed and ETA, the best checkpoint beside the last, and the warning when validation is no
better than the constant predictor."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from frontend.space import get_space  # noqa: E402
from frontend.supernet._progress import Progress, clock  # noqa: E402
from frontend.supernet.model import SuperNet  # noqa: E402
from frontend.supernet.train import (  # noqa: E402
    TrainConfig,
    ValidationWarning,
    _report,
    _validate,
    best_path,
    load_checkpoint,
    train_supernet,
)
from ir.errors import PimcError  # noqa: E402


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_clock():
    assert [clock(5), clock(65.4), clock(3725), clock(-1)] == ["0:05", "1:05", "1:02:05", "0:00"]


def test_bar_on_a_terminal_and_lines_elsewhere():
    tty, pipe = _Terminal(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress(10, 0, True, stream)
        bar.drawn -= 1.0  # as if the last redraw were a second ago
        bar.update(5, 0.5, 64)
        bar.line("step 5/10: val logloss 0.5")
    assert tty.getvalue().startswith("\r\033[K[###############...............] 5/10 loss 0.5000")
    assert "elapsed 0:00 ETA 0:00" in tty.getvalue()
    assert tty.getvalue().endswith("\r\033[Kstep 5/10: val logloss 0.5\n")
    assert pipe.getvalue() == "step 5/10: val logloss 0.5\n"  # no bar, no carriage return
    quiet = _Terminal()
    Progress(10, 0, False, quiet).line("x")
    assert quiet.getvalue() == ""


def test_eta_counts_only_this_runs_steps():
    bar = Progress(100, start=50, enabled=False)
    bar.t0 -= 10.0  # 10 s for the 10 steps from 50 to 60: 40 left take 40 s
    assert bar.times(60) == "elapsed 0:10 ETA 0:40"
    assert bar.times(50).endswith("ETA ?")


def test_warning_only_when_no_better_than_constant():
    bar = Progress(10, 0, False)
    with pytest.warns(ValidationWarning, match="logloss 0.7000 is no better than the "
                                               "constant predictor's 0.6900"):
        _report(5, {"logloss": 0.70, "auc": 0.5}, 0.69, bar, 0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _report(5, {"logloss": 0.68, "auc": 0.6}, 0.69, bar, 0.7)  # better: silent


@pytest.fixture(scope="module")
def run(tmp_path_factory, criteo):
    """A run that diverges (a large learning rate): it must warn, and its best is early."""
    out = tmp_path_factory.mktemp("ck") / "s.pt"
    cfg = TrainConfig(steps=30, batch_size=32, lr=0.1, eval_every=10, eval_archs=1,
                      checkpoint_every=100)
    net = SuperNet(get_space("tiny-float"), criteo.table_sizes, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = train_supernet(net, criteo, criteo, cfg, checkpoint=out)
    return out, cfg, history, caught


def test_diverging_run_warns(run):
    _, _, history, caught = run
    warned = [str(w.message) for w in caught if issubclass(w.category, ValidationWarning)]
    assert warned and all("no better than the constant predictor" in w for w in warned)
    assert len(warned) <= len(history)


def test_best_checkpoint_beside_the_last(run, criteo):
    out, cfg, history, _ = run
    best = best_path(out)
    assert best.name == "s.best.pt" and out.is_file() and best.is_file()
    saved = torch.load(best, weights_only=False)
    losses = [h["logloss"] for h in history]
    assert saved["step"] == history[int(np.argmin(losses))]["step"] < cfg.steps
    assert torch.load(out, weights_only=False)["step"] == cfg.steps
    again = _validate(load_checkpoint(best), criteo, cfg)["logloss"]
    assert again == pytest.approx(min(losses), rel=1e-6)


def test_load_checkpoint_of_a_missing_file(tmp_path):
    with pytest.raises(PimcError, match="no such checkpoint; accepted: the --out of"):
        load_checkpoint(tmp_path / "none.pt")


def test_bad_data_fails_before_training(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    bad = tmp_path / "ml"
    bad.mkdir()
    (bad / "u.data").write_text("1\t2\tfive\t0\n")
    out = subprocess.run([sys.executable, "-m", "compiler", "train-supernet", "--space", "tiny",
                          "--data", f"movielens:{bad}", "--out", str(tmp_path / "s.pt")],
                         capture_output=True, text=True, cwd=root, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        f"pimc: error: {bad / 'u.data'}:1: rating 'five' is not a number"]
    assert not (tmp_path / "s.pt").exists()
