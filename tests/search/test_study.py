"""The search loop on a small MovieLens-like slice: a reference run, SIGKILL and resume
through `pimc search`, and the same study on a local Ray instance."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from search_helpers import ROOT

from search.evaluate import EvalOptions, Setup, digest_file
from search.parallel import make_executor
from search.strategies import Strategy
from search.study import SearchConfig, open_study, run_study

HW = "chip.tile.pe.adc.resolution: [6, 8]\nchip.tiles: [84, 168]\n"
BUDGET, LAG, SEED = 6, 2, 3


def _args(ml, net, hw, out):
    return ["search", "--space", "tiny", "--data", f"movielens:{ml}", "--target", "isaac",
            "--hw-space", str(hw), "--objectives", "logloss,latency", "--strategy",
            "evolution", "--budget", str(BUDGET), "--population", "3", "--sample-size", "2",
            "--supernet", str(net), "--batch", "8", "--eval-rows", "500", "--seed",
            str(SEED), "--workers", str(LAG), "-o", str(out)]


def _config(ml, net, budget=BUDGET):
    setup = Setup(str(net), digest_file(net), f"movielens:{ml}", data_seed=SEED,
                  options=EvalOptions(batch=8, eval_rows=500, seed=SEED))
    return SearchConfig("tiny", "isaac", ("logloss", "latency"),
                        Strategy("evolution", SEED, 3, 2), budget, LAG, setup,
                        (("chip.tile.pe.adc.resolution", (6, 8)), ("chip.tiles", (84, 168))))


def _trials(study):
    return {t.number: (t.state.name, t.user_attrs.get("candidate"), t.values)
            for t in study.get_trials(deepcopy=False)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, movielens, supernet):
    """An uninterrupted run in this process (evaluations inline, the same lag)."""
    out = tmp_path_factory.mktemp("ref")
    trials = _trials(run_study(_config(movielens, supernet), out, make_executor(1),
                               say=lambda s: None))
    REFERENCE_CACHE.append(out / "cache")
    return trials


REFERENCE_CACHE: list = []  # the reference run's records, so a rerun evaluates nothing


@pytest.mark.parametrize("stop_at", [1, 4])
def test_a_trial_killed_between_draw_and_naming_is_drawn_again_on_resume(
        tmp_path, movielens, supernet, reference, monkeypatch, stop_at):
    """The kill lands after Optuna created trial `stop_at` and before its candidate was
    stored: resuming names the same candidate an uninterrupted run named."""
    from search.encoding import Encoding

    real = Encoding.suggest

    def interrupted(self, trial):
        if trial.number == stop_at:
            raise KeyboardInterrupt
        return real(self, trial)

    cfg = _config(movielens, supernet)
    monkeypatch.setattr(Encoding, "suggest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_study(cfg, tmp_path, make_executor(1), say=lambda s: None,
                  cache=REFERENCE_CACHE[0])
    left = _trials(open_study(cfg, tmp_path))
    assert left[stop_at] == ("RUNNING", None, None) and len(left) == stop_at + 1
    monkeypatch.setattr(Encoding, "suggest", real)
    study = run_study(cfg, tmp_path, make_executor(1), say=lambda s: None,
                      cache=REFERENCE_CACHE[0])
    assert _trials(study) == reference


def _wait_for_lines(path, count, proc, timeout=240):
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        if path.is_file() and len(path.read_text().splitlines()) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {count} evaluations in time: {proc.poll()}")


def test_sigkill_then_resume_keeps_every_trial_and_ends_as_an_uninterrupted_run(
        tmp_path, movielens, supernet, reference):
    assert len(reference) == BUDGET and sum(s == "COMPLETE" for s, _, _ in
                                            reference.values()) >= BUDGET - 1
    hw, out = tmp_path / "hw.yaml", tmp_path / "out"
    hw.write_text(HW)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "compiler", *_args(movielens, supernet, hw,
                             out), "--no-final", "--zoo-steps", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        # kill at the first finished evaluation: with a lag of 2 the run has then drawn at
        # most 3 of its 6 trials, and three more would have to finish before it draws the last
        _wait_for_lines(out / "evaluations.log", 1, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the pool workers it started
        except ProcessLookupError:
            pass
    cfg = SearchConfig.load(out / "config.json")
    before = _trials(open_study(cfg, out))
    finished = {n: v for n, v in before.items() if v[0] in ("COMPLETE", "FAIL")}
    assert len(before) < BUDGET  # the kill came before the end
    resumed = subprocess.run([sys.executable, "-m", "compiler", "search", "--resume", "-o",
                              str(out), "--zoo-steps", "20"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = _trials(open_study(cfg, out))
    assert all(after[n] == v for n, v in finished.items())  # kept as they were
    assert after == reference  # same candidates, same values, same numbers
    keys = [line.split()[1] for line in (out / "evaluations.log").read_text().splitlines()]
    assert len(keys) == len(set(keys))  # no candidate evaluated twice
    _check_outputs(out)


def _check_outputs(out):
    body = json.loads((out / "pareto.json").read_text())
    assert body["objectives"] == ["logloss", "latency"] and body["front"]
    for m in body["front"]:
        assert {"architecture", "hardware", "logloss", "auc", "latency_s", "samples_per_s",
                "energy_j", "used_area_mm2"} <= set(m)
        assert (out / "best" / f"trial-{m['trial']}" / "report.json").is_file()
        assert m.get("functional") is True or "final_reason" in m
        assert m["trained"]["steps"] == 20  # as many as the zoo models (--zoo-steps 20)
        assert m["trained"]["logloss"] != m["logloss"]  # the inherited weights moved
    assert {z["model"] for z in body["zoo"]} == {"dlrm", "dcnv2", "deepfm", "autoint"}
    assert all(isinstance(z["dominated_by"], list) for z in body["zoo"] if "latency_s" in z)
    page = (out / "pareto.html").read_text()
    assert "<svg" in page and "autoint" in page and "<title>trial" in page
    rows = (out / "trials.csv").read_text().splitlines()
    assert len(rows) == BUDGET + 1 and rows[0].startswith("trial,state")


def test_ray_gives_the_same_trials_as_the_process_pool(tmp_path, movielens, supernet,
                                                       reference):
    ray = pytest.importorskip("ray", reason="the Ray test needs ray: pip install '.[search]'")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}})
    try:
        budget = 4  # trial n depends only on trials before it: a prefix of the reference
        study = run_study(_config(movielens, supernet, budget), tmp_path,
                          make_executor(LAG, ray="local"), say=lambda s: None)
    finally:
        ray.shutdown()
    assert _trials(study) == {n: v for n, v in reference.items() if n < budget}


def test_the_study_storage_commits_through_a_write_ahead_log(tmp_path):
    """Every connection of the study's storage runs in WAL mode with normal sync (a commit
    does not wait for the disk), and the file itself is left in WAL mode."""
    import sqlite3

    import sqlalchemy

    from search.study import _storage

    storage = _storage(tmp_path)
    with storage.engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    assert sqlite3.connect(tmp_path / "study.db").execute(
        "PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_zoo_model_is_weighed_against_the_trained_logloss_of_the_front():
    """A front member with a trained logloss is compared on it (the zoo models are trained
    too); a member with only its inherited one on that."""
    from search._final import zoo_dominance

    members = [{"trial": 3, "logloss": 0.60, "latency_s": 1e-5,
                "trained": {"logloss": 0.50, "steps": 10}},
               {"trial": 4, "logloss": 0.52, "latency_s": 1e-5}]
    zoo = [{"model": "dlrm", "logloss": 0.55, "latency_s": 2e-5},
           {"model": "autoint", "logloss": 0.51, "latency_s": 2e-5},
           {"model": "broken", "logloss": 0.4, "reason": "no rule"}]
    zoo_dominance(members, zoo)
    assert zoo[0]["dominated_by"] == [3, 4]
    assert zoo[1]["dominated_by"] == [3]  # by the trained 0.50, not the inherited 0.60
    assert "dominated_by" not in zoo[2]  # no cost to compare
