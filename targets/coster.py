"""Prices of primitives on one target, cached by primitive: what the scheduler and the report use.

``OpCoster(target)`` prices the primitive descriptions of ``targets.primitives`` with a
``CostModel`` (cached by primitive, since many weight tiles share a shape). It knows hardware,
not the program: which primitives an op of a lowered program is made of is decided on the IR
side (``passes._costing.op_primitives``).

ASSUMPTION: a chip without any vector unit (ISAAC has none; its tiles only have shift-and-add,
sigmoid and max-pool units) runs digital ops at one element per clock on those scalar units,
with no energy charged; ``OpCoster`` marks such costs with the count ``"unmodelled"``.
"""

from __future__ import annotations

import dataclasses
import functools
import math

from targets.cost_model import CostModel
from targets.hardware import Target
from targets.primitives import BankGather, CrossbarMVM, Primitive, VectorOp
from targets.report import OpCost

__all__ = ["OpCoster", "shared_coster"]


def _has_vector_unit(target: Target) -> bool:
    chip = target.chip
    if target.dram is not None:
        return True
    return chip is not None and (chip.tile.vector_unit is not None
                                 or chip.tile.pe.vector_unit is not None)


# Entries each of a coster's caches keeps before it starts over. A search shares one coster
# per target across its candidates (``shared_coster``), and new candidates keep bringing new
# primitives (tile shapes, transfer sizes): after 60 nasrec-float candidates on isaac the
# price cache held 28.7k entries, about 1.2 KB each, and still grew by about 300 a candidate.
# Starting over only costs re-pricing; the prices are the same.
CACHE_LIMIT = 100_000


def _room(cache: dict) -> dict:
    """`cache`, emptied first when it holds `CACHE_LIMIT` entries."""
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    return cache


class OpCoster:
    """Prices primitives on one target, caching by primitive (each cache bounded by
    `CACHE_LIMIT`)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.model = CostModel(target)
        self._cache: dict[Primitive, OpCost] = {}
        self._replicated: dict[tuple, tuple[int, ...]] = {}
        self._energy: dict[tuple[Primitive, ...], dict[str, float]] = {}
        self._vector = _has_vector_unit(target)

    def cost(self, prim: Primitive) -> OpCost:
        """The cost of one primitive (see the module docstring for vector-less chips)."""
        hit = self._cache.get(prim)
        if hit is None:
            hit = self._price(prim)
            _room(self._cache)[prim] = hit
        return hit

    def _price(self, prim: Primitive) -> OpCost:
        if isinstance(prim, VectorOp) and not self._vector:
            return OpCost("VectorOp", float(prim.elements), prim.elements / self.target.clock,
                          {}, {"unmodelled": 1.0})
        if isinstance(prim, BankGather) and prim.lookups > 1:
            one = self.cost(BankGather(1, prim.dim, prim.bits, 1))
            whole = self.model.cost(prim)  # energy for all lookups; time as in one bank
            return OpCost("BankGather", one.cycles * prim.lookups, one.seconds * prim.lookups,
                          whole.energy, whole.counts)
        return self.model.cost(prim)

    def cycles(self, prims: tuple[Primitive, ...]) -> int:
        """Cycles of primitives run one after another, rounded up to whole cycles."""
        return _whole(sum(self.cost(p).cycles for p in prims))

    def _cycles_only(self, mvm: CrossbarMVM) -> float:
        """``cost(mvm).cycles`` (`_price` has no rule of its own for a crossbar MVM); one not
        priced yet is timed without working out its energy (``CostModel.seconds``), and not
        kept."""
        hit = self._cache.get(mvm)
        return self.model.seconds(mvm) * self.target.clock if hit is None else hit.cycles

    def energy(self, prims: tuple[Primitive, ...]) -> dict[str, float]:
        """Energy by component of primitives (J), cached by primitives (weight tiles of one
        shape share them): the dict is shared, callers copy it to change it."""
        out = self._energy.get(prims)
        if out is None:
            out = _room(self._energy)[prims] = {}
            for p in prims:
                for key, joules in self.cost(p).energy.items():
                    out[key] = out.get(key, 0.0) + joules
        return out

    def cycles_replicated(self, prims: tuple[CrossbarMVM, ...],
                          counts: tuple[int, ...]) -> tuple[int, ...]:
        """`cycles` of crossbar MVMs `prims` at every replica count of `counts`, cached: many
        weight tiles share a shape and the same counts. The counts are timed without their
        energy (``_cycles_only``): a placer tries many and keeps one, whose energy its report
        prices then (a search-loop candidate tries about 255: 3.7 -> 1.7 ms of pricing)."""
        key = (prims, counts)
        hit = self._replicated.get(key)
        if hit is None:
            cycles = self._cycles_only
            hit = _room(self._replicated)[key] = tuple(
                _whole(sum(cycles(dataclasses.replace(p, replicas=r)) for p in prims))
                for r in counts)
        return hit


def _whole(cycles: float) -> int:
    """`cycles` rounded up to whole cycles, at least one."""
    return max(1, math.ceil(cycles - 1e-9))


@functools.lru_cache(maxsize=8)
def shared_coster(target: Target) -> OpCoster:
    """One `OpCoster` per target, kept between passes and compiles: prices depend only on the
    target and the primitive, so the placer, the scheduler and the lower bound of one compile
    (and the next candidate of a search) reuse each other's."""
    return OpCoster(target)
