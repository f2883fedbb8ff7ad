"""The `pim.*` fact contract: one declaration per fact, kinds checked, no bare strings, docs in
step with the declarations."""

import ast
import re
from pathlib import Path

import pytest

from ir.core import Module
from ir.dialects import pim_attrs
from ir.dialects.pim_attrs import FACTS, LOC, PLACE_FACTS, REPLICAS, UNIT, set_group
from ir.errors import PimcError
from ir.text import parse
from ir.verify import verify

ROOT = Path(__file__).resolve().parents[2]
FACT_TEXT = re.compile(r"pim\.[a-z_]+(\.[a-z_]+)?$")

MODULE = """module @m attributes {pim.batch = 2, pim.target = "isaac"} {
  graph @main(%x: tensor<2x4xf32>) -> (y: tensor<2x4xf32>) {
    %0 = nn.relu(%x) {ATTR} : tensor<2x4xf32>
    return %0
  }
}
"""


def _module(attr: str) -> Module:
    return parse(MODULE.replace("ATTR", attr))


def test_every_fact_has_a_writer_readers_and_a_meaning():
    for name, fact in FACTS.items():
        assert name == fact.name and name.startswith("pim.")
        assert fact.writer and fact.readers and fact.meaning, name
        assert fact.scope in ("op", "module")


def test_the_verifier_accepts_declared_facts_of_the_right_kind():
    verify(_module('pim.unit = "digital", pim.loc = [3], pim.start = 0, pim.end = 4'))


@pytest.mark.parametrize("attr, words", [
    ('pim.lco = [3]', "unknown op attribute 'pim.lco'"),  # a typo is an error, not a None
    ('pim.loc = "3"', "pim.loc"),  # ints expected
    ('pim.unit = "dram"', "accepted: 'crossbar', 'digital', 'bank', 'none'"),
    ('pim.replicas = 1.5', "pim.replicas"),
    ('pim.target = "isaac"', "unknown op attribute 'pim.target'"),  # a module fact on an op
])
def test_the_verifier_refuses_undeclared_or_mistyped_facts(attr, words):
    with pytest.raises(PimcError, match=re.escape(words)):
        verify(_module(attr))


def test_module_facts_are_checked_too():
    m = _module('pim.unit = "digital"')
    m.attrs["pim.batch"] = "two"
    with pytest.raises(PimcError, match="pim.batch"):
        verify(m)
    m.attrs["pim.batch"] = 2
    m.attrs["pim.interval_cycles"] = 3
    with pytest.raises(PimcError, match="unknown module attribute 'pim.interval_cycles'"):
        verify(m)


def test_accessors_normalise_refuse_wrong_kinds_and_name_the_writer():
    op = _module('pim.unit = "digital"').main.ops[0]
    LOC.set(op, [1, 2])
    assert op.attrs["pim.loc"] == (1, 2)
    with pytest.raises(PimcError, match="pim.replicas"):
        REPLICAS.set(op, "two")
    assert REPLICAS.of(op, 1) == 1
    with pytest.raises(PimcError, match="place writes it"):
        REPLICAS.of(op)
    assert UNIT.of(op) == "digital"


def test_a_group_is_replaced_whole_and_refuses_undeclared_keys():
    m = _module('pim.unit = "digital"')
    set_group(m, PLACE_FACTS, {"solver": "cp-sat", "fallback": "why"})
    set_group(m, PLACE_FACTS, {"solver": "greedy"})
    assert m.attrs["pim.place.solver"] == "greedy" and "pim.place.fallback" not in m.attrs
    with pytest.raises(PimcError, match="undeclared facts"):
        set_group(m, PLACE_FACTS, {"solvr": "greedy"})


def _fact_strings(path: Path) -> list[tuple[int, str]]:
    """String literals in `path` that spell a whole `pim.*` name (docstrings never match)."""
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if FACT_TEXT.match(node.value):
                out.append((node.lineno, node.value))
    return out


def _op_names() -> set[str]:
    """Names of the pim dialect's ops (`pim.mvm`, ...): op kinds, not facts."""
    from ir.dialects import all_ops

    return {name for name in all_ops() if name.startswith("pim.")}


def test_no_module_spells_a_fact_as_a_bare_string():
    contract = Path(pim_attrs.__file__).resolve()
    ops = _op_names()
    assert "pim.mvm" in ops and "pim.loc" not in ops
    found = []
    for layer in ("compiler", "passes", "targets", "ir", "frontend", "search"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            if path.resolve() == contract:
                continue
            found += [f"{path.relative_to(ROOT)}:{line}: {text!r}"
                      for line, text in _fact_strings(path) if text not in ops]
    assert not found, "\n".join(found)


def test_the_string_scan_sees_a_planted_fact(tmp_path):
    planted = tmp_path / "p.py"
    planted.write_text('"""Docs may say pim.loc."""\nx = op.attrs.get("pim.loc")\n')
    assert _fact_strings(planted) == [(2, "pim.loc")]


@pytest.mark.parametrize("scope", ["module", "op"])
def test_docs_tables_are_the_contract(scope):
    doc = (ROOT / "docs" / "mapping.md").read_text()
    match = re.search(rf"<!-- facts:{scope} -->\n(.*?)\n<!-- /facts:{scope} -->", doc, re.S)
    assert match, f"docs/mapping.md has no facts:{scope} table"
    assert match.group(1) == pim_attrs.markdown_table(scope)
