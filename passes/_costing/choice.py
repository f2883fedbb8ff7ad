"""What one crossbar-capable op costs in each form it can take: partition's choice.

`digital_form(op, target, coster)` prices the op left whole on the digital units (its own
``VectorOp`` primitives, `op_primitives.primitives`); `crossbar_form(op, name, target,
coster, replicas)` lowers it as `tile` would (tile's default rows, "lossless") and prices the
lowering: its `pim.mvm` tiles at `replicas` copies, its `pim.load`s on streamed targets and
its digital remainder (combines, biases, activations, a GRU's gate arithmetic, a bilinear's
products with its right fields). Both are
priced by the same `OpCoster` the scheduler uses, and each form is reduced to three numbers:

- ``latency``: cycles from the op's inputs to its result on an otherwise idle chip (the
  longest path through its ops; transfers are not counted in either form);
- ``interval``: cycles of the busiest resource it holds per batch, a lower bound: per class
  of resource (crossbars, vector units) the larger of its longest task and its total over
  the class's count (a digital op whole is one task on one unit);
- ``energy``: joules its primitives draw (leakage is the chip's, not the op's).

Nothing here writes to the IR: the lowering is built and dropped. The digital form counts
the op's arithmetic, not the reading of its weights into the vector unit (`op_primitives`
prices a digital GRU's macs only), which is small beside the arithmetic for the GRUs it
chooses for (GRU4Rec's W and R hold 48 numbers each) and would favour digital for large
weights.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ir.core import Graph, Op, detach
from ir.dialects import pim, rec
from ir.dialects.pim_attrs import A_BITS, UNIT, W_BITS, X_SCALE
from ir.errors import PimcError
from passes._costing.op_primitives import primitives
from passes._lowering.geometry import geometry, tile_count
from passes._lowering.kinds import matrices
from passes._lowering.mvm import Crossbar
from passes._lowering.rules import LOWER, Builder
from passes._placement.mesh import Mesh
from passes._placement.placement import PIPELINED_OBJECTIVES
from targets.coster import OpCoster
from targets.hardware import Target

__all__ = ["CHOOSABLE", "Form", "crossbar_form", "digital_form", "prefers_digital",
           "spare_crossbars", "tiles_of"]

# Ops whose digital primitives price all of their work, so that their two forms compare.
# (A rec.cross or rec.attention prices only what follows its crossbar products there.)
CHOOSABLE: tuple[type[Op], ...] = (rec.Gru, rec.Bilinear)


@dataclass(frozen=True)
class Form:
    """One form of an op: latency and interval in cycles, energy in joules, crossbars held."""

    latency: int
    interval: int
    energy: float
    crossbars: int = 0


def _joules(coster: OpCoster, prims) -> float:
    return sum(coster.energy(prims).values())


def digital_form(op: Op, target: Target, coster: OpCoster) -> Form:
    """The op left whole on one vector unit (or the near-bank units)."""
    prims = primitives(op, target)
    cycles = coster.cycles(prims)
    return Form(cycles, cycles, _joules(coster, prims))


def _lowered(op: Op, name: str, target: Target) -> list[Op]:
    for fact in (W_BITS, A_BITS, X_SCALE):
        if not fact.has(op):
            raise PimcError(f"partition needs {fact.name} on {op.name} {name} to compare its "
                            f"costs (run {fact.writer} first)", "partition")
    w_bits = W_BITS.of(op)
    cb = Crossbar(geometry(target, w_bits), w_bits, A_BITS.of(op), X_SCALE.of(op),
                  target.weights == "streamed")
    b = Builder(op, name, cb)
    LOWER[type(op)](b)
    return b.ops


def _counts(target: Target) -> dict[str, int]:
    """Resources of each class, as the lower bounds count them (`_placement.lower_bounds`)."""
    mesh = Mesh.of(target)
    return {"crossbar": max(1, mesh.crossbars),
            "digital": mesh.chip_tiles or max(1, mesh.banks // mesh.banks_per_unit)}


def _busy(tasks: list[tuple[int, int]], count: int) -> int:
    """The busiest of `count` resources doing `tasks` (time, work): at least the longest task,
    and at least the whole work shared evenly (a tile at r copies works r x its time)."""
    return max(max((t for t, _ in tasks), default=0), math.ceil(sum(w for _, w in tasks) / count))


def _cost(o: Op, target: Target, coster: OpCoster, replicas: int):
    """(cycles, joules, crossbars held) of one op of a lowering; `None` for a free one."""
    if UNIT.of(o, None) not in ("crossbar", "digital"):
        return None
    prims = primitives(o, target)
    held = 0
    if isinstance(o, pim.MVM):  # copies beyond the input's vectors would have nothing to do
        copies = min(replicas, prims[0].vectors)
        prims = tuple(dataclasses.replace(p, replicas=copies) for p in prims)
        held = copies * o.crossbars
    return coster.cycles(prims), _joules(coster, prims), held


def crossbar_form(op: Op, name: str, target: Target, coster: OpCoster,
                  replicas: int = 1) -> Form:
    """The op lowered to crossbar tiles (each at up to `replicas` copies) and its digital
    remainder."""
    done: dict[int, int] = {}  # id(value) -> the cycle it is ready
    tasks: dict[str, list[tuple[int, int]]] = {"crossbar": [], "digital": []}
    latency, energy, crossbars = 0, 0.0, 0
    lowered = _lowered(op, name, target)
    for o in lowered:
        cost = _cost(o, target, coster, replicas)
        cycles = 0 if cost is None else cost[0]
        end = max((done.get(id(v), 0) for v in o.operands), default=0) + cycles
        done.update((id(r), end) for r in o.results)
        latency = max(latency, end)
        if cost is not None:
            tasks[UNIT.of(o)].append((cycles, cycles * max(1, cost[2])))
            energy += cost[1]
            crossbars += cost[2]
    detach(lowered)  # built to be priced, then dropped
    counts = _counts(target)
    interval = max(_busy(tasks[k], counts[k]) for k in tasks)
    return Form(latency, interval, energy, crossbars)


def tiles_of(op: Op, target: Target) -> int:
    """Weight tiles of a crossbar op at its `pim.w_bits` (0 without one)."""
    w_bits = W_BITS.of(op, None)
    if w_bits is None:
        return 0
    geo = geometry(target, w_bits)
    return sum(tile_count(m.w.shape, geo) for m in matrices(op) or ())


def spare_crossbars(graph: Graph, target: Target) -> int:
    """Crossbars left when every crossbar-capable op of `graph` sits on crossbars once
    (0 when weights are streamed: there is nothing to replicate into)."""
    if target.weights == "streamed" or target.chip is None:
        return 0
    need = sum(tiles_of(op, target) for op in graph.ops)
    return max(0, _counts(target)["crossbar"] - need)


def _ratio(d: float, x: float) -> float:
    if x > 0:
        return d / x
    return 1.0 if d == 0 else math.inf


def prefers_digital(objective: str, weights: tuple[float, ...], digital: Form,
                    crossbar: tuple[Form, Form]) -> bool:
    """True when the digital form beats the crossbar form's best (the less of its forms at
    one copy and at the affordable copies, on each number) on `objective`, and, where batches
    are pipelined (every objective but latency), its interval is no longer than the
    crossbar's best: crossbars bring no throughput the digital form gives up."""
    one, most = crossbar
    d = (digital.latency, digital.interval, digital.energy)
    x = (min(one.latency, most.latency), min(one.interval, most.interval),
         min(one.energy, most.energy))
    if objective in PIPELINED_OBJECTIVES and d[1] > x[1]:
        return False
    if objective == "mix":
        return sum(w * _ratio(a, b) for w, a, b in zip(weights, d, x)) < sum(weights)
    k = {"latency": 0, "throughput": 1, "energy": 2}[objective]
    return d[k] < x[k]
