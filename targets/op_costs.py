"""The primitives one placed pim-level op costs, and their price on a target.

``primitives(op, target)`` says which ``CrossbarMVM`` / ``VectorOp`` / ``BankGather`` /
``Transfer`` / ``WeightLoad`` an op of the lowered program is made of; ``OpCoster`` prices
them with a ``CostModel`` (cached by primitive, since many tiles share a shape). The scheduler
takes durations from here and the simulator energies, so both see the same numbers.

- ``pim.mvm``: one ``CrossbarMVM`` of the tile's rows x columns, ``vectors`` = the input's
  leading elements, ``replicas`` = ``pim.replicas`` (copies split the vectors).
- ``pim.gather``: one ``BankGather`` of the shard's expected lookups (its ``pim.freq`` share of
  the bag's indices when the shard carries a frequency profile, else its share of the rows),
  all in one bank (so the duration is lookups x the time of one lookup).
- ``pim.combine``, element-wise and interaction ops on digital units: ``VectorOp``s whose
  element counts follow the op's arithmetic (``_DIGITAL``; anything else is one copy of its
  result). ``pim.transfer``: ``Transfer``; ``pim.load``: ``WeightLoad``.

ASSUMPTION: a chip without any vector unit (ISAAC has none; its tiles only have shift-and-add,
sigmoid and max-pool units) runs digital ops at one element per clock on those scalar units,
with no energy charged; ``OpCoster`` marks such costs with the count ``"unmodelled"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ir.core import Op
from ir.dialects import pim
from targets.cost_model import CostModel
from targets.hardware import Target
from targets.primitives import (
    BankGather,
    CrossbarMVM,
    Primitive,
    Transfer,
    VectorOp,
    WeightLoad,
)
from targets.report import OpCost

__all__ = ["OpCoster", "bits_of", "gather_shares", "primitives"]


def bits_of(op: Op, target: Target) -> int:
    """The precision of an op's data: its result's bits, its a_bits, or the target's default."""
    bits = op.results[0].type.bits if op.results else None
    return int(bits or op.attrs.get("pim.a_bits") or op.attrs.get("a_bits")
               or target.precision.activations)


def _size(op: Op, index: int = 0) -> int:
    return max(1, op.operands[index].type.size)


def _out(op: Op) -> int:
    return max(1, op.results[0].type.size)


