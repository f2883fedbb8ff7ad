"""Roll-up fidelity: chip totals computed from components against published totals."""

import pytest

from targets import capacity, load_target, rollup


def test_isaac_area_and_power_match_table_i():
    # ISAAC (ISCA'16) Table I, corrected 2016 version, via [ISAAC-tx] (mimarsinan@5c65ecb):
    # chip total 85.4 mm2 and 65.8 W, including HyperTransport.
    roll = rollup(load_target("isaac"))
    assert roll.area == pytest.approx(85.4, rel=0.02)
    assert roll.power == pytest.approx(65.8, rel=0.02)


def test_isaac_peak_throughput_matches_table_iv():
    # [ISAAC-tx] §1.7: 478.95 GOPS/s/mm2 x 85.4 mm2 = 40.9 TOPS (16-bit, 2 ops per MAC).
    roll = rollup(load_target("isaac"))
    assert roll.peak_ops["crossbar"] == pytest.approx(40.9e12, rel=0.02)


def test_puma_peak_efficiency_matches_abstract():
    # PUMA (ASPLOS'19) abstract: 577 GOPS/s/mm2 and 837 GOPS/s/W at 1 GHz; components from the
    # authors' simulator (puma-simulator include/constants.py), see presets/puma.yaml.
    roll = rollup(load_target("puma"))
    gops = roll.peak_ops["crossbar"] / 1e9
    assert gops / roll.area == pytest.approx(577, rel=0.10)
    assert gops / roll.power == pytest.approx(837, rel=0.10)


@pytest.mark.parametrize("name, area, tops", [
    # zigzag-dse 3.9.1 ImcArray on aimc.yaml / dimc.yaml (hardware-numbers.md §3.3):
    # 2.288 mm2, 0.58 TOPS (analog); 0.802 mm2, 1.09 TOPS (digital).
    ("zigzag-aimc", 2.2878123152749223, 0.58),
    ("zigzag-dimc", 0.8018113023999999, 1.09),
])
def test_zigzag_macro_area_and_peak(name, area, tops):
    roll = rollup(load_target(name))
    assert roll.area == pytest.approx(area, rel=1e-6)
    assert roll.peak_ops["crossbar"] == pytest.approx(tops * 1e12, rel=0.01)


@pytest.mark.parametrize("name, flops", [
    ("hbm-pim", 1.2e12),  # ISSCC 2021 25.4 title: 1.2 TFLOPS per cube
    ("aim", 1.0e12),  # ISSCC 2022 / JSSC 2023 title: 1 TFLOPS per chip
])
def test_dram_pim_peak_matches_title(name, flops):
    assert rollup(load_target(name)).peak_ops["near_bank"] == pytest.approx(flops, rel=0.03)


def test_isaac_capacity_16_bit():
    # 16128 crossbars x 128 rows x (128 columns / 8 two-bit cells) = 33,030,144 weights.
    assert capacity(load_target("isaac"), 16) == {"crossbar": 33_030_144}
    assert capacity(load_target("isaac"), 4)["crossbar"] == 4 * 33_030_144


def test_hetero_has_both_compute_classes():
    roll = rollup(load_target("hetero"))
    assert set(roll.peak_ops) == {"crossbar", "near_bank"}
    # hetero is ISAAC's chip without the VFU isaac.yaml assumes (0.00403 mm2 x 168 tiles).
    assert roll.area == pytest.approx(rollup(load_target("isaac")).area - 168 * 0.00403)
