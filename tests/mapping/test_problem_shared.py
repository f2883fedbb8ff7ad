"""Placement's problem is built once per compile: place leaves it in `Module.analyses` with
the chosen layout's timeline, lower-bound and schedule read it; the pass manager drops an
analysis after any pass that changes the module without preserving it."""

import copy
from dataclasses import dataclass
from typing import ClassVar

import pytest
from builders import mlp

from ir.dialects import pim
from ir.text import print_module
from passes._placement import timeline as timeline_mod
from passes._placement.problem import ANALYSIS, Problem
from passes.base import Pass
from passes.manager import PassManager
from passes.pipeline import parse_pipeline


def _run(module, spec):
    PassManager(parse_pipeline(spec)).run(module)
    return module


@dataclass(frozen=True)
class _Touch(Pass):
    """A pass that reports a change (and changes nothing), preserving `keep`."""

    name: ClassVar[str] = "touch"
    changed: bool = True

    def apply(self, module):
        return self.changed


@dataclass(frozen=True)
class _Keeps(_Touch):
    preserves: ClassVar[tuple[str, ...]] = ("a",)


def test_the_manager_drops_what_a_changing_pass_does_not_preserve():
    m = mlp("isaac", [16, 8], batch=2)
    m.analyses.update(a=1, b=2)
    PassManager([_Touch(changed=False)]).run(m)
    assert m.analyses == {"a": 1, "b": 2}  # no change: every analysis still holds
    PassManager([_Keeps()]).run(m)
    assert m.analyses == {"a": 1}
    PassManager([_Touch()]).run(m)
    assert m.analyses == {}


def test_a_clone_starts_without_analyses():
    m = mlp("isaac", [16, 8], batch=2)
    m.analyses["a"] = 1
    assert m.clone().analyses == {}


@pytest.fixture
def counted(monkeypatch):
    """How many problems are built and timelines scheduled."""
    calls = {"of": 0, "schedule": 0}
    build, sched = Problem._collect, timeline_mod.schedule

    def collect(self, graph):
        calls["of"] += 1
        return build(self, graph)

    def schedule(*a, **k):
        calls["schedule"] += 1
        return sched(*a, **k)

    monkeypatch.setattr(Problem, "_collect", collect)
    monkeypatch.setattr("passes._placement.placement.schedule", schedule)
    return calls


@pytest.mark.parametrize("objective", ["latency", "throughput"])
def test_one_problem_and_no_second_schedule_per_compile(counted, objective):
    m = mlp("isaac", [40, 64, 8], batch=4)
    _run(m, f"place{{solver=greedy,objective={objective}}}")
    assert counted["of"] == 1 and m.analyses[ANALYSIS]._read[1] == m.main.ops
    tried = counted["schedule"]
    _run(m, "lower-bound,schedule")
    assert counted == {"of": 1, "schedule": tried}  # place's problem and timeline, reused
    assert ANALYSIS not in m.analyses  # schedule's transfers make it stale
    _run(m, "lower-bound")
    assert counted["of"] == 2


@pytest.mark.parametrize("objective,pipeline", [("latency", "auto"), ("throughput", "auto"),
                                                ("latency", "true"), ("throughput", "false")])
def test_reused_problem_gives_the_fresh_answer(objective, pipeline):
    m = mlp("hetero", [40, 64, 8], batch=4, embeddings=2)
    _run(m, f"place{{solver=greedy,objective={objective}}}")
    fresh = m.clone()  # the same placement, no analyses: built anew
    _run(m, f"lower-bound,schedule{{pipeline={pipeline}}}")
    _run(fresh, f"lower-bound,schedule{{pipeline={pipeline}}}")
    assert print_module(m) == print_module(fresh)
    assert m.main.find(pim.Transfer)


def test_a_problem_stops_describing_a_changed_graph():
    m = _run(mlp("isaac", [40, 64, 8], batch=4), "place{solver=greedy}")
    prob = m.analyses[ANALYSIS]
    assert Problem.shared(m) is prob
    ops = m.main.ops
    ops[0], ops[1] = ops[1], ops[0]  # the same ops, in another order
    assert Problem.shared(m) is not prob
    ops[0], ops[1] = ops[1], ops[0]
    prob = Problem.shared(m)
    m.main.ops[-1] = copy.copy(ops[-1])  # as many ops, the last one another
    assert Problem.shared(m) is not prob
    prob = Problem.shared(m)
    m.main.ops.append(copy.copy(ops[-1]))
    assert Problem.shared(m) is not prob


def test_a_problem_stops_describing_another_target():
    m = _run(mlp("isaac", [40, 64, 8], batch=4), "place{solver=greedy}")
    prob = m.analyses[ANALYSIS]
    assert prob._describes(m)
    m.attrs["pim.target"] = "hetero"
    assert not prob._describes(m)
