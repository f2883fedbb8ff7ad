"""The analytical cost model: a class of named steps run by ``evaluate()``.

``CostModel(target).evaluate(primitives)`` prices each primitive (see ``targets.primitives``) by
running the steps listed for its type in ``STEPS``; every step adds energy (J, by component),
counts, or latency to an accumulator. Per-op results add into a ``Report`` with leakage over the
whole run and the chip's area and peak power. A variant overrides only the steps that differ.

Crossbar MVM, for a ``rows`` x ``cols`` matrix of ``w``-bit weights and ``a``-bit inputs on arrays
of R x C cells with b bits each: a weight takes ceil(w/b) columns (x2 for a differential pair; an
offset column adds one per array), the matrix takes ceil(rows/R) x ceil(cols/(C div slices))
tiles, an input is applied over ceil(a/dac_bits) cycles, each cycle converts the active columns
through the ADCs, and the slices are shifted and added.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from targets._adc import adc_energy
from targets._geometry import columns_per_weight, input_cycles, step_time, tiles
from targets.errors import TargetError
from targets.hardware import Buffer, OffChipDram, Target
from targets.primitives import (
    BankGather,
    CrossbarMVM,
    DramAccess,
    Primitive,
    Transfer,
    VectorOp,
    WeightLoad,
)
from targets.report import OpCost, Report
from targets.rollup import components, rollup

__all__ = ["CostModel"]


@dataclass
class _Acc:
    """What the steps of one primitive build up."""

    energy: dict[str, float] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    geo: dict[str, int] = field(default_factory=dict)

    def add(self, component: str, joules: float) -> None:
        if joules:
            self.energy[component] = self.energy.get(component, 0.0) + joules


class CostModel:
    """Latency, energy and area of the primitives on one target."""

    name = "analytical"
    STEPS: dict[type, tuple[str, ...]] = {
        CrossbarMVM: ("mvm_geometry", "mvm_adc", "mvm_dac", "mvm_array", "mvm_shift_add",
                      "mvm_buffers", "mvm_latency"),
        VectorOp: ("vector",),
        BankGather: ("bank_energy", "bank_latency"),
        Transfer: ("transfer",),
        WeightLoad: ("weight_load",),
        DramAccess: ("dram_access",),
    }

    # Of STEPS, those a primitive's latency needs (the steps that add to it and those they
    # read), for ``seconds``; a type not listed needs all of its STEPS. A variant that adds
    # latency in another step, or reads one more, lists it here too.
    TIMING: dict[type, tuple[str, ...]] = {CrossbarMVM: ("mvm_geometry", "mvm_latency")}

    def __init__(self, target: Target) -> None:
        self.target = target
        self._buffer_list: list[Buffer] | None = None  # the target's buffers, listed once

    def evaluate(self, ops: Iterable[Primitive]) -> Report:
        """Price every primitive and add them up, with leakage over the whole run."""
        costs = tuple(self.cost(op) for op in ops)
        roll = rollup(self.target)
        seconds = sum(c.seconds for c in costs)
        energy: dict[str, float] = {}
        for c in costs:
            for key, joules in c.energy.items():
                energy[key] = energy.get(key, 0.0) + joules
        if roll.leakage:
            energy["leakage"] = roll.leakage * seconds
        return Report(self.target.name, costs, seconds * self.target.clock, seconds, energy,
                      roll.area, roll.power)

    def cost(self, op: Primitive) -> OpCost:
        """Run the named steps for one primitive."""
        acc = self._run(op, self._steps(op))
        return OpCost(type(op).__name__, acc.seconds * self.target.clock, acc.seconds,
                      acc.energy, acc.counts)

    def seconds(self, op: Primitive) -> float:
        """``cost(op).seconds``, from only the steps its latency needs (``TIMING``): where a
        placer compares the times of many replica counts and reads no energy."""
        return self._run(op, self.TIMING.get(type(op)) or self._steps(op)).seconds

    def _steps(self, op: Primitive) -> tuple[str, ...]:
        steps = self.STEPS.get(type(op))
        if steps is None:
            raise TargetError(f"no cost steps for {type(op).__name__}; known primitives: "
                              f"{', '.join(t.__name__ for t in self.STEPS)}")
        return steps

    def _run(self, op: Primitive, steps: tuple[str, ...]) -> _Acc:
        acc = _Acc()
        for step in steps:
            getattr(self, step)(op, acc)
        return acc

    # -- crossbar MVM ---------------------------------------------------------------------------

    def _pe(self, what: str):
        if self.target.chip is None:
            raise TargetError(f"target {self.target.name!r} has no chip with {what}")
        return self.target.chip.tile.pe

    def mvm_geometry(self, op: CrossbarMVM, acc: _Acc) -> None:
        pe = self._pe("crossbars")
        row_tiles, col_tiles = tiles(pe.array, op.rows, op.cols, op.weight_bits)
        if op.crossbar_cols:  # the lowering's split: the columns of each of its crossbars
            col_tiles = math.ceil(op.cols / op.crossbar_cols)
        extra = 1 if pe.array.signed_weights == "offset_column" else 0
        slices = columns_per_weight(pe.array, op.weight_bits)
        widest = min(op.cols, op.crossbar_cols or op.cols) * slices + extra
        acc.geo = {"row_tiles": row_tiles, "col_tiles": col_tiles,
                   "cycles": input_cycles(pe, op.act_bits),
                   "bit_columns": op.cols * slices + extra * col_tiles, "widest": widest}
        acc.counts.update(tiles=row_tiles * col_tiles, input_cycles=acc.geo["cycles"])

    def mvm_adc(self, op: CrossbarMVM, acc: _Acc) -> None:
        pe, g = self._pe("ADCs"), acc.geo
        if pe.adc is None:
            return
        conversions = op.vectors * g["cycles"] * g["row_tiles"] * g["bit_columns"]
        acc.counts["conversions"] = conversions
        acc.add("adc", conversions * adc_energy(pe.adc))
        if pe.sample_hold is not None:
            acc.add("sample_hold", conversions * pe.sample_hold.energy)

    def mvm_dac(self, op: CrossbarMVM, acc: _Acc) -> None:
        pe, g = self._pe("DACs"), acc.geo
        if pe.dac is None:
            return
        sharing = min(1.0, pe.dac.per_array / pe.array.rows)
        drives = op.vectors * g["cycles"] * op.rows * g["col_tiles"] * sharing
        acc.add("dac", drives * pe.dac.energy)

    def mvm_array(self, op: CrossbarMVM, acc: _Acc) -> None:
        array, g = self._pe("arrays").array, acc.geo
        per_cycle = op.vectors * g["cycles"]
        acc.add("array", per_cycle * (
            array.cell_energy * op.rows * g["bit_columns"]
            + array.row_energy * op.rows * g["col_tiles"]
            + array.column_energy * g["row_tiles"] * g["bit_columns"]
            + array.adder_tree_energy * op.rows * op.cols))

    def mvm_shift_add(self, op: CrossbarMVM, acc: _Acc) -> None:
        pe, g = self._pe("shift-and-add units"), acc.geo
        if pe.shift_add is not None:
            ops = op.vectors * g["cycles"] * g["row_tiles"] * op.cols
            acc.add("shift_add", ops * pe.shift_add.energy)

    def mvm_buffers(self, op: CrossbarMVM, acc: _Acc) -> None:
        g = acc.geo
        in_bits = op.vectors * op.rows * op.act_bits
        out_bits = op.vectors * op.cols * op.act_bits * g["row_tiles"]
        for buf in self._buffers():
            if "inputs" in buf.holds:
                acc.add(f"buffer.{buf.name}", _access(buf, in_bits * g["col_tiles"], in_bits))
            if "outputs" in buf.holds:
                acc.add(f"buffer.{buf.name}", _access(buf, out_bits, out_bits))

    def _buffers(self) -> list[Buffer]:
        if self._buffer_list is None:  # a walk of the target's components: once, not per MVM
            self._buffer_list = [c.part for c in components(self.target)
                                 if isinstance(c.part, Buffer)]
        return self._buffer_list

    def mvm_latency(self, op: CrossbarMVM, acc: _Acc) -> None:
        chip, g = self.target.chip, acc.geo
        pe = chip.tile.pe
        arrays = chip.tiles * chip.tile.pes * pe.arrays
        needed = g["row_tiles"] * g["col_tiles"]
        replicas = max(1, min(op.replicas, arrays // needed))
        passes = math.ceil(needed / arrays)
        # the columns an array converts per step: the widest of the lowering's crossbars, or
        # an even share of a matrix the cost model splits itself
        share = g["widest"] if op.crossbar_cols else math.ceil(g["bit_columns"] / g["col_tiles"])
        active = min(pe.array.columns + 1, share)
        step = step_time(self.target, pe, active)
        acc.seconds += passes * math.ceil(op.vectors / replicas) * g["cycles"] * step

    # -- digital, DRAM-bank, network and off-chip primitives ------------------------------------

    def vector(self, op: VectorOp, acc: _Acc) -> None:
        unit = self._vector_unit()
        acc.add("vector", op.elements * unit.energy)
        acc.seconds += math.ceil(op.elements / (unit.lanes * unit.count)) / unit.clock

    def _vector_unit(self):
        chip = self.target.chip
        for unit in (chip and chip.tile.pe.vector_unit, chip and chip.tile.vector_unit):
            if unit is not None:
                return unit
        if self.target.dram is not None:
            return self.target.dram.near_bank
        raise TargetError(f"target {self.target.name!r} has no vector unit or near-bank unit")

    def _dram(self):
        if self.target.dram is None:
            raise TargetError(f"target {self.target.name!r} has no DRAM banks for BankGather")
        return self.target.dram

    def bank_energy(self, op: BankGather, acc: _Acc) -> None:
        dram = self._dram()
        row_bits = op.dim * op.bits
        acc.counts["activations"] = op.lookups * math.ceil(row_bits / dram.row_size)
        acc.add("bank", op.lookups * row_bits * dram.access_energy
                + acc.counts["activations"] * dram.activate_energy)
        adds = (op.lookups - math.ceil(op.lookups / op.pooling)) * op.dim
        acc.add("near_bank", adds * dram.near_bank.energy)

    def bank_latency(self, op: BankGather, acc: _Acc) -> None:
        dram = self._dram()
        row_bits = op.dim * op.bits
        per_lookup = (math.ceil(row_bits / dram.row_size) * dram.row_cycle
                      + math.ceil(row_bits / dram.column_width) * dram.column_cycle)
        streams = min(op.lookups, dram.near_bank.count, dram.banks)
        acc.seconds += math.ceil(op.lookups / streams) * per_lookup

    def transfer(self, op: Transfer, acc: _Acc) -> None:
        chip = self.target.chip
        if chip is None or chip.network is None:
            raise TargetError(f"target {self.target.name!r} has no network for Transfer")
        net, bits = chip.network, op.bytes * 8
        acc.add("network", bits * op.hops * net.energy_per_bit)
        acc.seconds += op.hops * net.hop_latency + bits / net.link_bandwidth

    def _offchip(self) -> OffChipDram:
        if self.target.offchip_dram is None:
            raise TargetError(f"target {self.target.name!r} has no offchip_dram")
        return self.target.offchip_dram

    def _offchip_seconds(self, bits: float) -> float:
        dram = self._offchip()
        bandwidth = dram.width * self.target.clock if dram.width else dram.bandwidth
        return bits / bandwidth

    def weight_load(self, op: WeightLoad, acc: _Acc) -> None:
        bits = op.bytes * 8
        acc.add("dram", bits * self._offchip().read_energy)
        chip = self.target.chip
        if chip is not None:
            acc.add("array_write", bits / chip.tile.pe.array.cell_bits
                    * chip.tile.pe.array.write_energy)
        acc.seconds += self._offchip_seconds(bits)

    def dram_access(self, op: DramAccess, acc: _Acc) -> None:
        dram = self._offchip()
        acc.add("dram", 8 * (op.read_bytes * dram.read_energy + op.write_bytes * dram.write_energy))
        acc.seconds += self._offchip_seconds(8 * (op.read_bytes + op.write_bytes))


def _access(buf: Buffer, read_bits: float, write_bits: float) -> float:
    """Energy of reading and writing that many bits in accesses of ``buf.width`` bits."""
    return (math.ceil(read_bits / buf.width) * buf.read_energy
            + math.ceil(write_bits / buf.width) * buf.write_energy)
