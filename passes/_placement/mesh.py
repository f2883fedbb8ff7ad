"""Where things are on the target: crossbar ids, chip tiles on the mesh, banks.

Crossbar ``c`` lies in chip tile ``c // per_tile``. Chip tiles share routers (a concentrated
mesh puts ``ceil(tiles / routers)`` tiles on one router); routers sit on the ``dims`` grid row by
row. The snake path visits the routers row by row, alternating direction, so consecutive
routers on it are one hop apart; ``position`` p (0 .. crossbars-1) is the p-th crossbar along
it. A transfer between two chip tiles crosses the Manhattan distance between their routers
plus one (the hop through the first router); the DRAM stack's port (``PORT``) sits at the
router where the snake starts.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from targets.hardware import Target

__all__ = ["PORT", "Mesh"]

PORT = -1


@dataclass(frozen=True)
class Mesh:
    crossbars: int
    crossbars_per_chip_tile: int
    chip_tiles: int
    concentration: int
    coords: tuple[tuple[int, int], ...]  # router (x, y) of every chip tile
    order: tuple[int, ...]  # chip tiles along the snake
    banks: int
    bank_bytes: int
    banks_per_unit: int
    # chip tile (or PORT) -> hops to PORT and to every chip tile; routes by (src, dst): filled
    # as asked, since a layout's moves ask for the same few pairs thousands of times
    _hop_rows: dict[int, tuple[int, ...]] = field(default_factory=dict, compare=False,
                                                  repr=False)
    _routes: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=dict,
                                                            compare=False, repr=False)

    @classmethod
    def of(cls, target: Target) -> Mesh:
        """The target's mesh (one per target: it is a value, and its tables fill once)."""
        return _mesh_of(cls, target)

    @classmethod
    def _build(cls, target: Target) -> Mesh:
        chip, dram = target.chip, target.dram
        banks = dram.banks if dram is not None else 0
        bank_bytes = int(dram.bank_size // 8) if dram is not None else 0
        per_unit = dram.near_bank.banks_per_unit if dram is not None else 1
        if chip is None:
            return cls(0, 1, 0, 1, (), (), banks, bank_bytes, per_unit)
        per_tile = chip.tile.pes * chip.tile.pe.arrays
        dims = tuple(chip.network.dims) if chip.network is not None else (chip.tiles, 1)
        dx, dy = dims[0], (dims[1] if len(dims) > 1 else 1)
        conc = max(1, math.ceil(chip.tiles / (dx * dy)))
        coords = tuple(((t // conc) % dx, (t // conc) // dx) for t in range(chip.tiles))
        order = tuple(sorted(range(chip.tiles), key=lambda t: _snake_key(coords[t], t)))
        return cls(chip.tiles * per_tile, per_tile, chip.tiles, conc, coords, order, banks,
                   bank_bytes, per_unit)

    def chip_tile_of(self, crossbar: int) -> int:
        return crossbar // self.crossbars_per_chip_tile

    def crossbar_at(self, position: int) -> int:
        """The crossbar at snake position `position` (wrapping, for streamed targets)."""
        position %= self.crossbars
        per_tile = self.crossbars_per_chip_tile
        return self.order[position // per_tile] * per_tile + position % per_tile

    def crossbars_at(self, positions: np.ndarray) -> np.ndarray:
        """`crossbar_at` of every snake position of `positions` (an int array)."""
        positions = positions % self.crossbars
        per_tile = self.crossbars_per_chip_tile
        order = self._order_array
        return order[positions // per_tile] * per_tile + positions % per_tile

    @functools.cached_property
    def _order_array(self) -> np.ndarray:
        """`order` in numpy, made once."""
        return np.asarray(self.order, np.int64)

    def hops(self, a: int, b: int) -> int:
        """Hops from chip tile `a` to chip tile `b` (either may be PORT)."""
        if not self.chip_tiles:
            return 0
        row = self._hop_rows.get(a)
        if row is None:
            row = self._hop_rows[a] = tuple(self._hops(a, x) for x in range(PORT,
                                                                           self.chip_tiles))
        return row[b - PORT]

    def hops_from(self, a: int) -> tuple[int, ...]:
        """Hops from chip tile `a` to every chip tile `b` (either may be PORT), at `b - PORT`."""
        self.hops(a, a)
        return self._hop_rows.get(a, ())

    def _hops(self, a: int, b: int) -> int:
        if a == b:
            return 0
        (ax, ay), (bx, by) = self._router(a), self._router(b)
        return abs(ax - bx) + abs(ay - by) + 1

    def route(self, a: int, b: int) -> tuple[str, ...]:
        """The directed router links (``link:x,y>x',y'``) an XY-routed transfer from chip tile
        `a` to `b` crosses, x first (either may be PORT); none between tiles of one router."""
        if a == b or not self.chip_tiles:
            return ()
        got = self._routes.get((a, b))
        if got is None:
            got = self._routes[(a, b)] = self._route(a, b)
        return got

    def _route(self, a: int, b: int) -> tuple[str, ...]:
        (x, y), (bx, by) = self._router(a), self._router(b)
        links = []
        while x != bx:
            nx = x + (1 if bx > x else -1)
            links.append(f"link:{x},{y}>{nx},{y}")
            x = nx
        while y != by:
            ny = y + (1 if by > y else -1)
            links.append(f"link:{x},{y}>{x},{ny}")
            y = ny
        return tuple(links)

    def _router(self, tile: int) -> tuple[int, int]:
        return self.coords[self.order[0] if tile == PORT else tile]

    def port_chip_tile(self) -> int:
        """The chip tile nearest the DRAM port (where bank results enter the chip)."""
        return self.order[0] if self.chip_tiles else 0


def _snake_key(coord: tuple[int, int], tile: int) -> tuple[int, int, int]:
    x, y = coord
    return (y, x if y % 2 == 0 else -x, tile)


@functools.lru_cache(maxsize=8)
def _mesh_of(cls: type[Mesh], target: Target) -> Mesh:
    return cls._build(target)
