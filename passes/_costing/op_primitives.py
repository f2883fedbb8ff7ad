"""The primitives one placed pim-level op is made of: the IR side of the cost model.

``primitives(op, target)`` says which ``CrossbarMVM`` / ``VectorOp`` / ``BankGather`` /
``Transfer`` / ``WeightLoad`` an op of the lowered program is made of; ``targets.coster``'s
``OpCoster`` prices them. The scheduler takes durations from here and the report energies, so
both see the same numbers.

- ``pim.mvm``: one ``CrossbarMVM`` of the tile's rows x columns (over its crossbars,
  ``crossbar_cols`` each), ``vectors`` = the input's leading elements, ``replicas`` =
  ``pim.replicas`` (copies split the vectors).
- ``pim.gather``: one ``BankGather`` of the shard's expected lookups (its ``pim.freq`` share of
  the bag's indices when the shard carries a frequency profile, else its share of the rows),
  all in one bank (so the duration is lookups x the time of one lookup).
- ``rec.embedding_bag`` on a target without DRAM banks: its table lives in the off-chip DRAM,
  so a ``DramAccess`` of every looked-up row (in whole accesses of the DRAM's access size)
  comes before the pooling ``VectorOp``; the scheduler puts the access on the chip's I/O.
- ``pim.combine``, element-wise and interaction ops on digital units (and a GRU left whole on
  them or on near-bank units): ``VectorOp``s whose
  element counts follow the op's arithmetic (``_DIGITAL``; anything else is one copy of its
  result). ``pim.transfer``: ``Transfer``; ``pim.load``: ``WeightLoad``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ir.core import Op
from ir.dialects import nn, pim, rec
from ir.dialects.pim_attrs import A_BITS, FREQ, REPLICAS, W_BITS
from targets.hardware import Target
from targets.primitives import (
    BankGather,
    CrossbarMVM,
    DramAccess,
    Primitive,
    Transfer,
    VectorOp,
    WeightLoad,
)

__all__ = ["bits_of", "gather_lookups", "gather_shares", "offchip_lookup_bytes", "offchip_part",
           "offchip_span", "primitives", "table_bits", "table_bytes"]


def bits_of(op: Op, target: Target) -> int:
    """The precision of an op's data: its result's bits, its a_bits, or the target's default."""
    bits = op.results[0].type.bits if op.results else None
    return int(bits or A_BITS.of(op, None) or op.attrs.get("a_bits")
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
                        int(REPLICAS.of(op, 1)), op.attrs["crossbar_cols"]),)


