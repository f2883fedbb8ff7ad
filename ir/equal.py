"""Structural equality of modules: same graphs, ops, attributes, types and wiring."""

from __future__ import annotations

from typing import Any

import numpy as np

from ir.core import Graph, Module

__all__ = ["structurally_equal"]


def _attr_eq(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f")))
    return type(a) is type(b) and a == b


def _graph_eq(g: Graph, h: Graph) -> bool:
    if (g.name, len(g.args), len(g.ops), g.output_names) != \
            (h.name, len(h.args), len(h.ops), h.output_names):
        return False
    ids = {id(a): i for i, a in enumerate(g.args)}
    jds = {id(a): i for i, a in enumerate(h.args)}
    if [a.type for a in g.args] != [a.type for a in h.args]:
        return False
    for k, (o, p) in enumerate(zip(g.ops, h.ops)):
        if type(o) is not type(p) or o.attrs.keys() != p.attrs.keys():
            return False
        if not all(_attr_eq(o.attrs[key], p.attrs[key]) for key in o.attrs):
            return False
        if [ids.get(id(v)) for v in o.operands] != [jds.get(id(v)) for v in p.operands]:
            return False
        if [r.type for r in o.results] != [r.type for r in p.results]:
            return False
        for i, (r, s) in enumerate(zip(o.results, p.results)):
            ids[id(r)] = jds[id(s)] = (k, i)
    return [ids.get(id(v)) for v in g.outputs] == [jds.get(id(v)) for v in h.outputs]


def structurally_equal(m: Module, n: Module) -> bool:
    """True when `m` and `n` are the same program (value names aside)."""
    return (m.name == n.name and len(m.graphs) == len(n.graphs)
            and m.attrs.keys() == n.attrs.keys()
            and all(_attr_eq(m.attrs[k], n.attrs[k]) for k in m.attrs)
            and all(_graph_eq(g, h) for g, h in zip(m.graphs, n.graphs)))
