"""The evaluator: a candidate -> accuracy from the supernet and cost from compiling it.

Accuracy is the subnet's validation logloss and AUC with weights inherited from the trained
supernet (optionally after a short fine-tune of its head); cost is what `compiler.compile`
reports for the exported subnet on the candidate's target: the simulated latency, pipelined
throughput and energy, the used area, and the chip's rolled-up area and power. In the loop the
functional check is off by default (`EvalOptions.check` turns it on for every candidate) and
placement uses the `greedy` solver by default (about ten times faster than CP-SAT, within a
few percent on the tiny space); the finalists are compiled again with the full default
pipeline and the functional check (`search.outputs`).

A result is a plain dict (a *record*); a compile that fails is a record with status "failed"
and its one-line reason, never an exception. Records are cached by `cache_key`, a stable hash
of (architecture, target text, compile options, supernet and data), in the study folder.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ir.errors import PimcError

__all__ = ["EvalOptions", "Setup", "OBJECTIVES", "cache_key", "evaluate_task", "compile_cost",
           "loop_cost", "Cache", "objective_values", "freeze_worker_state"]

# objective name -> (record field, +1 to minimise / -1 to maximise)
OBJECTIVES: dict[str, tuple[str, int]] = {
    "logloss": ("logloss", 1), "auc": ("auc", -1), "latency": ("latency_s", 1),
    "throughput": ("samples_per_s", -1), "energy": ("energy_per_sample_j", 1),
    "area": ("used_area_mm2", 1), "chip-area": ("chip_area_mm2", 1),
    "efficiency": ("samples_per_j", -1),
}
PLACEMENTS = ("greedy", "cp-sat", "naive")
FINETUNE_WEIGHTS = ("head", "all")  # as frontend.supernet.train has it (torch-free here)


@dataclass(frozen=True)
class EvalOptions:
    """How a candidate is compiled and scored (all of it is part of the cache key)."""

    batch: int = 64
    objective: str = "latency"   # what placement optimises
    placement: str = "greedy"    # the placement solver in the loop
    time_limit: float = 1.0
    seed: int = 0
    # Each candidate's inherited weights are fine-tuned before it is scored: all of them for
    # 100 batches by default. Inherited weights alone do not rank subnets (Kendall tau -0.06
    # against training each alone; 0.37 after this fine-tune; docs/search.md).
    finetune_steps: int = 100
    eval_rows: int = 20_000
    finetune_what: str = "all"  # or "head" (frontend.supernet.train.finetune)
    # The loop's checks: "none", or every candidate's compile checked ("final": its output;
    # "full": after every pass), so that a mapping the compiler got wrong fails its candidate
    # instead of scoring it. A checked compile takes about 2.5x as long (docs/search.md).
    check: str = "none"

    def __post_init__(self) -> None:
        if self.finetune_what not in FINETUNE_WEIGHTS:
            raise PimcError(f"fine-tune weights '{self.finetune_what}'; accepted: "
                            f"{', '.join(FINETUNE_WEIGHTS)}")
        if self.finetune_steps < 0:
            raise PimcError(f"fine-tune steps {self.finetune_steps}; accepted: >= 0")
        from compiler.driver import CHECKS

        if self.check not in CHECKS:
            raise PimcError(f"loop check '{self.check}'; accepted: {', '.join(CHECKS)}")
        if self.placement not in PLACEMENTS:
            raise PimcError(f"placement '{self.placement}'; accepted: {', '.join(PLACEMENTS)}")
        if self.batch < 1:
            raise PimcError(f"batch {self.batch}; accepted: a positive number of rows")


@dataclass(frozen=True)
class Setup:
    """What a worker needs to evaluate candidates: plain data, so it travels to a process
    pool or a Ray cluster."""

    checkpoint: str
    supernet_digest: str
    data: str
    rows: int = 50_000
    max_table: int = 10_000
    data_seed: int = 0
    options: EvalOptions = field(default_factory=EvalOptions)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(body: dict) -> Setup:
        return Setup(**{**body, "options": EvalOptions(**body["options"])})


def digest_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def cache_key(setup: Setup, arch_json: str, target_digest: str) -> str:
    """A stable hash of everything a record depends on."""
    body = {"arch": arch_json, "target": target_digest, "options": asdict(setup.options),
            "supernet": setup.supernet_digest, "data": [setup.data, setup.rows,
                                                        setup.max_table, setup.data_seed]}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]


def loop_pipeline(target: str, opts: EvalOptions, bits: int) -> str:
    """The default stages of `pimc compile` with the loop's placement solver, less the
    lower-bound pass: the loop reads no bound, and the critical paths of every op it works
    out took 20-40 ms of a candidate's 500-800 (nasrec and nasrec-float, isaac and hetero)."""
    from compiler.pipelines import stage_specs

    specs = stage_specs(target, opts.objective, opts.time_limit, opts.seed, f"default={bits}",
                        solver=opts.placement, bound=False)
    return ",".join(spec for _, spec in specs)


