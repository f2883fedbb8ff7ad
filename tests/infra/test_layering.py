"""The package's import graph: no cycles, and layers import downwards only.

Layers: ir < targets < {passes, frontend} < compiler < search. `targets` knows hardware, not
the program: from `ir` it may import only the shared error type. `search` sits above `compiler`
because it is a client of the compile API (it compiles every candidate); the one import
upwards is the `pimc` entry point's lazy dispatch to the search command. Imports inside
`if TYPE_CHECKING:` are annotations only and do not count.
"""

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ir", "targets", "passes", "frontend", "compiler", "search")
LAYER = {"ir": 0, "targets": 1, "passes": 2, "frontend": 2, "compiler": 3, "search": 4}
ALLOWED_UP = {("compiler.cli_parser", "search")}  # the CLI edge registers every subcommand
TARGETS_MAY_USE = {"ir.errors"}


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def _imported(name: str, path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    skip = _type_checking_nodes(tree)
    base = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = base
                for _ in range(node.level - 1):
                    pkg = pkg.rpartition(".")[0]
                mod = pkg + ("." + node.module if node.module else "")
            else:
                mod = node.module or ""
            out += [mod] + [f"{mod}.{a.name}" for a in node.names]
    return out


def import_graph(root: Path = ROOT) -> nx.DiGraph:
    """Module -> module it imports (anywhere in the file, functions included)."""
    modules = _modules(root)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in _imported(name, path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target.split(".")[0] in PACKAGES:
                graph.add_edge(name, target)
    return graph


def violations(graph: nx.DiGraph) -> list[str]:
    out = []
    for a, b in graph.edges:
        pa, pb = a.split(".")[0], b.split(".")[0]
        if pa == pb:
            continue
        if pa == "targets" and b not in TARGETS_MAY_USE:
            out.append(f"{a} -> {b}: targets imports only {sorted(TARGETS_MAY_USE)}")
        elif LAYER[pb] >= LAYER[pa] and (a, pb) not in ALLOWED_UP:
            out.append(f"{a} -> {b}: {pa} may not import {pb}")
    return sorted(out)


def test_no_import_cycles():
    cycles = sorted(sorted(c) for c in nx.simple_cycles(import_graph()))
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles[:10])


def test_layers_import_downwards_only():
    bad = violations(import_graph())
    assert not bad, "\n".join(bad)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, expect", [
    ({"passes/a.py": "def f():\n    from compiler import driver\n",
      "compiler/driver.py": ""}, "passes.a -> compiler.driver"),
    ({"targets/c.py": "from ir.core import Op\n", "ir/core.py": ""}, "targets.c -> ir.core"),
    ({"frontend/x.py": "import passes.y\n", "passes/y.py": ""}, "frontend.x -> passes.y"),
])
def test_a_planted_upward_import_is_caught(tmp_path, files, expect):
    bad = violations(import_graph(_tree(tmp_path, files)))
    assert any(v.startswith(expect) for v in bad), bad


def test_a_planted_cycle_is_caught_but_type_checking_imports_are_not(tmp_path):
    root = _tree(tmp_path, {
        "compiler/a.py": "from compiler.b import x\n",
        "compiler/b.py": "def f():\n    from compiler.a import y\n",
        "compiler/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                         "    from compiler.d import Z\n",
        "compiler/d.py": "from compiler.c import w\n"})
    cycles = [sorted(c) for c in nx.simple_cycles(import_graph(root))]
    assert cycles == [["compiler.a", "compiler.b"]]
