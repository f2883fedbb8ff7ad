"""Pattern-matching and rewrite helpers shared by canonicalize and the fusion rules.

A `Rule` is anchored on op types. Its `pattern(anchor, ctx)` walks up from the anchor and
binds what it finds into a `Match`, raising `NoMatch(reason)` on the first thing that does
not fit; its `check(match)` returns None or the reason the match may not be rewritten; its
`rewrite(match)` builds the new ops and names the value that replaces the anchor's result.
Patterns read linearly because the helpers below raise instead of returning flags.

A tracer records why each rule did not fire at each anchor:

    with tracing() as records:
        FuseInteractions().apply(module)
    # records: [Trace(rule="dense", anchor=<nn.matmul>, reason="..."), ...]
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ir.core import Graph, Op, Value, detach
from ir.dialects import nn

__all__ = ["Ctx", "Match", "NoMatch", "Rewrite", "Rule", "Trace", "apply_rules", "const",
           "const_of", "dce", "einsum_terms", "expect", "new_const", "producer", "scalar_of",
           "sole_use", "split_const", "tracing"]


class NoMatch(Exception):
    """The pattern does not fit; the message is the reason."""


@dataclass
class Match:
    """What a pattern bound: the anchor, the matched ops (anchor included) and named values."""

    anchor: Op
    ops: list[Op] = field(default_factory=list)
    vals: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["vals"][key]
        except KeyError:
            raise AttributeError(key) from None


@dataclass(frozen=True)
class Rewrite:
    """New ops (inserted before the anchor, in order) and the value replacing the anchor;
    `more` replaces the anchor's further results, in order (an op with several results)."""

    ops: list[Op]
    result: Value
    more: tuple[Value, ...] = ()


@dataclass(frozen=True)
class Rule:
    name: str
    anchors: tuple[type[Op], ...]
    pattern: Callable[[Op, Ctx], Match]
    rewrite: Callable[[Match], Rewrite]
    check: Callable[[Match, Ctx], str | None] = lambda m, ctx: None

    def try_rewrite(self, op: Op, ctx: Ctx) -> tuple[Match, Rewrite] | str:
        """The match and rewrite at `op`, or the reason there is none."""
        try:
            m = self.pattern(op, ctx)
        except NoMatch as exc:
            return str(exc)
        if op not in m.ops:
            m.ops.insert(0, op)
        reason = self.check(m, ctx) or _interior_reason(m, ctx)
        return reason if reason else (m, self.rewrite(m))


@dataclass(frozen=True)
class Trace:
    rule: str
    anchor: Op
    reason: str


_TRACE: contextvars.ContextVar[list[Trace] | None] = contextvars.ContextVar("pimc_rule_trace",
                                                                           default=None)


@contextlib.contextmanager
def tracing() -> Iterator[list[Trace]]:
    """Record, while active, every (rule, anchor, reason) where a rule did not fire."""
    records: list[Trace] = []
    token = _TRACE.set(records)
    try:
        yield records
    finally:
        _TRACE.reset(token)


