"""bench/growth_sweep.py's scaled chip (`--chip-scale`, `--huge`): K times the preset's chip
tiles on a mesh grown to hold them, every per-unit figure the preset's own, so the sweep can go
past what one chip holds (10^5 tiles) without inventing hardware."""

import sys
from pathlib import Path

import pytest

from targets import load_target
from targets.rollup import capacity

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from growth_sweep import scaled_chip  # noqa: E402


@pytest.mark.parametrize("name,factor,dims", [("isaac", 8, (14, 24)), ("isaac", 3, (7, 18)),
                                              ("puma", 2, (7, 10)), ("hetero", 4, (14, 12))])
def test_a_scaled_chip_has_k_times_the_tiles_on_a_mesh_that_holds_them(tmp_path, name, factor,
                                                                        dims):
    base = load_target(name)
    scaled = load_target(scaled_chip(name, factor, tmp_path))
    assert scaled.name == f"{name}-x{factor}"
    assert scaled.chip.tiles == factor * base.chip.tiles
    assert capacity(scaled, 8)["crossbar"] == factor * capacity(base, 8)["crossbar"]
    net, was = scaled.chip.network, base.chip.network
    assert tuple(net.dims) == dims  # the squarest mesh of factor x the routers
    assert net.routers.count == factor * was.routers.count
    # the parts are the preset's: the tile, the links, the clock
    assert scaled.chip.tile == base.chip.tile
    assert (net.link_bandwidth, net.hop_latency) == (was.link_bandwidth, was.hop_latency)
    assert scaled.clock == base.clock


def test_near_miss_factor_one_is_the_preset_itself(tmp_path):
    assert scaled_chip("isaac", 1, tmp_path) == "isaac"
    assert not list(tmp_path.iterdir())
