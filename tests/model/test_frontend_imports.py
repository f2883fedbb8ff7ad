"""No import cycle in frontend/data, frontend/synthetic.py, frontend/supernet, frontend/zoo,
and the supernet's lazy names load in a fresh interpreter (they once ended in RecursionError).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("frontend/data", "frontend/supernet", "frontend/zoo")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(source: str, known: set[str]) -> set[str]:
    """Modules of `known` that `source` imports anywhere (functions too), except under
    `if TYPE_CHECKING:`; `from pkg import sub` counts as importing `pkg.sub` when it is one."""
    tree = ast.parse(source)
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and
               _type_checking(node) for child in node.body for n in ast.walk(child)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            out.update(subs or {node.module})
    return out & known


def find_cycle(sources: dict[str, str]) -> list[str] | None:
    """A cycle in the import graph of `sources` (module name -> text), or None."""
    graph = {m: _imports(text, set(sources)) for m, text in sources.items()}
    state: dict[str, int] = {}  # 1 on the DFS path, 2 done

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n] if n in path else [m, n]
            if n not in state and (found := visit(n, path + [n])):
                return found
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m, [m])):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"p": "import p.a", "p.a": "from p import b", "p.b": "x = 1"}) is None
    found = find_cycle({"p": "from p.a import f", "p.a": "def g():\n    from p import h\n"})
    assert found is not None and set(found) == {"p", "p.a"}
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import p\n"
    assert find_cycle({"p": "import p.a", "p.a": guarded}) is None


def test_no_import_cycle_in_data_supernet_zoo():
    files = [ROOT / "frontend" / "synthetic.py"]
    for package in PACKAGES:
        files += sorted((ROOT / package).glob("*.py"))
    sources = {_module(f): f.read_text() for f in files}
    assert "frontend.supernet.model" in sources and "frontend.data.spec" in sources
    assert find_cycle(sources) is None, find_cycle(sources)


@pytest.mark.parametrize("code, printed", [
    ("from frontend.supernet import SuperNet; print(SuperNet.__name__)", "SuperNet"),
    ("from frontend.supernet import export, Subnet, TrainConfig; print(Subnet.__name__)",
     "Subnet"),
    ("import frontend.synthetic, frontend.data; print(frontend.data.load_data("
     "'synthetic', rows=10).num_sparse)", "26"),
    ("from frontend.data.synthetic import SyntheticCTR; import frontend.synthetic as s; "
     "print(s.SyntheticCTR is SyntheticCTR)", "True"),
    ("import frontend.supernet as s\ntry:\n    s.Nothing\nexcept AttributeError as e:\n"
     "    print(e)", "module 'frontend.supernet' has no attribute 'Nothing'"),
])
def test_fresh_interpreter_imports(code, printed):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == printed
