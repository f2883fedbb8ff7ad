"""Tile shapes on one target: rows per tile (array rows, or the rows an ADC resolves losslessly),
weights per tile row (array columns over the columns one weight takes), and the spans that
cover a matrix exactly once."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ir.errors import PimcError

__all__ = ["Geometry", "geometry", "lossless_rows", "spans"]

_SIGNED = {"differential_pair": "differential", "offset_column": "offset", "unsigned": "offset"}
# Columns an array reserves besides the weight columns (the offset column; unsigned cells
# store signed weights with an offset too).
_EXTRA = {"differential_pair": 0, "offset_column": 1, "unsigned": 1}
_NO_ADC_BITS = 32  # a digital array adds exactly: no conversion loss to model


@dataclass(frozen=True)
class Geometry:
    rows: int
    cols: int
    cell_bits: int
    dac_bits: int
    adc_bits: int
    signed: str


def lossless_rows(dac_bits: int, cell_bits: int, adc_bits: int) -> int:
    """Most rows whose full-scale column sum an ADC of `adc_bits` still resolves exactly."""
    return max(1, (2 ** adc_bits - 1) // ((2 ** dac_bits - 1) * (2 ** cell_bits - 1)))


def _rows(option: str, array_rows: int, lossless: int) -> int:
    if option == "full":
        return array_rows
    if option == "lossless":
        return min(array_rows, lossless)
    if not option.isdigit() or not 1 <= int(option) <= array_rows:
        raise PimcError(f"tile: rows={option} is not accepted; accepted: lossless, full, or "
                        f"1..{array_rows} (the array's rows)")
    return int(option)


def geometry(target, w_bits: int, rows: str = "lossless") -> Geometry:
    """The tile geometry for `w_bits`-bit weights on the target's crossbars."""
    from targets._geometry import columns_per_weight

    pe = target.chip.tile.pe
    array = pe.array
    dac = pe.dac.resolution if pe.dac is not None else 1
    adc = pe.adc.resolution if pe.adc is not None else _NO_ADC_BITS
    per_weight = columns_per_weight(array, w_bits)
    cols = (array.columns - _EXTRA[array.signed_weights]) // per_weight
    if cols < 1:
        raise PimcError(f"tile: a {w_bits}-bit weight takes {per_weight} columns but target "
                        f"{target.name}'s arrays have {array.columns}; use fewer weight bits")
    return Geometry(_rows(rows, array.rows, lossless_rows(dac, array.cell_bits, adc)), cols,
                    array.cell_bits, dac, adc, _SIGNED[array.signed_weights])


def spans(n: int, size: int) -> list[tuple[int, int]]:
    """[start, end) pieces of at most `size` that cover 0..n exactly once, in order."""
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def tile_count(shape: tuple[int, int], geo: Geometry) -> int:
    return math.ceil(shape[0] / geo.rows) * math.ceil(shape[1] / geo.cols)
