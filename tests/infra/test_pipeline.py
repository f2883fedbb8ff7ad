"""Pipeline spec strings, the registry and the pass manager."""

import io
from dataclasses import dataclass

import pytest

import passes
from ir.dialects import lookup
from ir.errors import PimcError
from ir.text import parse
from passes.base import Pass
from passes.manager import PassManager, PassTimer, PrintIRAfterAll
from passes.pipeline import parse_pipeline, pipeline_spec

IR = """\
module @m {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {
    %0 = nn.relu(%x) : tensor<2x3xf32>
    %1 = nn.neg(%0) : tensor<2x3xf32>
    return %1
  }
}
"""


@dataclass(frozen=True)
class Toy(Pass):
    """Swaps nn.neg for nn.relu `times` times; `mode` and `tags` exercise option types."""

    name = "toy"
    times: int = 1
    scale: float = 1.0
    strict: bool = False
    mode: str = "fast"
    tags: tuple[str, ...] = ()
    per_op: tuple[tuple[str, str], ...] = ()

    def apply(self, module):
        g = module.main
        for op in g.find(lookup("nn.neg"))[: self.times]:
            new = lookup("nn.relu")(op.operands)
            g.insert_before(op, new)
            g.replace_uses(op.result, new.result)
            g.remove([op])
        return self.times > 0


@dataclass(frozen=True)
class Breaker(Pass):
    name = "breaker"

    def apply(self, module):
        module.main.ops.reverse()
        return True


@pytest.fixture(autouse=True)
def toy_passes(monkeypatch):
    monkeypatch.setitem(passes.PASSES, "toy", f"{__name__}:Toy")
    monkeypatch.setitem(passes.PASSES, "breaker", f"{__name__}:Breaker")


def test_registry_names_match_the_passes_own_names():
    for key in passes.PASSES:
        assert passes.get_pass(key).name == key


def test_options_are_typed_and_the_spec_round_trips():
    ps = parse_pipeline('toy{times=3,scale=0.5,strict=true,mode="slow",tags=[a,b]},toy')
    assert ps[0] == Toy(times=3, scale=0.5, strict=True, mode="slow", tags=("a", "b"))
    assert ps[1] == Toy()
    assert pipeline_spec(ps) == "toy{times=3,scale=0.5,strict=true,mode=slow,tags=[a,b]},toy"
    assert parse_pipeline(pipeline_spec(ps)) == ps
    assert parse_pipeline("") == []


def test_per_op_options_are_collected_in_order():
    (p,) = parse_pipeline("toy{times=2,rec.attention=16,nn.gemm=4}")
    assert p.per_op == (("rec.attention", "16"), ("nn.gemm", "4"))
    assert p.spec() == "toy{times=2,rec.attention=16,nn.gemm=4}"


@pytest.mark.parametrize("spec, message", [
    ("nosuch", "unknown pass 'nosuch'; known passes: "),
    ("toy{speed=1}", "pass 'toy' has no option 'speed'; options: times, scale"),
    ("toy{times=many}", "option 'times' of pass 'toy' is 'many'; accepted: int"),
    ("toy{strict=yes}", "option 'strict' of pass 'toy' is 'yes'; accepted: true, false"),
    ("toy{times=1,times=2}", "option 'times' of pass 'toy' is given twice"),
    ("toy{times=1", "pipeline syntax error at column"),
])
def test_bad_pipelines_fail_with_the_reason(spec, message):
    with pytest.raises(PimcError) as exc:
        parse_pipeline(spec)
    assert message in str(exc.value)


def test_unknown_pass_lists_every_known_one():
    with pytest.raises(PimcError) as exc:
        parse_pipeline("nosuch")
    assert str(exc.value).endswith("known passes: " + ", ".join(sorted(passes.PASSES)))


def test_manager_runs_instruments_and_reports_changes():
    m = parse(IR)
    out, timer = io.StringIO(), PassTimer()
    changed = PassManager(parse_pipeline("toy,toy{times=0}"), True,
                          [PrintIRAfterAll(out), timer]).run(m)
    assert changed == [True, False]
    assert [op.name for op in m.main.ops] == ["nn.relu", "nn.relu"]
    text = out.getvalue()
    assert "// ----- IR after toy -----" in text
    assert "// ----- IR after toy{times=0} (no change) -----" in text
    assert [n for n, _ in timer.times] == ["toy", "toy{times=0}"]
    assert "total" in timer.report()


def test_manager_verifies_after_every_pass():
    with pytest.raises(PimcError, match="IR is invalid after pass 'breaker'.*used before"):
        PassManager(parse_pipeline("breaker")).run(parse(IR))
    PassManager(parse_pipeline("breaker"), verify_each=False).run(parse(IR))
