"""The hardware vocabulary: frozen classes that a target YAML is validated into.

Hierarchy: ``Target`` → ``Chip`` → ``Tile`` → ``PE`` → ``Array`` (with its ``Adc``, ``Dac``,
``SampleHold`` and ``ShiftAdd``), plus ``Buffer``s, ``Unit``s (any other counted component),
``VectorUnit``s, a ``Network``, a ``Dram`` stack with near-bank units and an ``OffChipDram``.
Quantities are stored in canonical units: J, W, mm², bit, Hz, S/s, s, bit/s, J/bit, m.
Names follow ZigZag's hardware YAML where the two overlap (``imc_type``, ``rows``/``columns``
for its ``D2``/``D1``, ``read_energy``/``write_energy`` for ``r_cost``/``w_cost`` per access of
``width`` bits, ``holds`` for ``operands``); see ``targets/README.md`` for the mapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from targets._schema import COUNT_LIMIT, quantity
from targets._schema import count as whole

__all__ = [
    "Adc", "Array", "Buffer", "Chip", "Dac", "Dram", "NearBankUnit", "Network", "OffChipDram",
    "PE", "Part", "Precision", "SampleHold", "ShiftAdd", "Target", "Tile", "Unit", "VectorUnit",
]

# Limits that keep a compile tractable (not hardware facts): the mapping passes walk every chip
# tile and crossbar; about 100x ISAAC's 168 tiles and 16,128 crossbars still maps in seconds.
_TILES = 16384
_ARRAY_SIDE = 4096
_BITS = 8  # bits per cell; weights and activations up to 4x that (32)


@dataclass(frozen=True, kw_only=True)
class Part:
    """Cost fields shared by every component; ``power`` is peak power including ``leakage``."""

    area: float = quantity("area", 0.0, doc="area of one instance")
    power: float = quantity("power", 0.0, doc="peak power of one instance, leakage included")
    leakage: float = quantity("power", 0.0, doc="static power of one instance")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class Adc(Part):
    resolution: int = whole(minimum=1, maximum=32)
    rate: float = quantity("rate", positive=True)
    per_array: int = whole(minimum=1)
    energy: float = quantity("energy", doc="per conversion at `resolution`")
    scaling: Literal["linear", "exponential", "capacitive"] = "linear"
    linear_cap: float = quantity("energy", 0.0, doc="capacitive model: C1*VDD^2 per bit")
    exponential_cap: float = quantity("energy", 0.0, doc="capacitive model: C2*VDD^2 per 4^bit")

    def check(self) -> list[tuple[str, str]]:
        if self.scaling == "capacitive" and self.linear_cap + self.exponential_cap == 0:
            return [("linear_cap", "the capacitive scaling needs linear_cap or exponential_cap")]
        return []


@dataclass(frozen=True, kw_only=True)
class Dac(Part):
    resolution: int = whole(minimum=1, maximum=32)
    per_array: int = whole(minimum=1)
    energy: float = quantity("energy", 0.0, doc="per row drive per input cycle")


@dataclass(frozen=True, kw_only=True)
class SampleHold(Part):
    per_array: int = whole(minimum=1)
    energy: float = quantity("energy", 0.0, doc="per sample")


@dataclass(frozen=True, kw_only=True)
class ShiftAdd(Part):
    count: int = whole(minimum=1, doc="units per PE")
    energy: float = quantity("energy", 0.0, doc="per weight column per input cycle")


@dataclass(frozen=True, kw_only=True)
class Array(Part):
    technology: Literal["reram", "sram"]
    imc_type: Literal["analog", "digital"]
    rows: int = whole(minimum=1, maximum=_ARRAY_SIDE)
    columns: int = whole(minimum=1, maximum=_ARRAY_SIDE)
    cell_bits: int = whole(minimum=1, maximum=_BITS)
    signed_weights: Literal["differential_pair", "offset_column", "unsigned"]
    read_latency: float = quantity("time", 0.0, doc="one array read (one input cycle)")
    cell_energy: float = quantity("energy", 0.0, doc="per active cell per input cycle")
    row_energy: float = quantity("energy", 0.0, doc="per active row per input cycle")
    column_energy: float = quantity("energy", 0.0, doc="per active column per input cycle")
    adder_tree_energy: float = quantity("energy", 0.0, doc="digital: per row input per column")
    write_energy: float = quantity("energy", 0.0, doc="per cell written")


@dataclass(frozen=True, kw_only=True)
class Buffer(Part):
    name: str
    count: int = whole(1, minimum=1)
    size: float = quantity("size", positive=True)
    width: float = quantity("size", positive=True, doc="bits moved by one access")
    read_energy: float = quantity("energy", 0.0, doc="per access of `width` bits")
    write_energy: float = quantity("energy", 0.0, doc="per access of `width` bits")
    holds: tuple[Literal["inputs", "outputs", "weights"], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Unit(Part):
    name: str
    count: int = whole(1, minimum=1)
    energy: float = quantity("energy", 0.0, doc="per operation")


@dataclass(frozen=True, kw_only=True)
class VectorUnit(Part):
    count: int = whole(1, minimum=1)
    lanes: int = whole(minimum=1)
    dtypes: tuple[str, ...] = ()
    clock: float = quantity("frequency", positive=True)
    energy: float = quantity("energy", doc="per lane operation")


@dataclass(frozen=True, kw_only=True)
class PE:
    arrays: int = whole(minimum=1, maximum=1024)
    array: Array
    adc: Adc | None = None
    dac: Dac | None = None
    sample_hold: SampleHold | None = None
    shift_add: ShiftAdd | None = None
    buffers: tuple[Buffer, ...] = ()
    units: tuple[Unit, ...] = ()
    vector_unit: VectorUnit | None = None

    def check(self) -> list[tuple[str, str]]:
        if self.array.imc_type == "analog" and self.adc is None:
            return [("adc", "an analog array needs an adc")]
        return []


@dataclass(frozen=True, kw_only=True)
class Tile:
    pes: int = whole(minimum=1, maximum=1024)
    pe: PE
    buffers: tuple[Buffer, ...] = ()
    units: tuple[Unit, ...] = ()
    vector_unit: VectorUnit | None = None


@dataclass(frozen=True, kw_only=True)
class Network:
    topology: Literal["mesh", "cmesh"]
    dims: tuple[int, ...] = whole(minimum=1, maximum=_TILES)
    hop_latency: float = quantity("time")
    energy_per_bit: float = quantity("energy_per_bit", doc="per bit per hop")
    link_bandwidth: float = quantity("bandwidth", positive=True)
    routers: Unit | None = None
    source: str = ""

    def check(self) -> list[tuple[str, str]]:
        if not 1 <= len(self.dims) <= 2:
            return [("dims", f"a mesh has 1 or 2 dimensions, got {len(self.dims)}")]
        return []

    def serial_cycles(self, nbytes: int, clock: float) -> int:
        """Cycles a link is held while `nbytes` serialise over it."""
        return max(1, math.ceil(nbytes * 8 / self.link_bandwidth * clock - 1e-9))

    def arrival_cycles(self, serial: int, hops: int, clock: float) -> int:
        """Cycles from a transfer's start until it has arrived: its busiest link's `serial`
        cycles, then the head's travel over `hops` routers (pipelined behind the first byte).
        The scheduler and the simulator both time a transfer by this one rule."""
        return max(1, math.ceil(serial + hops * self.hop_latency * clock - 1e-9))


@dataclass(frozen=True, kw_only=True)
class Chip:
    tiles: int = whole(minimum=1, maximum=_TILES)
    tile: Tile
    network: Network | None = None
    buffers: tuple[Buffer, ...] = ()
    units: tuple[Unit, ...] = ()


@dataclass(frozen=True, kw_only=True)
class NearBankUnit(Part):
    count: int = whole(minimum=1, doc="units in the whole stack")
    banks_per_unit: int = whole(1, minimum=1)
    lanes: int = whole(minimum=1)
    dtypes: tuple[str, ...] = ()
    clock: float = quantity("frequency", positive=True)
    energy: float = quantity("energy", doc="per lane operation")


@dataclass(frozen=True, kw_only=True)
class Dram:
    banks: int = whole(minimum=1)
    bank_size: float = quantity("size", positive=True)
    row_size: float = quantity("size", positive=True)
    column_width: float = quantity("size", positive=True, doc="bits per column access")
    row_cycle: float = quantity("time", doc="activate + precharge (tRC)")
    column_cycle: float = quantity("time", doc="back-to-back column accesses (tCCD_L)")
    access_energy: float = quantity("energy_per_bit", doc="cell to near-bank unit")
    activate_energy: float = quantity("energy", 0.0, doc="per row activation")
    near_bank: NearBankUnit
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class OffChipDram:
    read_energy: float = quantity("energy_per_bit")
    write_energy: float = quantity("energy_per_bit")
    width: float = quantity("size", 0.0, doc="bits per target clock cycle")
    bandwidth: float = quantity("bandwidth", 0.0, doc="used when width is not given")
    access_size: float = quantity("size", 0.0, doc="bits moved per random access (a burst); "
                                  "0: exactly the bytes asked for")
    source: str = ""

    def check(self) -> list[tuple[str, str]]:
        if self.width == 0 and self.bandwidth == 0:
            return [("bandwidth", "give `bandwidth` (e.g. 25.6 GB/s) or `width` per cycle")]
        return []


@dataclass(frozen=True, kw_only=True)
class Precision:
    weights: int = whole(minimum=1, maximum=_BITS * 4)
    activations: int = whole(minimum=1, maximum=_BITS * 4)


@dataclass(frozen=True, kw_only=True)
class Target:
    name: str
    description: str = ""
    technology: float = quantity("length", 0.0, doc="0 when no single figure is published")
    clock: float = quantity("frequency", positive=True)
    weights: Literal["resident", "streamed"]
    # streamed weights only: the next tile's weights come in over the off-chip interface while
    # the array still computes with the current tile (a staging path into the cells); a load then
    # holds the array only to commit the tile, one cycle, instead of for its whole transfer
    weight_staging: bool = False
    precision: Precision
    chip: Chip | None = None
    dram: Dram | None = None
    offchip_dram: OffChipDram | None = None
    leakage: float = quantity("power", 0.0, doc="chip static power not in any component")
    notes: tuple[str, ...] = ()

    def check(self) -> list[tuple[str, str]]:
        if self.chip is None and self.dram is None:
            return [("chip", "a target needs a `chip`, a `dram` stack, or both")]
        if self.weights == "streamed" and self.offchip_dram is None:
            return [("offchip_dram", "streamed weights need an `offchip_dram` to stream from")]
        if self.weight_staging and self.weights != "streamed":
            return [("weight_staging", "stages streamed weights; accepted only with "
                                       "`weights: streamed`")]
        if self.chip is not None:
            arrays = self.chip.tiles * self.chip.tile.pes * self.chip.tile.pe.arrays
            if arrays > COUNT_LIMIT:
                return [("chip", f"{arrays} crossbars in all; at most {COUNT_LIMIT} keep a "
                                 "compile tractable (fewer tiles, PEs or arrays)")]
        return []
