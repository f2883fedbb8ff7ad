"""The study: Optuna ask/tell over SQLite in the output folder, resumable after a kill.

Trial n is drawn once trials 0 .. n-lag are finished and told (lag: the workers at the
study's creation), and trials are told in number order, so what the strategy sees when it
draws trial n, and hence the whole run, depends only on the seed: not on which worker
finishes first, nor on a kill. After a kill, the trials the study shows as running are
evaluated again under the same numbers; those whose result reached the cache before the kill
are read from it (evaluations.log lists every evaluation actually run).
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import optuna
from optuna.trial import Trial, TrialState

from frontend.space import get_space
from ir.errors import PimcError
from search.encoding import Candidate, Encoding
from search.evaluate import OBJECTIVES, Cache, Setup, evaluate_task, objective_values
from search.hardware import HardwareSpace
from search.pareto import dominates
from search.strategies import Strategy, sampler_for

__all__ = ["SearchConfig", "STUDY_NAME", "open_study", "run_study", "storage_url"]

STUDY_NAME = "pimc-search"


@dataclass(frozen=True)
class SearchConfig:
    """Everything a study needs, saved as config.json so `--resume` needs only the folder."""

    space: str
    target: str
    objectives: tuple[str, ...]
    strategy: Strategy
    budget: int
    lag: int
    setup: Setup
    hw_fields: tuple[tuple[str, tuple], ...] = ()

    def __post_init__(self) -> None:
        bad = [o for o in self.objectives if o not in OBJECTIVES]
        if bad or not self.objectives:
            raise PimcError(f"objective(s) {', '.join(bad) or '(none)'}; accepted: "
                            f"{', '.join(OBJECTIVES)}")
        if self.budget < 1:
            raise PimcError(f"--budget {self.budget}; accepted: 1 or more trials")

    def hw_space(self) -> HardwareSpace:
        return HardwareSpace(self.target, self.hw_fields)

    def encoding(self) -> Encoding:
        return Encoding(get_space(self.space), self.hw_space())

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @staticmethod
    def load(path: Path) -> SearchConfig:
        try:
            body = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise PimcError(f"{path}: not a search folder's config ({type(exc).__name__}); "
                            "accepted: the -o folder of an earlier pimc search") from None
        body["setup"] = Setup.from_dict(body["setup"])
        body["strategy"] = Strategy(**body["strategy"])
        body["objectives"] = tuple(body["objectives"])
        body["hw_fields"] = tuple((p, tuple(v)) for p, v in body["hw_fields"])
        return SearchConfig(**body)


def storage_url(out: Path) -> str:
    return f"sqlite:///{(out / 'study.db').resolve()}"


def _storage(out: Path) -> optuna.storages.RDBStorage:
    """The study's SQLite storage in write-ahead-log mode with normal sync. Optuna commits
    every parameter and attribute on its own (about 50 commits a trial); in SQLite's default
    mode each commit waits for the disk (20 ms here), which made the driver, not the
    evaluations, the search's bottleneck. With a write-ahead log a commit survives the
    process being killed (kill -9; what --resume relies on); only a power cut can lose the
    last ones, and the file stays consistent either way."""
    import sqlalchemy

    def on_connect(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    storage = optuna.storages.RDBStorage(storage_url(out))
    sqlalchemy.event.listen(storage.engine, "connect", on_connect)
    storage.engine.dispose()  # connections opened while creating the tables lack the pragmas
    return storage


def open_study(cfg: SearchConfig, out: Path) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = ["minimize" if OBJECTIVES[o][1] > 0 else "maximize" for o in cfg.objectives]
    return optuna.create_study(storage=_storage(out), study_name=STUDY_NAME,
                               directions=directions, load_if_exists=True)


@dataclass
class _Progress:
    budget: int
    say: Callable[[str], None]
    objectives: tuple[str, ...]
    front: list[list[float]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    told_here: int = 0

    def add(self, point: list[float]) -> None:
        if any(dominates(q, point) or q == point for q in self.front):
            return
        self.front = [q for q in self.front if not dominates(point, q)] + [point]

    def line(self, done: int, number: int, record: dict) -> None:
        self.told_here += 1
        rate = self.told_here / max(time.perf_counter() - self.started, 1e-9)
        eta = (self.budget - done) / rate if rate > 0 else math.inf
        what = record.get("reason", "")[:60] if record["status"] != "ok" else " ".join(
            f"{o} {record[OBJECTIVES[o][0]]:.4g}" for o in self.objectives)
        span = ", ".join(f"{o} {min(abs(p[i]) for p in self.front):.4g}"
                         f"..{max(abs(p[i]) for p in self.front):.4g}"
                         for i, o in enumerate(self.objectives)) if self.front else "-"
        self.say(f"[{done}/{self.budget}] trial {number} {record['status']}"
                 f"{' (cached)' if record.get('cached') else ''}: {what} | front "
                 f"{len(self.front)}: {span} | {rate:.2f} trials/s, ETA {eta:.0f} s")


class _Runner:
    def __init__(self, cfg: SearchConfig, out: Path, study: optuna.Study, executor,
                 say: Callable[[str], None], cache: Path) -> None:
        self.cfg, self.out, self.study, self.executor = cfg, out, study, executor
        self.enc, self.hw = cfg.encoding(), cfg.hw_space()
        self.cache = Cache(cache)
        self.pending: dict[int, object] = {}
        self.trials: dict[int, Trial] = {}
        self.done = 0
        self.progress = _Progress(cfg.budget, say, cfg.objectives)

    def submit(self, number: int, cand: Candidate) -> None:
        from search.evaluate import cache_key

        digest = self.hw.digest(cand.hw)
        hit = self.cache.get(cache_key(self.cfg.setup, cand.arch.to_json(), digest))
        if hit is not None:
            self.pending[number] = {**hit, "cached": True}
            return
        text = json.dumps(self.hw.data(cand.hw))  # JSON is YAML; the worker writes it
        self.pending[number] = self.executor.submit(
            evaluate_task, self.cfg.setup.to_dict(), cand.to_json(), text, digest)

    def finish(self, number: int) -> None:
        item = self.pending.pop(number)
        record = item if isinstance(item, dict) else item.result()
        if not record.get("cached"):
            self.cache.put(record)
            with open(self.out / "evaluations.log", "a") as log:
                log.write(f"{number} {record['key']}\n")
        trial = self.trials.pop(number)
        for k, v in record.items():
            if k not in ("candidate", "cached"):
                trial.set_user_attr(k, v)
        if record["status"] == "ok":
            signs = [OBJECTIVES[o][1] for o in self.cfg.objectives]
            point = objective_values(record, list(self.cfg.objectives))
            self.study.tell(number, [s * v for s, v in zip(signs, point)])
            self.progress.add(point)
        else:
            self.study.tell(number, state=TrialState.FAIL)
        self.done += 1
        self.progress.line(self.done, number, record)

    def resume_running(self) -> int:
        """Resubmit the trials a killed run left running; returns the next trial number."""
        trials = self.study.get_trials(deepcopy=False)
        for t in trials:
            if t.state != TrialState.RUNNING:
                self.done += t.state.is_finished()
                if t.state == TrialState.COMPLETE:
                    self.progress.add(objective_values(t.user_attrs, list(self.cfg.objectives)))
                continue
            if "candidate" in t.user_attrs:
                self.trials[t.number] = Trial(self.study, t._trial_id)
                self.submit(t.number, Candidate.from_json(t.user_attrs["candidate"]))
            else:  # killed between drawing the trial and naming its candidate: draw it again
                self.name(t.number, functools.partial(Trial, self.study, t._trial_id))
        return len(trials)

    def draw(self, number: int) -> None:
        self.name(number, self.study.ask)

    def name(self, number: int, make_trial) -> None:
        """Name trial `number`'s candidate and submit it. The sampler depends only on the
        trials finished before the draw, which a resume has not changed yet, so a trial
        drawn again after a kill names the candidate it would have named."""
        self.study.sampler = sampler_for(self.cfg.strategy, self.enc, self.study, number)
        trial = make_trial()
        if trial.number != number:
            raise PimcError(f"study.db: trial {trial.number} drawn where {number} was expected; "
                            "accepted: a study written only by pimc search")
        cand = self.enc.suggest(trial)
        trial.set_user_attr("candidate", cand.to_json())
        self.trials[number] = trial
        self.submit(number, cand)

    def run(self) -> None:
        n = self.resume_running()
        while n < self.cfg.budget or self.pending:
            limit = n - self.cfg.lag if n < self.cfg.budget else math.inf
            for k in sorted(k for k in self.pending if k <= limit):
                self.finish(k)
            if n < self.cfg.budget:
                self.draw(n)
                n += 1


def run_study(cfg: SearchConfig, out: Path, executor, say: Callable[[str], None] = print,
              cache: Path | None = None) -> optuna.Study:
    """Run (or continue) the study in `out` up to `cfg.budget` trials (records cached in
    `cache`, by default out/cache)."""
    study = open_study(cfg, out)
    _Runner(cfg, out, study, executor, say, cache or out / "cache").run()
    return study
