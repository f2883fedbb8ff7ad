"""The graph verifier: SSA form, dominance, no dangling uses, every op's own rules, and the
kinds of the `pim.*` facts present (declared in `ir.dialects.pim_attrs`)."""

from __future__ import annotations

from ir.core import Graph, Module, Op
from ir.dialects.pim_attrs import check_facts
from ir.errors import PimcError

__all__ = ["verify", "verify_graph"]


def _where(graph: Graph, i: int, op: Op) -> str:
    return f"@{graph.name} op #{i} ({op.name})"


def _check_op(graph: Graph, i: int, op: Op, defined: set[int]) -> None:
    for k, v in enumerate(op.operands):
        if id(v) not in defined:
            what = "is used before it is defined" if v.owner is not None and any(
                v.owner is o for o in graph.ops) else "is not defined in this graph"
            raise PimcError(f"operand {k} ({v.name or '?'}) {what}", _where(graph, i, op))
    for k, r in enumerate(op.results):
        if r.owner is not op or r.index != k:
            raise PimcError(f"result {k} does not point back to its op", _where(graph, i, op))
        if id(r) in defined:
            raise PimcError(f"result {k} is defined twice", _where(graph, i, op))
    try:
        op.verify()
        check_facts(op.name, op.attrs, "op")
    except PimcError as exc:
        message = exc.message.removeprefix(f"{op.name}: ")
        raise PimcError(message, _where(graph, i, op)) from None


def verify_graph(graph: Graph) -> None:
    """Raise PimcError naming the first broken rule in `graph`."""
    defined: set[int] = set()
    for a in graph.args:
        if a.owner is not None or id(a) in defined:
            raise PimcError(f"argument {a.name} is not a fresh graph argument", f"@{graph.name}")
        defined.add(id(a))
    for i, op in enumerate(graph.ops):
        _check_op(graph, i, op, defined)
        defined.update(id(r) for r in op.results)
    for k, v in enumerate(graph.outputs):
        if id(v) not in defined:
            raise PimcError(f"output {k} ({v.name or '?'}) is not defined", f"@{graph.name}")
    if len(graph.output_names) != len(graph.outputs):
        raise PimcError("output names and outputs differ in number", f"@{graph.name}")


def verify(module: Module) -> None:
    """Verify every graph of `module`."""
    names = [g.name for g in module.graphs]
    if len(set(names)) != len(names):
        raise PimcError("graph names are not unique", f"module @{module.name}")
    check_facts(f"module @{module.name}", module.attrs, "module")
    for g in module.graphs:
        verify_graph(g)