def _mvm(op: Op, target: Target) -> tuple[Primitive, ...]:
    (r0, r1), (c0, c1) = op.attrs["rows"], op.attrs["cols"]
    x = op.operands[0].type
    vectors = max(1, x.size // max(1, x.shape[-1]))
    return (CrossbarMVM(r1 - r0, c1 - c0, op.attrs["w_bits"], op.attrs["a_bits"], vectors,
                        int(op.attrs.get("pim.replicas", 1))),)


def _pooling(op: Op) -> int:
    idx = op.operands[1].type
    if len(op.operands) == 3:
        return max(1, idx.size // max(1, op.operands[2].type.size))
    return 1 if op.attrs.get("mode") == "none" or idx.rank == 0 else max(1, idx.shape[-1])


def gather_lookups(op: Op, share: float) -> int:
    """Expected lookups that hit a shard holding `share` of its bag's lookups."""
    return max(1, math.ceil(_size(op, 1) * share))


def _gather(op: Op, target: Target, share: float = 1.0) -> tuple[Primitive, ...]:
    table = op.operands[0].type
    bits = table.bits or op.attrs.get("pim.w_bits") or table.np_dtype.itemsize * 8
    return (BankGather(gather_lookups(op, share), max(1, table.shape[1]), int(bits),
                       _pooling(op)),)


def gather_shares(ops: list[Op]) -> dict[int, float]:
    """Each gather shard's share of its bag's lookups, by id(op): its `pim.freq` when it
    carries a frequency profile, else its share of the bag's rows (uniform lookups)."""
    gathers = [op for op in ops if isinstance(op, pim.Gather)]
    rows: dict[str, int] = {}
    for op in gathers:
        r0, r1 = op.attrs["rows"]
        rows[op.attrs["op"]] = rows.get(op.attrs["op"], 0) + (r1 - r0)
    out = {}
    for op in gathers:
        r0, r1 = op.attrs["rows"]
        freq = op.attrs.get("pim.freq")
        out[id(op)] = float(freq) if freq is not None else (r1 - r0) / rows[op.attrs["op"]]
    return out


def _vector(kind: str, elements: Callable[[Op], int]):
    def make(op: Op, target: Target) -> tuple[Primitive, ...]:
        return (VectorOp(kind, max(1, elements(op)), bits_of(op, target)),)
    return make


def _combine(op: Op, target: Target) -> tuple[Primitive, ...]:
    mode = op.attrs.get("mode", "sum")
    parts = max(1, len(op.operands) - 1)
    if mode == "concat":
        return (VectorOp("copy", _out(op), bits_of(op, target)),)
    return (VectorOp("add" if mode == "sum" else "max", _out(op) * parts, bits_of(op, target)),)


def _features(op: Op) -> tuple[int, int, int]:
    b, f, d = op.operands[0].type.shape
    return b, f, d


def _attention(op: Op) -> int:
    b, f, _ = _features(op)
    inner = op.operands[1].type.shape[1]
    return 2 * b * f * f * inner  # scores and the weighted sum of values


def _dense(op: Op) -> int:
    rows, cols = op.operands[1].type.shape
    return _size(op) // max(1, rows) * rows * cols


_DIGITAL: dict[str, Callable[[Op, Target], tuple[Primitive, ...]]] = {
    "pim.combine": _combine,
    "rec.dot_interaction": _vector("mac", lambda op: _out(op) * _features(op)[2]),
    "rec.fm": _vector("mac", lambda op: 2 * _size(op)),
    "rec.attention": _vector("mac", _attention),
    "rec.gating": _vector("mul", lambda op: 2 * _out(op)),
    "rec.cross": _vector("mac", lambda op: 3 * _out(op)),
    "rec.dense": _vector("mac", _dense),
    "rec.efc": _vector("mac", lambda op: _out(op) * _features(op)[1]),
    "rec.embedding_bag": _vector("add", lambda op: _size(op, 1) * op.results[0].type.shape[-1]),
    "nn.add": _vector("add", _out), "nn.sub": _vector("sub", _out),
    "nn.mul": _vector("mul", _out), "nn.div": _vector("div", _out),
    "nn.relu": _vector("relu", _out), "nn.sigmoid": _vector("sigmoid", _out),
    "nn.tanh": _vector("tanh", _out), "nn.exp": _vector("exp", _out),
    "nn.max": _vector("max", _out), "nn.softmax": _vector("exp", lambda op: 3 * _out(op)),
    "nn.reduce_sum": _vector("add", lambda op: _size(op)),
    "nn.reduce_mean": _vector("add", lambda op: _size(op)),
    "nn.matmul": _vector("mac", lambda op: _out(op) * op.operands[0].type.shape[-1]),
}


def primitives(op: Op, target: Target, share: float = 1.0) -> tuple[Primitive, ...]:
    """The primitives `op` costs on `target` (`share`: a gather shard's share of lookups)."""
    if isinstance(op, pim.MVM):
        return _mvm(op, target)
    if isinstance(op, pim.Gather):
        return _gather(op, target, share)
    if isinstance(op, pim.Transfer):
        return (Transfer(max(1, op.attrs["bytes"]), op.attrs["hops"]),)
    if isinstance(op, pim.Load):
        return (WeightLoad(max(1, op.attrs["bytes"])),)
    make = _DIGITAL.get(op.name, _vector("copy", _out))
    return make(op, target)


def _has_vector_unit(target: Target) -> bool:
    chip = target.chip
    if target.dram is not None:
        return True
    return chip is not None and (chip.tile.vector_unit is not None
                                 or chip.tile.pe.vector_unit is not None)


class OpCoster:
    """Prices primitives on one target, caching by primitive."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.model = CostModel(target)
        self._cache: dict[Primitive, OpCost] = {}
        self._vector = _has_vector_unit(target)

    def cost(self, prim: Primitive) -> OpCost:
        """The cost of one primitive (see the module docstring for vector-less chips)."""
        hit = self._cache.get(prim)
        if hit is None:
            hit = self._cache[prim] = self._price(prim)
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
        return max(1, math.ceil(sum(self.cost(p).cycles for p in prims) - 1e-9))

    def energy(self, prims: tuple[Primitive, ...]) -> dict[str, float]:
        """Energy by component of primitives (J)."""
        out: dict[str, float] = {}
        for p in prims:
            for key, joules in self.cost(p).energy.items():
                out[key] = out.get(key, 0.0) + joules
        return out
