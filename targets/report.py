"""Per-op costs and the network report they add up to; both serialise to JSON.

Energies are in joules keyed by component (``adc``, ``dac``, ``array``, ``shift_add``,
``buffer.<name>``, ``vector``, ``bank``, ``network``, ``dram``, ``array_write``, ``leakage``);
latency is in target clock cycles and in seconds. Ops run one after another in the report's
totals; overlapping them is the scheduler's business.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

__all__ = ["OpCost", "Report"]


@dataclass(frozen=True)
class OpCost:
    """The cost of one primitive."""

    op: str
    cycles: float
    seconds: float
    energy: dict[str, float]
    counts: dict[str, float] = field(default_factory=dict)

    @property
    def total_energy(self) -> float:
        return sum(self.energy.values())


@dataclass(frozen=True)
class Report:
    """A network's costs: per-op rows, totals, leakage over the run, and the chip roll-up."""

    target: str
    ops: tuple[OpCost, ...]
    cycles: float
    seconds: float
    energy: dict[str, float]
    area: float
    peak_power: float

    @property
    def total_energy(self) -> float:
        return sum(self.energy.values())

    def to_dict(self) -> dict:
        data = asdict(self)
        data["total_energy"] = self.total_energy
        data["units"] = {"energy": "J", "seconds": "s", "area": "mm2", "peak_power": "W"}
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)
