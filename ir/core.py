"""The IR core: SSA values, declarative ops, graphs and modules.

A `Module` holds `Graph`s; a graph holds its arguments, a list of `Op`s in a valid order
(every operand is defined above its use) and its outputs. An op is an instance of a small
declarative class: a dotted `name`, an operand spec, an attribute spec and a type rule.

Attributes with a dotted name (`pim.unit`, `pim.start`) are dialect-prefixed attributes
that any op may carry beside the ones its class declares: the mapping passes annotate ops
with placement and timing this way, and they print and parse like the others.

`Op.meta` is the side table analyses write their facts to. It is not printed and is
dropped by copies; documented keys:

- ``"cost"``: the cost model's result for this op (targets), written by analyses.
- ``"source"``: the ONNX node name(s) an op was imported or fused from (frontend, passes).
- ``"unit"``: the unit class chosen by partitioning (passes).

`Module.analyses` is the module-level side table: what a pass derived from the whole IR
(e.g. placement's problem, by name) and left for the passes after it. It is not printed and
not copied; the pass manager drops every entry a pass that changed the module does not
declare it preserves (`Pass.preserves`), so an entry describes the IR as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ir.attrs import _PLAIN, REQUIRED, Attr, _extra_attr
from ir.errors import PimcError
from ir.types import TensorType

__all__ = ["Attr", "Graph", "Module", "Op", "Value", "REQUIRED", "detach"]

# Op class -> (its operands_spec, the operand range derived from it), kept per class because
# every op construction checks its operand count.
_RANGES: dict[type, tuple[tuple[str, ...], tuple[int, int | None]]] = {}


class Value:
    """An SSA value: the result of one op (or a graph argument) with a tensor type."""

    __slots__ = ("type", "owner", "index", "name")

    def __init__(self, type: TensorType, owner: Op | None = None, index: int = 0,
                 name: str | None = None) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name

    def __repr__(self) -> str:
        return f"Value({self.name or '?'}: {self.type})"


class Op:
    """Base of every op. Subclasses declare `name`, `operands`, `attributes`, `num_results`."""

    name: ClassVar[str] = ""
    # Operand names; a trailing "?" marks an optional operand, "*" a variadic one (last only).
    operands_spec: ClassVar[tuple[str, ...]] = ()
    attrs_spec: ClassVar[Mapping[str, Attr]] = {}
    num_results: ClassVar[int | None] = 1  # None: decided by infer_types

    __slots__ = ("operands", "results", "attrs", "meta")

    def __init__(self, operands: Iterable[Value] = (), attrs: Mapping[str, Any] | None = None,
                 result_types: Iterable[TensorType] | None = None,
                 meta: Mapping[str, Any] | None = None) -> None:
        self.operands = list(operands)
        self.attrs = self._normalize_attrs(attrs or {})
        self._finish(result_types, meta)

    def _finish(self, result_types: Iterable[TensorType] | None,
                meta: Mapping[str, Any] | None) -> None:
        """The rest of a construction, once operands and normalised attributes are set."""
        self._check_operand_count()
        types = list(result_types) if result_types is not None else self.infer_types()
        if self.num_results is not None and len(types) != self.num_results:
            raise PimcError(f"{self.name} has {self.num_results} result(s), got {len(types)}")
        self.results = [Value(t, self, i) for i, t in enumerate(types)]
        self.meta: dict[str, Any] = dict(meta or {})

    def variant(self, operands: Iterable[Value], changes: Mapping[str, Any]) -> Op:
        """What `type(self)(operands, {**self.attrs, **changes})` builds, normalising only the
        changed values: the others were when this op was built. For the many ops a lowering
        makes that differ in a few attributes (the crossbar tiles of one matrix). A change
        that adds a key or drops one (None) takes the full construction."""
        attrs = dict(self.attrs)
        declared = self.attrs_spec
        for key, value in changes.items():
            if value is None or key not in attrs:
                return type(self)(operands, {**self.attrs, **changes})
            spec = declared.get(key)
            attrs[key] = spec.normalize(self.name, key, value) if spec is not None \
                else _extra_attr(self.name, key, value)
        op = object.__new__(type(self))
        op.operands = list(operands)
        op.attrs = attrs
        op._finish(None, None)
        return op

    # -- construction checks ------------------------------------------------------------
    def _normalize_attrs(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        declared = self.attrs_spec
        extra = sorted(attrs.keys() - declared.keys()) if len(attrs) else ()
        unknown = [k for k in extra if "." not in k]
        if unknown:
            accepted = ", ".join(declared) or "none"
            raise PimcError(f"{self.name} has no attribute '{unknown[0]}'; accepted: {accepted}")
        out = {}
        for key, spec in declared.items():
            value = attrs.get(key)
            if type(value) is spec._keep and spec.choices is None:
                out[key] = value  # a scalar `spec.keeps`, inline: most values are these
            elif value is not None:
                out[key] = spec.normalize(self.name, key, value)
            elif spec.default is REQUIRED:
                raise PimcError(f"{self.name} needs attribute '{key}' ({spec.kind})")
            elif spec.default is not None:
                out[key] = spec.default
        for key in extra:
            value = attrs[key]
            out[key] = value if type(value) in _PLAIN else _extra_attr(self.name, key, value)
        return out

    @classmethod
    def operand_range(cls) -> tuple[int, int | None]:
        """Least and most operand counts (None: unbounded)."""
        known = _RANGES.get(cls)
        if known is not None and known[0] is cls.operands_spec:
            return known[1]
        _RANGES[cls] = (cls.operands_spec, cls._operand_range())
        return _RANGES[cls][1]

    @classmethod
    def _operand_range(cls) -> tuple[int, int | None]:
        fixed = [s for s in cls.operands_spec if s[-1] not in "?*"]
        if any(s.endswith("*") for s in cls.operands_spec):
            return len(fixed), None
        return len(fixed), len(cls.operands_spec)

    def _check_operand_count(self) -> None:
        lo, hi = self.operand_range()
        n = len(self.operands)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"{lo}..{hi if hi is not None else 'n'}"
            raise PimcError(f"{self.name} takes {want} operand(s) "
                            f"({', '.join(self.operands_spec)}), got {n}")

    # -- access ----------------------------------------------------------------------------
    def arg(self, key: str) -> Value | None:
        """The operand named `key` in the spec (None when an optional one is absent)."""
        for i, spec in enumerate(self.operands_spec):
            if spec.rstrip("?*") == key:
                return self.operands[i] if i < len(self.operands) else None
        raise KeyError(f"{self.name} has no operand '{key}'")

    @property
    def result(self) -> Value:
        if len(self.results) != 1:
            raise PimcError(f"{self.name} has {len(self.results)} results, not one")
        return self.results[0]

    @property
    def in_types(self) -> list[TensorType]:
        return [v.type for v in self.operands]

    # -- semantics hooks -------------------------------------------------------------------
    def infer_types(self) -> list[TensorType]:
        """Result types from operand types and attributes; ops that cannot infer must be
        given result types explicitly."""
        raise PimcError(f"{self.name} cannot infer its result types; give them explicitly")

    def check(self) -> None:
        """Op-specific checks beyond type inference; raise PimcError with the reason."""

    def verify(self) -> None:
        """Check operand count, attributes, op-specific rules and the result types."""
        self._check_operand_count()
        self._normalize_attrs(self.attrs)
        self.check()
        expected = self.infer_types()
        got = [r.type for r in self.results]
        if len(expected) != len(got) or any(
                not e.same_data(g) for e, g in zip(expected, got)):
            exp = ", ".join(map(str, expected))
            raise PimcError(f"{self.name}: result type {', '.join(map(str, got))} "
                            f"does not match the inferred {exp}")

    def clone_with(self, operands: Iterable[Value]) -> Op:
        """A copy on other operands, with the same attributes and result types."""
        op = type(self)(operands, self.attrs, [r.type for r in self.results])
        for new, old in zip(op.results, self.results):
            new.name = old.name
        return op

    def __repr__(self) -> str:
        return f"<{self.name} {len(self.operands)}->{len(self.results)}>"


class Graph:
    """A function: arguments, ops in a valid order, and named outputs."""

    def __init__(self, name: str, args: list[Value] | None = None,
                 ops: list[Op] | None = None, outputs: list[Value] | None = None,
                 output_names: list[str] | None = None) -> None:
        self.name = name
        self.args = list(args or [])
        self.ops = list(ops or [])
        self.outputs = list(outputs or [])
        self.output_names = list(output_names or [f"out{i}" for i in range(len(self.outputs))])

    def append(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    def insert_before(self, anchor: Op, *ops: Op) -> None:
        i = self.ops.index(anchor)
        self.ops[i:i] = list(ops)

    def users(self) -> dict[Value, list[Op]]:
        """Every value's using ops, in order (graph outputs are not listed)."""
        uses: dict[Value, list[Op]] = {}
        for op in self.ops:
            for v in op.operands:
                uses.setdefault(v, []).append(op)
        return uses

    def replace_uses(self, old: Value, new: Value) -> None:
        """Make every user of `old` (and the outputs) use `new` instead."""
        for op in self.ops:
            op.operands = [new if v is old else v for v in op.operands]
        self.outputs = [new if v is old else v for v in self.outputs]

    def remove(self, ops: Iterable[Op]) -> None:
        dead = {id(o) for o in ops}
        self.ops = [o for o in self.ops if id(o) not in dead]

    def find(self, op_type: type[Op]) -> list[Op]:
        return [o for o in self.ops if isinstance(o, op_type)]

    def __repr__(self) -> str:
        return f"<Graph @{self.name}: {len(self.ops)} ops>"