def _pooling(op: Op) -> int:
    idx = op.operands[1].type
    if len(op.operands) == 3:
        return max(1, idx.size // max(1, op.operands[2].type.size))
    return 1 if op.attrs.get("mode") == "none" or idx.rank == 0 else max(1, idx.shape[-1])


def gather_lookups(op: Op, share: float) -> int:
    """Expected lookups that hit a shard holding `share` of its bag's lookups."""
    return max(1, math.ceil(_size(op, 1) * share))


def table_bits(op: Op) -> int:
    """Bits per stored element of the table an embedding bag or gather shard reads: the op's
    weight precision when one was assigned, else the table's type. Tiling, bank placement and
    the cost of lookups all size tables with this one function."""
    table = op.operands[0].type
    return int(W_BITS.of(op, None) or table.bits or table.np_dtype.itemsize * 8)


def table_bytes(op: Op) -> int:
    """Bytes the table (or shard) of `op` occupies where it is stored."""
    return math.ceil(op.operands[0].type.size * table_bits(op) / 8)


def _gather(op: Op, target: Target, share: float = 1.0) -> tuple[Primitive, ...]:
    table = op.operands[0].type
    bits = table_bits(op)
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
        freq = FREQ.of(op, None)
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
    masked = b * op.attrs["heads"] * f * f if op.arg("mask") is not None else 0  # an add a score
    bias = op.arg("b")
    zero = bias is not None and isinstance(bias.owner, nn.Constant) and \
        not bias.owner.attrs["value"].any()  # a masked layer's placeholder: nothing to add
    biased = 3 * b * f * inner if bias is not None and not zero else 0  # an add an element
    return 2 * b * f * f * inner + masked + biased  # scores and the weighted sum of values


def _dense(op: Op) -> int:
    rows, cols = op.operands[1].type.shape
    return _size(op) // max(1, rows) * rows * cols


def _cross(op: Op) -> int:
    """The product with x0, the bias and the residual (3 per element) after x @ w: D per row
    (vector), D per element (matrix) or 2 r per element (low rank); a mixture instead runs,
    per row, its gate (D E), softmax (3 E), and per expert its stages (D r + r r + r D, 2 r
    tanh) and the bias, product and weighting of its D outputs."""
    out = _out(op)
    if op.attrs["kind"] != "mixture":
        d, r = op.operands[1].type.shape[-1], op.attrs["rank"]
        per = {"vector": 1, "matrix": d, "low_rank": 2 * r}[op.attrs["kind"]]
        return (3 + per) * out
    e, r, d = op.attrs["experts"], op.attrs["rank"], op.operands[1].type.shape[-1]
    rows = out // max(1, d)
    return out + rows * (d * e + 3 * e + e * (2 * d * r + r * r + 2 * r + 3 * d))


def _gru(hidden: Callable[[Op], int], dirs: Callable[[Op], int] = lambda op: 1):
    """One `VectorOp` per time step, one after another (a step needs the state before it):
    per direction and row x_t @ W and h @ R (3H outputs of in + H products each), then 14 H
    gate operations (the recurrence's bias, the gates' sums, two sigmoids, the candidate's
    product, sum and tanh, and the update's three)."""
    def make(op: Op, target: Target) -> tuple[Primitive, ...]:
        seq, batch, size = op.operands[0].type.shape
        h = hidden(op)
        step = dirs(op) * batch * (3 * h * (size + h) + 14 * h)
        return (VectorOp("mac", max(1, step), bits_of(op, target)),) * max(1, seq)
    return make


def _pair_dim(op: Op) -> int:
    return op.operands[-1].type.shape[-1]


def _pair_products(op: Op) -> int:
    return op.results[0].type.shape[0] * len(op.attrs["left"]) * _pair_dim(op)


_DIGITAL: dict[str, Callable[[Op, Target], tuple[Primitive, ...]]] = {
    pim.Combine.name: _combine,
    "rec.dot_interaction": _vector("mac", lambda op: _out(op) * _features(op)[2]),
    "rec.fm": _vector("mac", lambda op: 2 * _size(op)),
    "rec.attention": _vector("mac", _attention),
    "rec.gating": _vector("mul", lambda op: 2 * _out(op)),
    "rec.cross": _vector("mac", _cross),
    "rec.dense": _vector("mac", _dense),
    "rec.efc": _vector("mac", lambda op: _out(op) * _features(op)[1]),
    "rec.embedding_bag": _vector("add", lambda op: _size(op, 1) * op.results[0].type.shape[-1]),
    # pairs x D products (summed or not): one mac each; a bilinear pair also takes its left
    # factor through a [D, D] weight first; a mixture weighs E expert rows (softmax: 3 per gate)
    "rec.pairwise": _vector("mac", lambda op: _pair_products(op)),
    "rec.bilinear": _vector("mac", lambda op: _pair_products(op) * (1 + _pair_dim(op))),
    "rec.moe": _vector("mac", lambda op: _size(op, 1) + 3 * _size(op)),
    # digital (or near-bank) GRUs: every step one after another (the macs grow with seq)
    "rec.gru": _gru(lambda op: op.operands[2].type.shape[0]),
    "nn.gru": _gru(lambda op: op.hidden, lambda op: op.dirs),
    "nn.add": _vector("add", _out), "nn.sub": _vector("sub", _out),
    "nn.mul": _vector("mul", _out), "nn.div": _vector("div", _out),
    "nn.relu": _vector("relu", _out), "nn.sigmoid": _vector("sigmoid", _out),
    "nn.tanh": _vector("tanh", _out), "nn.exp": _vector("exp", _out),
    "nn.max": _vector("max", _out), "nn.softmax": _vector("exp", lambda op: 3 * _out(op)),
    # per element: the mean, centring, square-and-sum, normalising and scaling (one each), and
    # the shift when there is one; the per-row square root is within the normalising step
    "nn.layer_norm": _vector("mac", lambda op: (5 + (len(op.operands) == 3)) * _out(op)),
    "nn.reduce_sum": _vector("add", lambda op: _size(op)),
    "nn.reduce_mean": _vector("add", lambda op: _size(op)),
    "nn.matmul": _vector("mac", lambda op: _out(op) * op.operands[0].type.shape[-1]),
}


def offchip_part(prims: tuple[Primitive, ...], target: Target) -> tuple[Primitive, ...]:
    """The primitives of an op that hold the chip's off-chip interface, before the op's unit:
    rows read from off-chip DRAM, and on a target that stages streamed weights the weight load
    (the next tile arrives while the array computes; only its commit then holds the array)."""
    return tuple(p for p in prims if isinstance(p, DramAccess)
                 or (target.weight_staging and isinstance(p, WeightLoad)))


def offchip_span(offchip: int, total: int) -> int:
    """Of an op's `total` cycles, those that hold the off-chip I/O (first), when its off-chip
    part alone takes `offchip`: the op's unit keeps at least the last cycle (a staged weight
    load's commit into the array; an embedding bag's pooling)."""
    return max(0, min(offchip, total - 1))


def offchip_lookup_bytes(op: Op, target: Target) -> int:
    """Bytes an embedding bag kept in off-chip DRAM reads per batch: every lookup moves its
    row in whole accesses of the DRAM's access size (0 when the tables live in banks)."""
    dram = target.offchip_dram
    if not isinstance(op, rec.EmbeddingBag) or target.dram is not None or dram is None:
        return 0
    table = op.operands[0].type
    row_bits = max(1, table.shape[-1]) * table_bits(op)
    if dram.access_size:
        row_bits = math.ceil(row_bits / dram.access_size) * dram.access_size
    return _size(op, 1) * math.ceil(row_bits / 8)


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
    fetched = offchip_lookup_bytes(op, target)
    if fetched:  # a table in off-chip DRAM: its rows cross the chip's I/O, then pool on a unit
        return (DramAccess(fetched), *make(op, target))
    return make(op, target)
