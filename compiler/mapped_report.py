"""The cost report of a placed, scheduled program: latency, throughput, energy, area, utilisation.

``report_of(module) -> MappedReport`` walks the ops that carry a unit (and the transfers the
schedule inserted), prices each one's primitives (``passes._costing.op_primitives``, priced by
``targets.coster``) with the module's target, and reads latency and interval from the schedule
(``pim.latency``, ``pim.interval``).
Energy is per batch: dynamic energy by component and by op, plus leakage over one interval.
Utilisation counts crossbars holding a tile (and per chip tile, for plotting) and bank bytes.
The bound and the gap come from ``pim.lower_bound.*`` when the `bound` pass ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from itertools import chain

import numpy as np

from compiler._report_facts import (
    OpFacts,
    binding,
    critical_path,
    energy_sum,
    op_facts,
    replicated,
    used_area,
)
from ir.core import Module, Op
from ir.dialects import pim, rec
from ir.dialects.pim_attrs import (
    BATCH,
    INTERVAL,
    LATENCY,
    LOWER_BOUND_FACTS,
    REPLICAS,
    TARGET,
    group_values,
)
from ir.errors import PimcError
from passes._costing.op_primitives import gather_shares, primitives, table_bytes
from passes._gc_pause import gc_paused
from targets.coster import OpCoster, shared_coster
from targets.loader import load_target
from targets.rollup import rollup

__all__ = ["MappedReport", "cost_figures", "report_of"]

_UNITS = ("crossbar", "digital", "bank")


@dataclass
class MappedReport:
    target: str
    batch: int
    latency_cycles: int
    latency_seconds: float
    interval_cycles: int
    batches_per_second: float
    samples_per_second: float
    energy: dict[str, float]  # J per batch, by component
    energy_by_op: dict[str, dict[str, float]]  # op key -> component -> J
    total_energy: float
    area: dict  # mm2: {chip_mm2, used_mm2, by_component: {name: used mm2}}
    crossbars_used: int
    crossbars: int
    crossbars_per_tile: list[int]
    bank_bytes_used: int
    bank_bytes: int
    table_bytes: int = 0  # every embedding table, wherever it is stored
    table_storage: str = "none"  # "banks", "offchip_dram" or "none"
    binding: dict = field(default_factory=dict)  # the interval's busiest resource and its op
    critical_path: list[str] = field(default_factory=list)  # latency: ops on the longest path
    bound: dict[str, int] = field(default_factory=dict)
    gap: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        with gc_paused():
            data = {f.name: _copied(getattr(self, f.name)) for f in fields(self)}
        data["units"] = {"energy": "J", "area": "mm2", "latency_seconds": "s",
                         "table_bytes": "B"}
        return data


_ATOMIC = (int, float, str, bool, type(None))
_ATOMIC_SET = frozenset(_ATOMIC)


def _copied(x):
    """What `dataclasses.asdict` makes of a field, the report's plain data (dicts and lists of
    numbers and strings) copied without its generic walk; anything else goes through it."""
    t = type(x)
    if t in _ATOMIC:
        return x
    if t is dict:
        if _ATOMIC_SET.issuperset(map(type, x)):
            if _ATOMIC_SET.issuperset(map(type, x.values())):
                return dict(x)  # numbers and strings only (an op's energy): nothing deeper
            if _plain_rows(x):  # energy by op: each a copy of its row
                return {k: dict(v) for k, v in x.items()}
        return {_copied(k): _copied(v) for k, v in x.items()}
    if t is list:
        return [_copied(v) for v in x]
    return asdict(_Holder(x))["value"]


def _plain_rows(x: dict) -> bool:
    """Whether every value of `x` is a dict of numbers and strings by numbers and strings."""
    rows = x.values()
    return {dict}.issuperset(map(type, rows)) and \
        _ATOMIC_SET.issuperset(map(type, chain.from_iterable(rows))) and \
        _ATOMIC_SET.issuperset(map(type, chain.from_iterable(map(dict.values, rows))))


@dataclass
class _Holder:
    value: object


def _key(i: int, op: Op) -> str:
    return f"{i}:{op.attrs.get('op', op.name) if 'op' in op.attrs else op.name}"


def _energy(module: Module, coster: OpCoster, facts: OpFacts
            ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    shares = gather_shares(module.main.ops)
    by_op: dict[str, dict[str, float]] = {}
    parts: list[dict[str, float]] = []  # the distinct energies, in the order of first use
    seen: dict[int, int] = {}  # id of one of them (the coster's, kept) -> its place there
    seq: list[int] = []  # every priced op's, as places there
    moved: dict[tuple, dict[str, float]] = {}  # (bytes, hops) -> a transfer's energy
    target, mvm, transfer = coster.target, pim.MVM, pim.Transfer
    for i, op, unit, _, _, _, _ in facts:
        if isinstance(op, transfer):  # its size and hops make its primitive (as simulated)
            key = (op.attrs["bytes"], op.attrs["hops"])
            got = moved.get(key)
            if got is None:
                got = moved[key] = coster.energy(primitives(op, target))
        elif unit in _UNITS:
            prims = primitives(op, target, shares.get(id(op), 1.0))
            if isinstance(op, mvm):
                prims = replicated(prims, int(REPLICAS.of(op, 1)))
            got = coster.energy(prims)
        else:
            continue
        by_op[_key(i, op)] = dict(got)
        k = seen.get(id(got))
        if k is None:
            k = seen[id(got)] = len(parts)
            parts.append(got)
        seq.append(k)
    return energy_sum(parts, seq), by_op


def _crossbars(coster: OpCoster, facts: OpFacts) -> tuple[int, int, list[int]]:
    chip = coster.target.chip
    if chip is None:
        return 0, 0, []
    per_tile = chip.tile.pes * chip.tile.pe.arrays
    # every crossbar of every copy: 16k of a search candidate grown to the chip's capacity
    used = set().union(*(fact[3] for fact in facts if isinstance(fact[1], pim.MVM)))
    ids = np.fromiter(used, np.int64, len(used))
    tiles = np.bincount(ids // per_tile, minlength=chip.tiles).tolist()
    return len(used), chip.tiles * per_tile, tiles


def _bank_bytes(module: Module, coster: OpCoster) -> tuple[int, int]:
    dram = coster.target.dram
    if dram is None:
        return 0, 0
    used = sum(table_bytes(op) for op in module.main.find(pim.Gather))
    return used, int(dram.banks * dram.bank_size // 8)


def _tables(module: Module, target) -> tuple[int, str]:
    """Bytes of every embedding table (shards summed) and where they are stored."""
    bags = [op for op in module.main.ops if isinstance(op, (pim.Gather, rec.EmbeddingBag))]
    if not bags:
        return 0, "none"
    storage = "banks" if target.dram is not None else "offchip_dram"
    return sum(table_bytes(op) for op in bags), storage


def report_of(module: Module) -> MappedReport:
    """The report of a placed and scheduled module (see the module docstring)."""
    with gc_paused():  # pricing builds many small objects; a collection would walk the module
        return _report_of(module)


def cost_figures(module: Module) -> dict:
    """The figures a search compares candidates by, of a placed and scheduled module, as
    ``report_of(module).to_dict()`` has them: latency, interval, rates, area and crossbars
    used; without its energy by component and by op, binding and critical path (its energy
    is the simulator's; ``compile(report="costs")``)."""
    with gc_paused():
        target, latency, interval, batch, facts = _scheduled(module)
        used, xbars, _ = _crossbars(shared_coster(target), facts)
        per_s = target.clock / max(1, interval)
        return {"target": target.name, "batch": batch, "latency_cycles": latency,
                "latency_seconds": latency / target.clock, "interval_cycles": interval,
                "batches_per_second": per_s, "samples_per_second": per_s * batch,
                "area": used_area(module, target, facts), "crossbars_used": used,
                "crossbars": xbars}


def _scheduled(module: Module) -> tuple:
    """(target, latency, interval, batch, op facts) of a scheduled module."""
    if not LATENCY.has(module) or not TARGET.has(module):
        raise PimcError(f"simulate needs a scheduled module ({TARGET.name}, {LATENCY.name}); "
                        "run partition, tile, place and schedule first")
    target = load_target(str(TARGET.of(module)))
    return (target, int(LATENCY.of(module)), int(INTERVAL.of(module)), int(BATCH.of(module, 1)),
            op_facts(module))


def _report_of(module: Module) -> MappedReport:
    target, latency, interval, batch, facts = _scheduled(module)
    coster = shared_coster(target)  # the prices the scheduler used, already computed
    energy, by_op = _energy(module, coster, facts)
    roll = rollup(target)
    if roll.leakage:
        energy["leakage"] = roll.leakage * interval / target.clock
    used, xbars, per_tile = _crossbars(coster, facts)
    bank_used, bank_all = _bank_bytes(module, coster)
    per_s = target.clock / max(1, interval)
    tables, storage = _tables(module, target)
    report = MappedReport(target.name, batch, latency, latency / target.clock, interval, per_s,
                          per_s * batch, energy, by_op, sum(energy.values()),
                          used_area(module, target, facts), used, xbars, per_tile, bank_used,
                          bank_all, tables, storage, binding(module, facts),
                          critical_path(module, facts))
    lows = group_values(module, LOWER_BOUND_FACTS)
    for what, have in (("latency", latency), ("interval", interval)):
        if what in lows:
            report.bound[what] = int(lows[what])
            report.gap[what] = (have - int(lows[what])) / max(1, have)
    return report
