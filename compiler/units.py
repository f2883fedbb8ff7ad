"""Numbers for people: SI prefixes (µs, µJ, mm² stay as given), binary ones for bytes."""

from __future__ import annotations

__all__ = ["human", "percent"]

_SI = ((1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M"),
       (1e9, "G"), (1e12, "T"))
_BINARY = ((1, ""), (1 << 10, "Ki"), (1 << 20, "Mi"), (1 << 30, "Gi"), (1 << 40, "Ti"))


def human(x: float, unit: str, base: int = 1000) -> str:
    """`x` with the prefix that leaves 1 to 999 before it: 2.1e-5 s -> '21 µs'; with
    base 1024 (bytes): 1780608 B -> '1.698 MiB'."""
    x = float(x)
    if base == 1024:
        scale, prefix = next(((s, p) for s, p in reversed(_BINARY) if abs(x) >= s), (1, ""))
        return f"{x / scale:.4g} {prefix}{unit}"
    if x == 0:
        return f"0 {unit}"
    scale, prefix = next(((s, p) for s, p in reversed(_SI) if abs(x) >= s), _SI[0])
    return f"{x / scale:.4g} {prefix}{unit}"


def percent(part: float, whole: float) -> str:
    """'12.3%' of the whole, or 'n/a' when the whole is zero."""
    return f"{100 * part / whole:.3g}%" if whole else "n/a"
