"""ADC energy per conversion as a function of resolution, by the scaling law the preset names."""

from __future__ import annotations

from targets.hardware import Adc

__all__ = ["adc_energy"]


def _capacitive(adc: Adc, bits: int) -> float:
    return adc.linear_cap * bits + adc.exponential_cap * 4.0**bits


def adc_energy(adc: Adc, bits: int | None = None) -> float:
    """Joules per conversion at ``bits`` (default: the ADC's own resolution).

    ``linear``: E·b/b0 (PUMA simulator, ISAAC's Saberi-scaled SAR up to 8 b);
    ``exponential``: E·2^(b-b0) (constant Walden figure of merit);
    ``capacitive``: E·(C1·b + C2·4^b)/(C1·b0 + C2·4^b0) (ZigZag 3.9.1 ``get_adc_cost``).
    """
    bits = adc.resolution if bits is None else bits
    if adc.scaling == "linear":
        return adc.energy * bits / adc.resolution
    if adc.scaling == "exponential":
        return adc.energy * 2.0 ** (bits - adc.resolution)
    return adc.energy * _capacitive(adc, bits) / _capacitive(adc, adc.resolution)
