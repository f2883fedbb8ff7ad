"""A small parser for quantities written with explicit units (``2.0 pJ``, ``64 KiB``).

Every dimensioned value in a target YAML is a string ``"<number> <unit>"``. It is converted to
one canonical unit per dimension (listed in ``CANONICAL``) so the cost model never sees a unit.
"""

from __future__ import annotations

import re

__all__ = ["CANONICAL", "UNITS", "UnitError", "parse_quantity"]

_SIZE = {
    "bit": 1, "Kibit": 2**10, "Mibit": 2**20, "Gibit": 2**30,
    "B": 8, "KiB": 8 * 2**10, "MiB": 8 * 2**20, "GiB": 8 * 2**30,
    "KB": 8e3, "MB": 8e6, "GB": 8e9, "Gb": 1e9, "Mb": 1e6, "Kb": 1e3,
}

# dimension -> {unit: factor to the canonical unit}
UNITS: dict[str, dict[str, float]] = {
    "energy": {"fJ": 1e-15, "pJ": 1e-12, "nJ": 1e-9, "uJ": 1e-6, "mJ": 1e-3, "J": 1.0},
    "energy_per_bit": {
        "fJ/bit": 1e-15, "pJ/bit": 1e-12, "nJ/bit": 1e-9, "pJ/B": 1e-12 / 8, "nJ/B": 1e-9 / 8,
    },
    "power": {"nW": 1e-9, "uW": 1e-6, "mW": 1e-3, "W": 1.0},
    "area": {"um2": 1e-6, "mm2": 1.0},
    "size": _SIZE,
    "frequency": {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9},
    "rate": {"S/s": 1.0, "kS/s": 1e3, "MS/s": 1e6, "GS/s": 1e9},
    "time": {"ps": 1e-12, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0},
    "bandwidth": {
        "bit/s": 1.0, "Gbit/s": 1e9, "B/s": 8.0, "KB/s": 8e3, "MB/s": 8e6, "GB/s": 8e9,
        "TB/s": 8e12,
    },
    "voltage": {"mV": 1e-3, "V": 1.0},
    "length": {"nm": 1e-9, "um": 1e-6},
}

CANONICAL = {
    "energy": "J", "energy_per_bit": "J/bit", "power": "W", "area": "mm2", "size": "bit",
    "frequency": "Hz", "rate": "S/s", "time": "s", "bandwidth": "bit/s", "voltage": "V",
    "length": "m",
}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/0-9]+)\s*$")


class UnitError(ValueError):
    """A quantity string could not be read; the message lists the accepted units."""


def parse_quantity(text: object, dimension: str) -> float:
    """Read ``"<number> <unit>"`` for ``dimension`` and return it in the canonical unit."""
    table = UNITS[dimension]
    accepted = ", ".join(table)
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UnitError(f"expected a {dimension} such as '1.0 {next(iter(table))}', "
                        f"got {type(text).__name__}; accepted units: {accepted}")
    if not isinstance(text, str):
        raise UnitError(f"missing unit on {text!r}; accepted units: {accepted}")
    match = _QUANTITY.match(text)
    if match is None:
        raise UnitError(f"cannot read {text!r} as '<number> <unit>'; accepted units: {accepted}")
    number, unit = match.groups()
    if unit not in table:
        raise UnitError(f"unknown unit {unit!r} for a {dimension}; accepted units: {accepted}")
    return float(number) * table[unit]
