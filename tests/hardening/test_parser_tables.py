"""No code from data: the text parsers never unpickle anything from the temp folder.

lark's `cache=True` unpickles `<tmp>/.lark_cache_<user>_<hash>_<py>.tmp` before checking it, so
anyone who can write to a shared temp folder ran code as every pimc user. The parsers now load
JSON tables shipped beside their grammar (data, never code).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIR = """module @m {
  graph @main(%x: tensor<2xf32>) -> (y: tensor<2xf32>) {
    %0 = nn.relu(%x) : tensor<2xf32>
    return %0
  }
}
"""

# The exact constructions the parsers used before (their cache file names follow from them).
_OLD_NAMES = textwrap.dedent("""
    from pathlib import Path
    from lark import Lark, Transformer
    root = Path(%r)
    Lark((root / "ir/text/pir.lark").read_text(), parser="lalr", transformer=Transformer(),
         maybe_placeholders=False, cache=True)
    Lark((root / "passes/pipeline.lark").read_text(), parser="lalr", maybe_placeholders=False,
         cache=True)
""")


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}


def _opt(tmp: Path, work: Path) -> subprocess.CompletedProcess:
    (work / "m.pir").write_text(PIR)
    cmd = [sys.executable, "-m", "compiler", "opt", str(work / "m.pir"), "-p",
           "canonicalize", "-o", str(work / "o.pir")]
    return subprocess.run(cmd, cwd=ROOT, env=_env(tmp), capture_output=True, text=True,
                          timeout=120)


def test_a_planted_pickle_at_the_old_cache_path_does_not_run(tmp_path: Path) -> None:
    tmp, work = tmp_path / "tmp", tmp_path / "work"
    tmp.mkdir()
    work.mkdir()
    subprocess.run([sys.executable, "-c", _OLD_NAMES % str(ROOT)], env=_env(tmp), check=True,
                   timeout=120)
    planted = sorted(tmp.glob(".lark_cache*"))
    assert len(planted) == 2  # the near miss: the names the old code loaded from exist
    marker = tmp_path / "payload-ran"
    for path in planted:
        path.write_bytes(b"x\n" + pickle.dumps(_Payload(marker)))
    run = _opt(tmp, work)
    assert run.returncode == 0, run.stderr
    assert not marker.exists()
    assert (work / "o.pir").read_text().startswith("module @m")


def test_nothing_is_cached_in_the_temp_folder(tmp_path: Path) -> None:
    tmp, work = tmp_path / "tmp", tmp_path / "work"
    tmp.mkdir()
    work.mkdir()
    run = _opt(tmp, work)
    assert run.returncode == 0, run.stderr
    assert list(tmp.iterdir()) == []


GRAMMARS = [ROOT / "ir" / "text" / "pir.lark", ROOT / "passes" / "pipeline.lark"]


@pytest.mark.parametrize("grammar", GRAMMARS, ids=lambda p: p.name)
def test_shipped_tables_match_their_grammar(grammar: Path) -> None:
    """After a grammar edit, regenerate: python -m ir.text ir/text/pir.lark passes/pipeline.lark"""
    from ir.text.lalr import _key, _shipped

    assert _shipped(grammar, grammar.read_text()) is not None, \
        f"stale tables for {grammar.name}; key {_key(grammar.read_text())}"


def test_tables_parse_like_the_grammar_and_stale_ones_are_not_used(tmp_path: Path) -> None:
    from lark import Lark

    from ir.text.lalr import lalr_parser, tables_path

    grammar = GRAMMARS[1]
    built = Lark(grammar.read_text(), parser="lalr", maybe_placeholders=False)
    shipped = lalr_parser(grammar)
    for spec in ["a", "a,b{x=1}", 'p{k="v, w",l=[1,2]},q{}', "", "tile{rows=128}"]:
        assert shipped.parse(spec) == built.parse(spec)
    # near miss: tables whose key does not match the grammar are ignored, not trusted
    copy = tmp_path / "pipeline.lark"
    copy.write_text(grammar.read_text().replace('NAME: /[a-z]', 'NAME: /[a-zA-Z]'))
    tables_path(copy).write_text(tables_path(grammar).read_text())
    assert lalr_parser(copy).parse("Upper").children[0].children[0] == "Upper"
    with pytest.raises(Exception):
        shipped.parse("Upper")
