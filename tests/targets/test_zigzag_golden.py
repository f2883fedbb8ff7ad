"""Golden numbers for the ZigZag side-by-side (bench/zigzag_compare.py); no ZigZag needed here.

ZIGZAG rows were produced by zigzag-dse==3.9.1 (get_hardware_performance_zigzag, in_memory_compute
=True, its own inputs/hardware/aimc.yaml or dimc.yaml and inputs/mapping/default_imc.yaml) on the
13-512-256-1 Gemm+ReLU MLP: latency_total2 in cycles and energy_total in pJ per layer. OURS are
pimc's CostModel on the zigzag-aimc / zigzag-dimc presets with bench/zigzag_lowering.py, each
layer timed tile by tile as the scheduler times it (`layer_cycles`: on these presets a tile's
weight load overlaps the previous tile's MVM, as in ZigZag's latency model).
At batch 1 both are dominated by streaming the weights from DRAM and agree within 10 % per layer
in latency and energy and 5 % per network. At batch 128 they differ by modelling choices that are pinned here:
ZigZag's mapper unrolls only 64 of 128 output columns per pass (its 512-bit SRAM port / 8-bit
outputs) and so re-reads the 64 KiB fc1 input from DRAM 4 times (we read it twice), charges more
SRAM accesses, and overlaps compute with the activations' DRAM transfers (we read them before the MVMs).
"""

import dataclasses

import pytest
from zigzag_lowering import MLP, layer_cycles, lower_mlp

from targets import CostModel, load_target

ZIGZAG = {  # (latency cycles, energy pJ) per layer fc0, fc1, fc2
    ("aimc", 1): [(837, 599246.56154944), (16389, 11524981.56761088), (37, 24530.27230624)],
    ("aimc", 128): [(9527, 9408550.95724032), (52228, 47916851.15019264),
                    (4455, 3458466.2791987197)],
    ("dimc", 1): [(841, 593180.513488), (16393, 11533594.180608), (41, 24758.072248)],
    ("dimc", 128): [(10027, 8205144.887808), (52228, 49019265.613824),
                    (4683, 3487624.6717439997)],
}
OURS = {
    ("aimc", 1): [(833, 603134.15085344), (16381, 11530948.06642688), (35, 26838.36930624)],
    ("aimc", 128): [(10659, 9397082.02924032), (37369, 32383168.82264064),
                    (5153, 3368097.19119872)],
    ("dimc", 1): [(837, 592404.6904399998), (16385, 11538703.37024), (39, 27066.169248)],
    ("dimc", 128): [(12707, 8023711.0963200005), (37881, 33375847.71072),
                    (6177, 3397255.5837439997)],
}


def _ours(hardware, batch, **change):
    target = dataclasses.replace(load_target(f"zigzag-{hardware}"), **change)
    model = CostModel(target)
    reports = [model.evaluate(ops) for _, ops in lower_mlp(target, batch)]
    return [(layer_cycles(target, c, k, batch), r.total_energy * 1e12)
            for r, c, k in zip(reports, MLP[:-1], MLP[1:])]


@pytest.mark.parametrize("key", sorted(OURS))
def test_golden(key):
    got = _ours(*key)
    for (cycles, energy), (want_cycles, want_energy) in zip(got, OURS[key]):
        assert cycles == pytest.approx(want_cycles, rel=1e-9)
        assert energy == pytest.approx(want_energy, rel=1e-9)


@pytest.mark.parametrize("hardware", ["aimc", "dimc"])
def test_batch_1_agrees_with_zigzag(hardware):
    got, ref = _ours(hardware, 1), ZIGZAG[(hardware, 1)]
    for (cycles, energy), (ref_cycles, ref_energy) in zip(got, ref):
        assert cycles == pytest.approx(ref_cycles, rel=0.10)
        assert energy == pytest.approx(ref_energy, rel=0.10)
    assert sum(c for c, _ in got) == pytest.approx(sum(c for c, _ in ref), rel=0.05)
    assert sum(e for _, e in got) == pytest.approx(sum(e for _, e in ref), rel=0.05)


@pytest.mark.parametrize("hardware", ["aimc", "dimc"])
def test_batch_128_fc1_dram_term_differs_by_the_input_rereads(hardware):
    # ZigZag fc1 DRAM energy (mem_energy_breakdown, last level): W 11468800 + I 22937600 (the
    # 128 x 512 B input read 4 times at 87.5 pJ/B) + O 3072000 = 37478400 pJ. Ours reads the input
    # twice (two 128-wide column tiles), so our DRAM term is exactly two reads less.
    target = load_target(f"zigzag-{hardware}")
    ops = lower_mlp(target, 128)[1][1]
    ours = CostModel(target).evaluate(ops).energy["dram"] * 1e12
    assert ours == pytest.approx(37478400 - 2 * 128 * 512 * 87.5)


def test_unstaged_loads_add_up_and_miss_zigzag():
    # Near miss: without weight staging a layer's loads and MVMs alternate on the macro (the
    # sum of the ops), and fc2 (two 128 B tiles, 16 cycles each to load, 8 to compute) takes
    # 48 cycles against ZigZag's 41; staged, the second load overlaps the first MVM: 39.
    staged, unstaged = _ours("dimc", 1), _ours("dimc", 1, weight_staging=False)
    assert [c for c, _ in unstaged] == [864, 16448, 48]
    assert unstaged[2][0] > 1.10 * ZIGZAG[("dimc", 1)][2][0] > staged[2][0]
    assert [e for _, e in unstaged] == [e for _, e in staged]  # time moves, energy does not
