"""The cost model's named steps, checked against hand arithmetic on the presets."""

import json

import pytest

from targets import (
    BankGather,
    CostModel,
    CrossbarMVM,
    DramAccess,
    TargetError,
    Transfer,
    VectorOp,
    WeightLoad,
    load_target,
    rollup,
)


def test_isaac_one_conversion_per_16_bit_mac():
    # [ISAAC-tx] §4: 8 cells x 16 input bits / 128 rows = 1 conversion per 16-bit MAC (x129/128
    # with the unit column). A full 128 x 16 tile, one vector:
    cost = CostModel(load_target("isaac")).cost(CrossbarMVM(128, 16, 16, 16))
    assert cost.counts["conversions"] == 16 * 129
    assert cost.energy["adc"] == pytest.approx(16 * 129 * 1.5625e-12)
    # 16 input cycles of one 100.78 ns step (129 columns through one ADC at 1.28 GS/s)
    assert cost.seconds == pytest.approx(16 * 129 / 1.28e9)


def test_tiling_and_replicas_on_isaac():
    model = CostModel(load_target("isaac"))
    one = model.cost(CrossbarMVM(512, 256, 16, 16, vectors=8))
    assert one.counts["tiles"] == 4 * 16
    four = model.cost(CrossbarMVM(512, 256, 16, 16, vectors=8, replicas=4))
    assert four.seconds == pytest.approx(one.seconds / 4)
    assert four.energy == pytest.approx(one.energy)


def test_zigzag_aimc_adc_energy_equals_zigzag_term():
    # zigzag-dse 3.9.1, aimc.yaml, fc0 (13 x 512) at batch 128: mac_energy_breakdown['adcs'] =
    # 1470280.05 pJ (bench/zigzag_compare.py run); same conversion count and energy here.
    cost = CostModel(load_target("zigzag-aimc")).cost(CrossbarMVM(13, 512, 8, 8, vectors=128))
    assert cost.energy["adc"] * 1e12 == pytest.approx(1470280.05, rel=1e-6)


def test_weight_load_streams_from_dram():
    # aimc.yaml: 700 pJ per 64-bit DRAM read, 0.095 pJ per 8-bit cell write, 64 bit per cycle.
    cost = CostModel(load_target("zigzag-aimc")).cost(WeightLoad(512 * 256))
    assert cost.energy["dram"] * 1e12 == pytest.approx(11468800)
    assert cost.energy["array_write"] * 1e12 == pytest.approx(12451.84)
    assert cost.cycles == pytest.approx(512 * 256 / 8)


def test_bank_gather_on_hbm_pim():
    model = CostModel(load_target("hbm-pim"))
    cost = model.cost(BankGather(lookups=1280, dim=64, bits=16, pooling=10))
    assert cost.energy["bank"] == pytest.approx(1280 * 64 * 16 * 0.55e-12)
    assert cost.energy["near_bank"] == pytest.approx((1280 - 128) * 64 * 0.499e-12)
    # 128 units, 10 lookups each: one 47 ns activation + four 4 ns column reads per 1 Kibit row
    assert cost.seconds == pytest.approx(10 * (47e-9 + 4 * 4e-9))


def test_transfer_vector_and_report_json():
    model = CostModel(load_target("puma"))
    report = model.evaluate([Transfer(bytes=32, hops=3), VectorOp("relu", 128, 16),
                             DramAccess(read_bytes=64)])
    data = json.loads(report.to_json())
    assert data["energy"]["network"] == pytest.approx(256 * 3 * 0.504e-12)
    assert data["energy"]["vector"] == pytest.approx(128 * 1.707e-12)
    leakage_power = rollup(load_target("puma")).leakage  # sum of the PUMAsim leak powers
    assert 1.0 < leakage_power < 10.0  # watts over the whole node
    assert data["energy"]["leakage"] == pytest.approx(report.seconds * leakage_power)
    assert len(data["ops"]) == 3 and data["units"]["energy"] == "J"
    assert data["total_energy"] == pytest.approx(report.total_energy)


def test_primitive_on_a_target_without_the_unit():
    with pytest.raises(TargetError, match="has no DRAM banks"):
        CostModel(load_target("isaac")).cost(BankGather(1, 8, 16))
    with pytest.raises(TargetError, match="has no vector unit"):
        CostModel(load_target("zigzag-aimc")).cost(VectorOp("add", 8, 16))
    with pytest.raises(TargetError, match="has no chip"):
        CostModel(load_target("aim")).cost(CrossbarMVM(8, 8, 8, 8))


def test_bad_primitives():
    with pytest.raises(ValueError, match="must be positive"):
        CrossbarMVM(0, 8, 8, 8)
    with pytest.raises(ValueError, match="accepted: add"):
        VectorOp("gelu", 8, 16)