def detach(ops: Iterable[Op]) -> None:
    """Break the links from the results of `ops` to them (an op holds its results and each
    result its op: the IR's cycles), for ops no graph holds any more and whose results
    nothing reads: freed by reference counting at once instead of by the cyclic collector. A
    search-loop candidate's front end drops about 580 ops (folded shape expressions, dead
    constants, rewritten layers), 3.2k objects the collection after it walked."""
    for op in ops:
        for v in op.results:
            v.owner = None


class Module:
    """A compilation unit: graphs (the first is the entry) and module attributes."""

    def __init__(self, name: str = "module", graphs: list[Graph] | None = None,
                 attrs: dict[str, Any] | None = None) -> None:
        self.name = name
        self.graphs = list(graphs or [])
        self.attrs = dict(attrs or {})
        self.analyses: dict[str, Any] = {}  # see the module docstring

    def release(self) -> None:
        """Empty the module, first breaking the links from values to their ops (`detach`), so
        that what only the module reached is freed by reference counting once it is dropped,
        without waiting for the cyclic collector: for a caller done with a big module (the
        search loop, with every candidate's)."""
        for graph in self.graphs:
            detach(graph.ops)
        self.graphs = []
        self.analyses.clear()

    def clone(self) -> Module:
        """A copy that passes can rewrite without touching this module: new graphs, values
        and ops, their attribute and meta dicts copied. The values in those dicts are shared:
        scalars, strings and tuples are immutable, and no pass writes a weight array in place
        (a rewrite makes a new array), so tables stay in memory (or in their file) once."""
        values: dict[int, Value] = {}

        def fresh(v: Value, owner: Op | None) -> Value:
            values[id(v)] = new = Value(v.type, owner, v.index, v.name)
            return new

        def mapped(v: Value, where: str) -> Value:
            if id(v) not in values:
                raise PimcError(f"{where} reads a value not defined before it", "clone")
            return values[id(v)]

        graphs = []
        for g in self.graphs:
            args = [fresh(a, None) for a in g.args]
            ops = []
            for i, op in enumerate(g.ops):
                new = object.__new__(type(op))  # no re-validation: the op is already built
                new.operands = [mapped(v, f"@{g.name} op #{i}") for v in op.operands]
                new.attrs, new.meta = dict(op.attrs), dict(op.meta)
                new.results = [fresh(r, new) for r in op.results]
                ops.append(new)
            outputs = [mapped(v, f"@{g.name} output") for v in g.outputs]
            graphs.append(Graph(g.name, args, ops, outputs, list(g.output_names)))
        return Module(self.name, graphs, dict(self.attrs))

    @property
    def main(self) -> Graph:
        if not self.graphs:
            raise PimcError(f"module @{self.name} has no graph")
        return self.graphs[0]

    def graph(self, name: str) -> Graph:
        for g in self.graphs:
            if g.name == name:
                return g
        raise PimcError(f"module @{self.name} has no graph @{name}")

    def __repr__(self) -> str:
        return f"<Module @{self.name}: {len(self.graphs)} graphs>"
