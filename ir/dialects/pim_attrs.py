"""The contract of `pim.*` facts: every attribute the mapping passes hand to each other.

Each fact is declared once here with its name, its kind (an `ir.core.Attr` kind), whether it
sits on an op or on the module, the pass that writes it, the code that reads it, and a one-line
meaning. Code reads and writes facts through these declarations (``UNIT.of(op)``,
``LOC.set(op, (3, 4))``), never through a bare string, so a misspelt fact is a NameError at
import instead of a silent ``None``. The verifier checks the kind of every fact present and
refuses an undeclared ``pim.*`` attribute; ``docs/mapping.md``'s attribute tables are checked
against this module by a test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from ir.core import Attr
from ir.errors import PimcError

__all__ = [
    "A_BITS", "BATCH", "END", "FACTS", "FREQ", "INTERVAL", "IO_END", "LATENCY", "LOWER_BOUND_FACTS",
    "LINKS", "LINK_BYTES", "LINK_CYCLES", "LOC", "MODULE_FACTS", "OP_FACTS", "PIPELINED",
    "PLACE_FACTS", "REPLICAS", "START",
    "STREAMED", "TARGET", "UNIT", "UNITS", "W_BITS", "X_SCALE", "Fact", "check_facts",
    "facts_of", "group_values", "markdown_table", "set_group",
]

_MISSING = object()
UNITS = ("crossbar", "digital", "bank", "none")


@dataclass(frozen=True)
class Fact:
    """One `pim.*` attribute: its name, kind, holder, writer, readers and meaning."""

    name: str
    kind: str
    scope: Literal["op", "module"]
    writer: str
    readers: str
    meaning: str
    choices: tuple | None = None

    @cached_property
    def spec(self) -> Attr:  # kept: every write of the fact normalises through it
        return Attr(self.kind, None, self.choices)

    @property
    def key(self) -> str:
        """The name without its group prefix (`pim.place.gap` -> `gap`)."""
        return self.name.rsplit(".", 1)[-1]

    def of(self, holder: Any, default: Any = _MISSING) -> Any:
        """The fact on `holder` (an op or a module); `default` when absent, else an error."""
        value = holder.attrs.get(self.name, _MISSING)
        if value is not _MISSING:
            return value
        if default is _MISSING:
            raise PimcError(f"'{self.name}' is not set; {self.writer} writes it")
        return default

    def has(self, holder: Any) -> bool:
        return self.name in holder.attrs

    def set(self, holder: Any, value: Any) -> None:
        """Write the fact, normalised to its kind (a wrong kind is a PimcError)."""
        holder.attrs[self.name] = self.spec.normalize(_holder_name(holder), self.name, value)

    def drop(self, holder: Any) -> None:
        holder.attrs.pop(self.name, None)

    def item(self, value: Any) -> tuple[str, Any]:
        """(name, value) for building an attribute dictionary of a new op."""
        return self.name, value


def _holder_name(holder: Any) -> str:
    name = getattr(holder, "name", "module")
    return name if isinstance(name, str) else "module"


def _op(name: str, kind: str, writer: str, readers: str, meaning: str,
        choices: tuple | None = None) -> Fact:
    return Fact(name, kind, "op", writer, readers, meaning, choices)


def _module(name: str, kind: str, writer: str, readers: str, meaning: str) -> Fact:
    return Fact(name, kind, "module", writer, readers, meaning)


# Op facts, in the order the pipeline writes them.
W_BITS = _op("pim.w_bits", "int", "assign-precision", "tile, lowering, error bound, costs",
             "weight precision in bits (result types carry `bits` too)")
A_BITS = _op("pim.a_bits", "int", "assign-precision", "tile, lowering, error bound, costs",
             "activation precision in bits")
X_SCALE = _op("pim.x_scale", "float", "assign-precision", "tile, lowering, error bound",
              "calibrated input scale of a crossbar op: max-abs / (2^(a-1) - 1)")
UNIT = _op("pim.unit", "str", "partition (and the lowering for the ops it creates)",
           "tile, place, schedule, schedule.json, report",
           "the unit class: crossbar, digital, bank, or none (free views and constants)",
           UNITS)
FREQ = _op("pim.freq", "float", "tile (optional)", "costs (gather shares)",
           "a `pim.gather` shard's share of its bag's lookups (frequency profile)")
REPLICAS = _op("pim.replicas", "int", "place", "schedule, costs, schedule.json, report",
               "copies of a `pim.mvm`'s weights; all tiles of one op share the count")
LOC = _op("pim.loc", "ints", "place", "schedule, schedule.json, report",
          "where it runs: crossbar ids (a tile's crossbars, replica by replica), bank ids, "
          "or a chip tile")
START = _op("pim.start", "int", "schedule", "schedule.json, report",
            "first cycle the op occupies its resources (batch 0)")
END = _op("pim.end", "int", "schedule", "schedule.json, report",
          "cycle after the last one the op occupies its resources (batch 0)")
IO_END = _op("pim.io_end", "int", "schedule", "schedule.json",
             "an op that first reads off-chip DRAM holds the chip's I/O (`io:0`) from its start "
             "to this cycle, and its unit from here to its end")
LINKS = _op("pim.links", "strs", "schedule", "schedule.json",
            "a `pim.transfer`'s directed mesh links (`link:x,y>x',y'`, XY routes to every "
            "destination chip tile)")
LINK_BYTES = _op("pim.link_bytes", "ints", "schedule", "schedule.json",
                 "bytes the transfer puts on each of its links, in `pim.links` order")
LINK_CYCLES = _op("pim.link_cycles", "ints", "schedule", "schedule.json",
                  "cycles the transfer holds each of its links from its start")

# Module facts.
TARGET = _module("pim.target", "str", "partition", "assign-precision, tile, place, report",
                 "the target preset name (or YAML path) every later pass loads")
BATCH = _module("pim.batch", "int", "partition", "place, schedule.json, report",
                "rows per batch (axis 0 of the first graph argument)")
STREAMED = _module("pim.streamed", "bool", "tile", "place",
                   "true when weights are loaded per layer (`pim.load` ops present)")
LATENCY = _module("pim.latency", "int", "schedule", "schedule.json, report",
                  "cycles from the first start to the last end of one batch")
INTERVAL = _module("pim.interval", "int", "schedule", "schedule.json, report",
                   "cycles between the starts of consecutive batches")
PIPELINED = _module("pim.pipelined", "bool", "schedule", "report",
                    "whether batches overlap (throughput and mix objectives)")

_PLACE = "place"
PLACE_FACTS: Mapping[str, Fact] = {f.key: f for f in (
    _module("pim.place.solver", "str", _PLACE, "report", "the placer whose answer was used"),
    _module("pim.place.status", "str", _PLACE, "compile driver, report",
            "optimal (greedy at the lower bound, or CP-SAT's own model solved and its placement "
            "used), feasible or heuristic"),
    _module("pim.place.objective", "str", _PLACE, "schedule, report",
            "latency, throughput, energy or mix"),
    _module("pim.place.value", "float", _PLACE, "report", "the objective's value"),
    _module("pim.place.bound", "float", _PLACE, "report",
            "the solver's bound: greedy's, the lower bound it met; CP-SAT's, the bound on its "
            "own model's objective, which approximates the schedule (so it may exceed the "
            "scheduled value); `pim.lower_bound.*` bound the schedule itself"),
    _module("pim.place.gap", "float", _PLACE, "report",
            "the solver's gap on its own objective, 0 when optimal, 1 for a heuristic answer "
            "with no bound"),
    _module("pim.place.fallback", "str", _PLACE, "compile driver, report",
            "why CP-SAT's answer was not used, when so"),
)}
LOWER_BOUND_FACTS: Mapping[str, Fact] = {f.key: f for f in (
    _module("pim.lower_bound.latency", "int", "lower-bound", "report",
            "lower bound on `pim.latency` over every placement"),
    _module("pim.lower_bound.interval", "int", "lower-bound", "report",
            "lower bound on `pim.interval` over every placement"),
)}

OP_FACTS = (W_BITS, A_BITS, X_SCALE, UNIT, FREQ, REPLICAS, LOC, START, END, IO_END, LINKS,
            LINK_BYTES, LINK_CYCLES)
MODULE_FACTS = (TARGET, BATCH, STREAMED, *PLACE_FACTS.values(), LATENCY, INTERVAL, PIPELINED,
                *LOWER_BOUND_FACTS.values())
FACTS: Mapping[str, Fact] = {f.name: f for f in OP_FACTS + MODULE_FACTS}


def group_values(holder: Any, group: Mapping[str, Fact]) -> dict[str, Any]:
    """The facts of `group` present on `holder`, by short key (`{"gap": 0.0, ...}`)."""
    return {key: f.of(holder) for key, f in group.items() if f.has(holder)}


def set_group(holder: Any, group: Mapping[str, Fact], values: Mapping[str, Any]) -> None:
    """Replace the facts of `group` on `holder` with `values` (short keys, all declared)."""
    unknown = sorted(set(values) - set(group))
    if unknown:
        raise PimcError(f"undeclared facts {unknown}; declared: {', '.join(group)}")
    for f in group.values():
        f.drop(holder)
    for key in sorted(values):
        group[key].set(holder, values[key])


def facts_of(attrs: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The `pim.*` entries of an attribute dictionary."""
    return ((k, v) for k, v in attrs.items() if k.startswith("pim."))


def check_facts(holder_name: str, attrs: Mapping[str, Any], scope: str) -> None:
    """Raise PimcError on an undeclared `pim.*` attribute or one of the wrong kind."""
    for key, value in facts_of(attrs):
        fact = FACTS.get(key)
        if fact is None or fact.scope != scope:
            known = ", ".join(f.name for f in FACTS.values() if f.scope == scope)
            raise PimcError(f"unknown {scope} attribute '{key}' on {holder_name}; "
                            f"declared: {known}")
        fact.spec.normalize(holder_name, key, value)


def markdown_table(scope: str) -> str:
    """The facts of `scope` ("op" or "module") as the Markdown table docs/mapping.md shows."""
    rows = ["| attribute | kind | written by | read by | meaning |", "|---|---|---|---|---|"]
    for f in FACTS.values():
        if f.scope == scope:
            kind = f.kind if f.choices is None else " / ".join(f"`{c}`" for c in f.choices)
            rows.append(f"| `{f.name}` | {kind} | {f.writer} | {f.readers} | {f.meaning} |")
    return "\n".join(rows)
