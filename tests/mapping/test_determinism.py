"""Every objective gives a byte-identical schedule.json when compiled twice, with another process
keeping a core busy meanwhile (CP-SAT stops on its deterministic time, not the wall clock)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.driver import compile

ROOT = Path(__file__).resolve().parents[2]
# CP-SAT runs to its time limit (status feasible) on this model for every objective
DCNV2 = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_dcn_legacy.onnx"


def _ran_to_its_limit(module) -> bool:
    """CP-SAT stopped on its time limit (status feasible), whether its placement was used or
    scored worse than greedy's on the schedule (then greedy's is kept, with greedy's status)."""
    status, why = module.attrs["pim.place.status"], module.attrs.get("pim.place.fallback", "")
    return status == "feasible" or why.startswith("CP-SAT's placement (feasible on its own")


@pytest.fixture
def busy_core():
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("objective", ["latency", "throughput", "energy", "mix"])
def test_schedules_are_byte_identical_under_load(objective, busy_core):
    texts = []
    for _ in range(2):
        c = compile(DCNV2, "isaac", batch=16, objective=objective, time_limit=0.3, check=False)
        assert _ran_to_its_limit(c.module)
        texts.append(json.dumps(c.schedule, sort_keys=True))
    assert busy_core.poll() is None  # the load was there for both compiles
    assert texts[0] == texts[1]


def test_the_solver_stops_on_deterministic_time_and_the_wall_clock_never_binds(monkeypatch):
    """The parameters CP-SAT gets: its stop is the deterministic limit, with a fixed seed and
    worker count; the wall-clock limit is a runaway guard far beyond it (a wall-clock limit
    near the deterministic one would make the answer depend on the machine's load)."""
    from ortools.sat.python import cp_model

    seen = []
    real = cp_model.CpSolver.solve

    def spy(self, model, *args):
        seen.append(self.parameters)
        return real(self, model, *args)

    monkeypatch.setattr(cp_model.CpSolver, "solve", spy)
    monkeypatch.setattr(cp_model.CpSolver, "Solve", spy)
    c = compile(DCNV2, "isaac", batch=16, objective="throughput", time_limit=0.3, check=False)
    assert c.module.attrs["pim.place.status"] == "feasible" and len(seen) == 1
    p = seen[0]
    assert p.max_deterministic_time == pytest.approx(0.3)
    assert p.max_time_in_seconds >= 60 and p.random_seed == 0 and p.num_workers == 1
