"""Chip-level figures that roll up from the components: area, peak power, leakage, peak
throughput and capacity (how many weights of a given precision fit).

``components(target)`` flattens the hierarchy into ``(name, total count, part)`` rows; every
other function here is a sum over those rows or plain arithmetic on the array geometry.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from targets._geometry import columns_per_weight, input_cycles, step_time, weights_per_row
from targets.hardware import PE, Buffer, Part, Target, Tile, Unit

__all__ = ["Component", "Rollup", "capacity", "components", "peak_ops", "rollup"]


@dataclass(frozen=True)
class Component:
    name: str
    count: int
    part: Part


@dataclass(frozen=True)
class Rollup:
    """Totals in mm², W and ops/s (one MAC = 2 ops), with a per-component breakdown."""

    area: float
    power: float
    leakage: float
    peak_ops: dict[str, float]
    area_breakdown: dict[str, float]
    power_breakdown: dict[str, float]


def _named(prefix: str, items: tuple[Buffer | Unit, ...], scale: int) -> Iterator[Component]:
    for item in items:
        yield Component(f"{prefix}.{item.name}", scale * getattr(item, "count", 1), item)


def _pe_components(pe: PE, scale: int) -> Iterator[Component]:
    arrays = scale * pe.arrays
    yield Component("pe.array", arrays, pe.array)
    for name in ("adc", "dac", "sample_hold"):
        part = getattr(pe, name)
        if part is not None:
            yield Component(f"pe.{name}", arrays * part.per_array, part)
    if pe.shift_add is not None:
        yield Component("pe.shift_add", scale * pe.shift_add.count, pe.shift_add)
    if pe.vector_unit is not None:
        yield Component("pe.vector_unit", scale * pe.vector_unit.count, pe.vector_unit)
    yield from _named("pe", pe.buffers, scale)
    yield from _named("pe", pe.units, scale)


def _tile_components(tile: Tile, tiles: int) -> Iterator[Component]:
    yield from _pe_components(tile.pe, tiles * tile.pes)
    if tile.vector_unit is not None:
        yield Component("tile.vector_unit", tiles * tile.vector_unit.count, tile.vector_unit)
    yield from _named("tile", tile.buffers, tiles)
    yield from _named("tile", tile.units, tiles)


def components(target: Target) -> list[Component]:
    """Every component of the target with its total instance count."""
    rows: list[Component] = []
    chip = target.chip
    if chip is not None:
        rows.extend(_tile_components(chip.tile, chip.tiles))
        if chip.network is not None and chip.network.routers is not None:
            rows.append(Component("chip.router", chip.network.routers.count, chip.network.routers))
        rows.extend(_named("chip", chip.buffers, 1))
        rows.extend(_named("chip", chip.units, 1))
    if target.dram is not None:
        near = target.dram.near_bank
        rows.append(Component("dram.near_bank", near.count, near))
    return rows


def peak_ops(target: Target, weight_bits: int, activation_bits: int) -> dict[str, float]:
    """Peak ops/s of each compute class at the given precision (crossbar MVMs, vector, bank)."""
    peaks: dict[str, float] = {}
    chip = target.chip
    if chip is not None:
        pe = chip.tile.pe
        arrays = chip.tiles * chip.tile.pes * pe.arrays
        per_row = weights_per_row(pe.array, weight_bits)
        columns = per_row * columns_per_weight(pe.array, weight_bits) + _extra_columns(pe)
        mvm = input_cycles(pe, activation_bits) * step_time(target, pe, columns)
        peaks["crossbar"] = 2 * arrays * pe.array.rows * per_row / mvm
        vector = [(v, n) for v, n in _vector_units(target) if v is not None]
        if vector:
            peaks["vector"] = sum(v.lanes * v.count * n * v.clock for v, n in vector)
    if target.dram is not None:
        near = target.dram.near_bank
        peaks["near_bank"] = 2 * near.count * near.lanes * near.clock
    return peaks


def _extra_columns(pe: PE) -> int:
    return 1 if pe.array.signed_weights == "offset_column" else 0


def _vector_units(target: Target) -> list[tuple[object, int]]:
    chip = target.chip
    return [(chip.tile.pe.vector_unit, chip.tiles * chip.tile.pes),
            (chip.tile.vector_unit, chip.tiles)]


def capacity(target: Target, weight_bits: int) -> dict[str, int]:
    """How many weights of ``weight_bits`` fit in the crossbars and in the DRAM banks."""
    fits: dict[str, int] = {}
    chip = target.chip
    if chip is not None:
        array = chip.tile.pe.array
        arrays = chip.tiles * chip.tile.pes * chip.tile.pe.arrays
        fits["crossbar"] = arrays * array.rows * weights_per_row(array, weight_bits)
    if target.dram is not None:
        fits["dram"] = target.dram.banks * math.floor(target.dram.bank_size / weight_bits)
    return fits


def rollup(target: Target) -> Rollup:
    """Area, peak power, leakage and peak throughput of the whole target."""
    area: dict[str, float] = {}
    power: dict[str, float] = {}
    leakage = target.leakage
    for row in components(target):
        area[row.name] = area.get(row.name, 0.0) + row.count * row.part.area
        power[row.name] = power.get(row.name, 0.0) + row.count * row.part.power
        leakage += row.count * row.part.leakage
    peaks = peak_ops(target, target.precision.weights, target.precision.activations)
    return Rollup(sum(area.values()), sum(power.values()) + target.leakage, leakage, peaks,
                  area, power)
