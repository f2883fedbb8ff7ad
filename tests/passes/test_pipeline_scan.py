"""Pipeline specs are read without lark where `_scan` can: whatever it reads, it reads as
pipeline.lark does, and what it does not (errors included) goes to lark, whose messages say
what is wrong. Every spec the driver builds is read without loading lark."""

import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lark import UnexpectedInput

from passes.pipeline import _lark, _scan, _value

ROOT = Path(__file__).resolve().parents[2]


def _by_lark(spec: str):
    try:
        tree = _lark().parse(spec)
    except UnexpectedInput:
        return None
    return [(str(p.children[0]),
             [(str(o.children[0]), _value(o.children[1]))
              for o in (p.children[1].children if len(p.children) > 1 else [])])
            for p in tree.children]


_WORD = st.text("abz09-_.AZ/:", min_size=1, max_size=5)
_VALUE = _WORD | _WORD.map(lambda w: f'"{w} x"') | st.lists(_WORD, max_size=3).map(
    lambda ws: "[" + ",".join(ws) + "]")
_OPTION = st.tuples(_WORD, _VALUE).map(lambda kv: f"{kv[0]}={kv[1]}")
_PASS = st.tuples(_WORD, st.none() | st.lists(_OPTION, max_size=3)).map(
    lambda p: p[0] + ("" if p[1] is None else "{" + ",".join(p[1]) + "}"))
_SPEC = st.lists(_PASS, max_size=3).map(",".join)
_NOISE = st.text(' \t\n\v,{}[]="aA-_.0x\u00a0', max_size=12)


def _agrees(spec: str) -> None:
    scanned, parsed = _scan(spec), _by_lark(spec)
    assert scanned is None or scanned == parsed, spec
    if parsed is None:
        assert scanned is None, spec


@settings(max_examples=600, deadline=None)
@given(_SPEC)
def test_well_formed_looking_specs_read_as_lark_reads_them(spec):
    _agrees(spec)


@settings(max_examples=600, deadline=None)
@given(_SPEC, _NOISE, st.integers(0, 40))
def test_damaged_specs_read_as_lark_reads_them_or_go_to_lark(spec, noise, at):
    _agrees(spec[:at] + noise + spec[at:])


def test_every_default_stage_spec_is_read_without_lark():
    code = ("import sys\nfrom compiler.pipelines import stage_specs\n"
            "from passes.pipeline import _scan, parse_pipeline\n"
            "for objective in ('latency', 'throughput', 'energy', 'mix'):\n"
            "    for _, spec in stage_specs('isaac', objective, 1.0, 0, 'default=8,inputs=/tmp/x.npz',"
            " 'p.npz'):\n"
            "        assert _scan(spec) is not None, spec\n"
            "        parse_pipeline(spec)\n"
            "print('lark' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.split() == ["False"]


NEAR_MISSES = ["a,", ",a", "a,,b", "a{k=v,}", "a{,k=v}", "a{k=[x,]}", "a{k=[,x]}", "a{k=}",
               "a{=v}", "a{k=v", "a{k v}", "a{k=[x}", "A", "a{k=[\"x\"]}", "a{k=\"x\"y}",
               "a b", "a\v", "a{k=\u00a0v}", "a{k==v}", "a{}{}", "a{k=v}b", "1a", "a{.k=v}"]


def test_near_misses_go_to_lark_and_its_error():
    for spec in NEAR_MISSES:
        assert _scan(spec) is None, spec
        assert _by_lark(spec) is None, spec
    for spec in ["a", "a{}", "a{k=[]}", " a { k = v } , b ", "a{k=\"\"}", "a{k.x-y=1}"]:
        assert _scan(spec) == _by_lark(spec) is not None, spec


def test_a_solver_given_to_the_stages_reaches_place_alone():
    from compiler.pipelines import stage_specs
    from passes.pipeline import parse_pipeline

    default = dict(stage_specs("isaac", "latency", 1.0, 0))
    naive = dict(stage_specs("isaac", "latency", 1.0, 0, solver="naive"))
    assert {k for k in naive if naive[k] != default[k]} == {"placed"}
    assert parse_pipeline(naive["placed"])[0].solver == "naive"
