"""Pure arithmetic on crossbar shapes: bit slicing, tiling, input cycles, the time of one step."""

from __future__ import annotations

import math

from targets.errors import TargetError
from targets.hardware import PE, Array, Target

__all__ = ["columns_per_weight", "input_cycles", "step_time", "tiles", "weights_per_row"]


def columns_per_weight(array: Array, weight_bits: int) -> int:
    """Columns one weight occupies: ceil(w / cell_bits), doubled for a differential pair."""
    columns = math.ceil(weight_bits / array.cell_bits)
    return 2 * columns if array.signed_weights == "differential_pair" else columns


def weights_per_row(array: Array, weight_bits: int) -> int:
    """How many weights of ``weight_bits`` fit side by side in one row of the array."""
    return array.columns // columns_per_weight(array, weight_bits)


def tiles(array: Array, rows: int, cols: int, weight_bits: int) -> tuple[int, int]:
    """(row tiles, column tiles) needed to hold a ``rows`` x ``cols`` weight matrix."""
    per_row = weights_per_row(array, weight_bits)
    if per_row == 0:
        need = columns_per_weight(array, weight_bits)
        raise TargetError(f"a {weight_bits}-bit weight needs {need} columns but the array has "
                          f"{array.columns}; use fewer weight bits")
    return math.ceil(rows / array.rows), math.ceil(cols / per_row)


def input_cycles(pe: PE, activation_bits: int) -> int:
    """Bit-serial input: ceil(a / dac_bits) array cycles (1 bit per cycle without a DAC)."""
    dac_bits = pe.dac.resolution if pe.dac is not None else 1
    return math.ceil(activation_bits / dac_bits)


def step_time(target: Target, pe: PE, active_columns: int) -> float:
    """Seconds for one input cycle: array read, ADC conversions of the columns, or one clock."""
    clock_period = 1.0 / target.clock
    read = max(pe.array.read_latency, clock_period)
    if pe.adc is None:
        return read
    per_adc = math.ceil(active_columns / pe.adc.per_array)
    return max(read, per_adc / pe.adc.rate)