def compile_cost(model, target: str | Path, opts: EvalOptions, full: bool = False):
    """(Compiled, cost figures) of an ONNX model on a target file or preset: `full`, the
    default pipeline with every check and the whole report; else the loop's pipeline with the
    loop's check (`opts.check`), and unchecked, the report's cost figures only
    (``compile(report="costs")``: the same figures, without the per-crossbar tiles and per-op
    energies the loop never reads; the checks read the whole schedule)."""
    from compiler.driver import compile
    from targets import load_target, rollup

    tgt = load_target(target)
    pipeline = None if full else loop_pipeline(str(target), opts, tgt.precision.weights)
    level = "full" if full else opts.check
    compiled = compile(model, str(target), batch=opts.batch, objective=opts.objective,
                       pipeline=pipeline, time_limit=opts.time_limit, seed=opts.seed,
                       check=level, report="costs" if level == "none" else "full")
    report, roll = compiled.report, rollup(tgt)
    sim = report["simulated"]
    energy = float(sim["energy_j"])
    return compiled, {
        "latency_s": sim["latency_cycles"] / tgt.clock,
        "samples_per_s": float(sim["samples_per_second"]),
        "energy_j": energy, "energy_per_sample_j": energy / opts.batch,
        "samples_per_j": opts.batch / energy if energy > 0 else float("inf"),
        "used_area_mm2": float(report["area"]["used_mm2"]),
        "chip_area_mm2": roll.area, "peak_power_w": roll.power,
        "crossbars_used": report.get("crossbars_used", 0),
    }


def loop_cost(model, target: str | Path, opts: EvalOptions) -> dict:
    """The loop's cost figures of a model (`compile_cost`, not full; a failed check raises
    PimcError, and so fails the candidate), its compiled result
    released (``Compiled.release``) and dropped before the collector is back on: a big
    candidate leaves about 250k objects, which are then freed by reference counting instead
    of traversed by the collection that would follow the compile (a tenth of a candidate's
    time). Dropping the released result too frees its schedule and report (a dict per op
    and transfer): alive at the pause's end, they took that collection 13-60 ms (1-14 ms
    without them) on 8 nasrec-float candidates on isaac."""
    from passes._gc_pause import gc_paused

    with gc_paused():
        compiled, cost = compile_cost(model, target, opts)
        compiled.release()
        del compiled
    return cost


_SCORERS: dict[str, object] = {}  # one supernet per worker process, loaded on first use


def _scorer(setup: Setup):
    key = json.dumps(setup.to_dict(), sort_keys=True)
    if key not in _SCORERS:
        from search._accuracy import Scorer

        o = setup.options
        _SCORERS.clear()
        _SCORERS[key] = Scorer(setup.checkpoint, setup.data, setup.rows, setup.max_table,
                               setup.data_seed, o.eval_rows, o.finetune_steps,
                               o.finetune_what)
        freeze_worker_state()
    return _SCORERS[key]


def freeze_worker_state() -> None:
    """Move every object alive now out of the cyclic collector's reach (a full collection,
    then ``gc.freeze``): once a worker has loaded what it keeps for its whole life (torch, the
    supernet, the data), before its candidates. The survivors each candidate leaves (the
    shared coster's prices) set off a full collection every 30-40 candidates, and with the
    worker's own ~190k objects in it each took about 128 ms: collection went from 4.4 to 2.1
    ms a candidate (48 nasrec-float candidates on isaac, ``search.evaluate.loop_cost``).
    What is frozen is still freed by reference counting, but a cycle among it is not until
    the next call: each call first returns what earlier ones froze to the collector, so a
    worker that loads another supernet frees the first one's cycles then."""
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    head = text[0] if text else ""
    return head if isinstance(exc, PimcError) else f"{type(exc).__name__}: {head}"


def evaluate_task(setup: dict, cand_json: str, target_yaml: str, target_digest: str) -> dict:
    """Evaluate one candidate (in a worker): its record, "ok" or "failed" with a reason."""
    from search.encoding import Candidate

    s = Setup.from_dict(setup)
    cand = Candidate.from_json(cand_json)
    record = {"key": cache_key(s, cand.arch.to_json(), target_digest), "status": "ok",
              "candidate": cand_json, "arch_hash": cand.arch.hash()}
    t0 = time.perf_counter()
    try:
        proto, acc = _scorer(s).score(cand.arch)
        record.update(acc)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="pimc-search-") as tmp:
            path = Path(tmp) / f"{target_digest}.yaml"
            path.write_text(target_yaml)
            record.update(loop_cost(proto, path, s.options))
        record["compile_s"] = time.perf_counter() - t1
    except Exception as exc:  # a failed candidate is a result of the study, not its end
        record.update(status="failed", reason=_one_line(exc))
    record["eval_s"] = time.perf_counter() - t0
    return record


def objective_values(record: dict, objectives: list[str]) -> list[float]:
    """The record's objectives, every one to minimise (maximised ones negated)."""
    return [sign * float(record[name]) for name, sign in
            (OBJECTIVES[o] for o in objectives)]


class Cache:
    """Records by cache key, one JSON file each under `folder` (written atomically)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> dict | None:
        path = self.folder / f"{key}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def put(self, record: dict) -> None:
        path = self.folder / f"{record['key']}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, sort_keys=True))
        tmp.replace(path)