class Ctx:
    """The graph under rewrite, with use lists and an op order kept current on every edit.

    Edits made through the ctx are cheap: new ops wait beside their anchor and removed ops stay
    in `graph.ops` until `flush()` writes the op list once (rewrite drivers flush per sweep).
    Between flushes `position` orders ops consistently: new ops get fractional positions just
    before their anchor.
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.refresh()

    def refresh(self) -> None:
        """Recount from the graph, after edits made around the ctx (flush pending ones first)."""
        self._users: dict[Value, list[Op]] | None = None  # built on first use
        self._clean = True
        self._outputs = {id(v) for v in self.graph.outputs}
        self._pos: dict[int, float] = {id(o): i for i, o in enumerate(self.graph.ops)}
        self._before: dict[int, list[Op]] = {}
        # What rules work out from the graph as it is (a movement region by the value it
        # ends in: two rules walk it from each movement op); every edit empties it.
        self.memo: dict[Any, Any] = {}

    def _uses(self) -> dict[Value, list[Op]]:
        if self._users is None:  # always before the first edit: edits go through here
            self._users = self.graph.users()
            # A graph that had dead ops is cleaned whole on its first change, as dce would.
            self._clean = all(self._used(o) for o in self.graph.ops)
        return self._users

    def alive(self, op: Op) -> bool:
        return id(op) in self._pos

    def position(self, op: Op) -> float:
        """Where `op` is in the graph order (comparable until the next flush)."""
        return self._pos[id(op)]

    def users(self, v: Value) -> list[Op]:
        """The ops using `v`, once per use, in no particular order."""
        return self._uses().get(v, [])

    def is_output(self, v: Value) -> bool:
        return id(v) in self._outputs

    def _used(self, op: Op) -> bool:
        uses = self._uses()
        return any(uses.get(r) or id(r) in self._outputs for r in op.results)

    # -- editing ---------------------------------------------------------------------------
    def insert_before(self, anchor: Op, ops: list[Op]) -> None:
        """Add `ops`, in order, just before `anchor` (an op of `graph.ops`)."""
        hi = self._pos.get(id(anchor))
        if hi is None or hi != int(hi):
            raise ValueError(f"{anchor.name} is not an op of the graph as last flushed")
        self.memo.clear()
        waiting = self._before.setdefault(id(anchor), [])
        lo = self._pos[id(waiting[-1])] if waiting else hi - 1
        uses = self._uses()
        for k, op in enumerate(ops):
            self._pos[id(op)] = lo + (hi - lo) * (k + 1) / (len(ops) + 1)
            for v in op.operands:
                uses.setdefault(v, []).append(op)
        waiting.extend(ops)

    def replace_uses(self, old: Value, new: Value) -> None:
        """Make every user of `old` (and the graph outputs) use `new` instead."""
        self.memo.clear()
        uses = self._uses()
        moved = uses.pop(old, [])
        for op in {id(o): o for o in moved}.values():
            op.operands = [new if v is old else v for v in op.operands]
        if moved:
            uses.setdefault(new, []).extend(moved)
        if id(old) in self._outputs:
            self.graph.outputs = [new if v is old else v for v in self.graph.outputs]
            self._outputs.discard(id(old))
            self._outputs.add(id(new))

    def erase(self, op: Op) -> None:
        """Remove `op`, whose results must be unused, and its uses."""
        self.memo.clear()
        uses = self._uses()
        del self._pos[id(op)]
        for v in op.operands:
            uses[v].remove(op)

    def erase_dead(self, ops: list[Op]) -> None:
        """Remove those of `ops` none of whose results is used or returned, and then every
        producer left without a use: what `dce` would remove after a change around `ops`."""
        self._uses()  # (settles `_clean` if nothing has yet)
        if not self._clean:
            self.flush()
            dce(self.graph)
            self.refresh()
            return
        stack = list(ops)
        while stack:
            op = stack.pop()
            if self.alive(op) and not self._used(op):
                self.erase(op)
                stack.extend(v.owner for v in op.operands if v.owner is not None)

    def flush(self) -> None:
        """Write inserted ops and removals into `graph.ops`; positions become indices."""
        if not self._before and len(self._pos) == len(self.graph.ops):
            return  # no edit since the last flush
        self.memo.clear()
        ops: list[Op] = []
        for op in self.graph.ops:
            ops.extend(self._before.pop(id(op), ()))
            ops.append(op)
        self.graph.ops = [o for o in ops if id(o) in self._pos]
        detach([o for o in ops if id(o) not in self._pos])  # erased: results unread
        self._pos = {id(o): i for i, o in enumerate(self.graph.ops)}


def _interior_reason(m: Match, ctx: Ctx) -> str | None:
    """Matched ops other than the anchor must feed only the matched ops."""
    inside = {id(o) for o in m.ops}
    for op in m.ops:
        if op is m.anchor:
            continue
        for r in op.results:
            if ctx.is_output(r) or any(id(u) not in inside for u in ctx.users(r)):
                return f"{op.name} result is also used outside the pattern"
    return None


# -- matching helpers (raise NoMatch) --------------------------------------------------------
def expect(cond: bool, reason: str) -> None:
    if not cond:
        raise NoMatch(reason)


def producer(v: Value, types: type[Op] | tuple[type[Op], ...], m: Match | None = None,
             what: str = "operand") -> Op:
    """The op defining `v`, which must be one of `types`; recorded in `m.ops`."""
    op = v.owner
    types = types if isinstance(types, tuple) else (types,)
    if op is None or not isinstance(op, types):
        got = "a graph argument" if op is None else op.name
        want = " or ".join(t.name for t in types)
        raise NoMatch(f"{what} is {got}, not {want}")
    if m is not None and op not in m.ops:
        m.ops.append(op)
    return op


def const_of(v: Value) -> np.ndarray | None:
    """The literal behind `v`, or None when it is not an nn.constant."""
    return v.owner.attrs["value"] if isinstance(v.owner, nn.Constant) else None


def const(v: Value, what: str = "operand") -> np.ndarray:
    value = const_of(v)
    expect(value is not None, f"{what} is not a constant")
    return value


def scalar_of(v: Value) -> float | None:
    """The value of a constant whose elements are all equal, else None."""
    value = const_of(v)
    if value is None or value.size == 0:
        return None
    flat = value.reshape(-1)
    return float(flat[0]) if np.all(flat == flat[0]) else None


def split_const(op: Op) -> tuple[Value, Value]:
    """(non-constant operand, constant operand) of a commutative binary op."""
    a, b = op.operands
    if const_of(b) is not None:
        return a, b
    expect(const_of(a) is not None, f"{op.name} has no constant operand")
    return b, a


def sole_use(v: Value, ctx: Ctx, what: str = "value") -> None:
    expect(len(ctx.users(v)) == 1 and not ctx.is_output(v),
           f"{what} has more than one use")


def new_const(array: np.ndarray, bits: int | None = None) -> nn.Constant:
    """An nn.constant of `array`; `bits` is the precision of the value it stands for. A
    C- or Fortran-ordered array is kept as it is (a transposed weight stays a view); any other
    is copied in C order."""
    a = np.asarray(array)  # (np.ascontiguousarray would turn a scalar into shape [1])
    keep = a.flags.c_contiguous or a.flags.f_contiguous
    op = nn.Constant(attrs={"value": a if keep else a.copy(order="C")})
    if bits is not None:  # (the inferred type has none)
        op.result.type = op.result.type.with_bits(bits)
    return op


# -- driving ---------------------------------------------------------------------------------
def dce(graph: Graph) -> bool:
    """Remove ops none of whose results is used or returned."""
    live = {id(v) for v in graph.outputs}
    keep: list[Op] = []
    for op in reversed(graph.ops):
        if any(map(live.__contains__, map(id, op.results))):
            keep.append(op)
            live.update(map(id, op.operands))
    changed = len(keep) != len(graph.ops)
    if changed:
        kept = set(map(id, keep))
        detach([op for op in graph.ops if id(op) not in kept])
    graph.ops = keep[::-1]
    return changed


def _record(rule: Rule, op: Op, reason: str) -> None:
    records = _TRACE.get()
    if records is not None:
        records.append(Trace(rule.name, op, reason))


def _sources(ops: list[Op]) -> list[str]:
    out: list[str] = []
    for op in ops:
        src = op.meta.get("source")
        out.extend([src] if isinstance(src, str) else list(src or ()))
    return out


def _apply_at(rule: Rule, op: Op, ctx: Ctx) -> bool:
    out = rule.try_rewrite(op, ctx)
    if isinstance(out, str):
        _record(rule, op, out)
        return False
    m, rw = out
    sources = _sources(sorted(m.ops, key=ctx.position))
    ctx.insert_before(op, rw.ops)
    if op.results[0].name and rw.result.name is None:
        rw.result.name = op.results[0].name
    ctx.replace_uses(op.results[0], rw.result)
    for old, new in zip(op.results[1:], rw.more):
        ctx.replace_uses(old, new)
    for new in rw.ops:
        if sources and not isinstance(new, nn.Constant):
            new.meta["source"] = sources
    ctx.erase_dead([op, *rw.ops])
    return True


def apply_rules(graph: Graph, rules: list[Rule]) -> bool:
    """Apply `rules` at every anchor, in graph order, until none fires; True if any did."""
    ctx = Ctx(graph)
    by_type: dict[type[Op], list[Rule]] = {}
    for r in rules:
        for t in r.anchors:
            by_type.setdefault(t, []).append(r)
    changed, again = False, True
    while again:
        again = False
        try:
            for op in list(graph.ops):
                if not ctx.alive(op):
                    continue  # removed by an earlier rewrite in this sweep
                if any(_apply_at(r, op, ctx) for r in by_type.get(type(op), ())):
                    changed = again = True
        finally:
            ctx.flush()
    return changed


def einsum_terms(op: Op) -> tuple[list[str], str]:
    """The input subscripts and the output subscript of an explicit einsum equation."""
    eq = op.attrs["equation"].replace(" ", "")
    expect("->" in eq, f"einsum '{eq}' has an implicit output")
    lhs, out = eq.split("->")
    return lhs.split(","), out
