"""Property tests: cost is monotone where physics says so; capacity never over-counts."""

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from targets import (
    BankGather,
    CostModel,
    CrossbarMVM,
    DramAccess,
    Transfer,
    VectorOp,
    WeightLoad,
    capacity,
    load_target,
)
from targets._adc import adc_energy
from targets._geometry import columns_per_weight
from targets.coster import OpCoster
from targets.errors import TargetError

PRESETS = ("isaac", "puma", "zigzag-aimc", "zigzag-dimc", "hetero")
presets = st.sampled_from(PRESETS)
shapes = st.tuples(st.integers(1, 700), st.integers(1, 700), st.sampled_from((4, 8, 16)),
                   st.sampled_from((1, 4, 8, 16)), st.integers(1, 300))


def _with_adc_bits(target, bits):
    pe = target.chip.tile.pe
    adc = dataclasses.replace(pe.adc, resolution=bits, energy=adc_energy(pe.adc, bits))
    tile = dataclasses.replace(target.chip.tile, pe=dataclasses.replace(pe, adc=adc))
    return dataclasses.replace(target, chip=dataclasses.replace(target.chip, tile=tile))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(("isaac", "puma", "zigzag-aimc")), st.integers(1, 12), shapes)
def test_more_adc_bits_never_cheaper(name, bits, shape):
    target = load_target(name)
    op = CrossbarMVM(*shape)
    low = CostModel(_with_adc_bits(target, bits)).cost(op).energy["adc"]
    high = CostModel(_with_adc_bits(target, bits + 1)).cost(op).energy["adc"]
    assert high >= low


@settings(max_examples=60, deadline=None)
@given(presets, shapes, st.integers(1, 64))
def test_more_replicas_never_slower(name, shape, replicas):
    model = CostModel(load_target(name))
    fewer = model.cost(CrossbarMVM(*shape, replicas=replicas)).seconds
    more = model.cost(CrossbarMVM(*shape, replicas=replicas + 1)).seconds
    assert more <= fewer


@given(presets, st.integers(1, 31))
def test_more_weight_bits_never_fewer_columns(name, bits):
    array = load_target(name).chip.tile.pe.array
    assert columns_per_weight(array, bits + 1) >= columns_per_weight(array, bits)


@given(presets, st.integers(1, 32))
def test_capacity_never_over_counts(name, bits):
    target = load_target(name)
    chip, array = target.chip, target.chip.tile.pe.array
    cells = chip.tiles * chip.tile.pes * chip.tile.pe.arrays * array.rows * array.columns
    fits = capacity(target, bits).get("crossbar", 0)
    assert fits * columns_per_weight(array, bits) <= cells
    assert capacity(target, bits + 1).get("crossbar", 0) <= fits


@settings(max_examples=40, deadline=None)
@given(presets, shapes)
def test_more_vectors_never_cheaper_or_faster(name, shape):
    model = CostModel(load_target(name))
    base = model.cost(CrossbarMVM(*shape))
    bigger = model.cost(CrossbarMVM(*shape[:4], shape[4] + 1))
    assert bigger.total_energy >= base.total_energy and bigger.seconds >= base.seconds


def _primitives(shape, n):
    rows, cols, wbits, abits, vectors = shape
    return [CrossbarMVM(rows, cols, wbits, abits, vectors, replicas=n),
            CrossbarMVM(rows, cols, wbits, abits, vectors, replicas=n,
                        crossbar_cols=max(1, cols // 2)),
            VectorOp("add", rows * n, abits), Transfer(rows * cols, n % 5),
            BankGather(n, cols, abits, 1 + n % 3), WeightLoad(rows * cols),
            DramAccess(rows, cols)]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PRESETS + ("hbm-pim", "aim")), shapes, st.integers(1, 40))
def test_timing_alone_is_the_full_pricings_time(name, shape, n):
    """`CostModel.seconds` (the steps of TIMING) gives `cost().seconds` bit for bit, and an
    OpCoster's replica-count cycles (timed so) are the fully priced ones, for every
    primitive a preset can price."""
    model, coster = CostModel(load_target(name)), OpCoster(load_target(name))
    for prim in _primitives(shape, n):
        try:
            want = model.cost(prim).seconds
        except TargetError:  # a primitive this target has no unit for
            continue
        assert model.seconds(prim) == want
    if load_target(name).chip is None:
        return  # no crossbars to copy
    mvm = (CrossbarMVM(*shape),)
    counts = tuple(sorted({1, n, 2 * n}))
    assert coster.cycles_replicated(mvm, counts) == tuple(
        OpCoster(load_target(name)).cycles((dataclasses.replace(mvm[0], replicas=r),))
        for r in counts)


def test_a_step_that_adds_latency_outside_timing_is_caught():
    """The near miss of the test above: a variant whose ADC step adds latency, without
    listing it in TIMING, times a crossbar MVM short, and the comparison sees it."""
    class SlowAdc(CostModel):
        def mvm_adc(self, op, acc):
            super().mvm_adc(op, acc)
            acc.seconds += 1e-9

    model = SlowAdc(load_target("isaac"))
    prim = CrossbarMVM(64, 64, 8, 8, 4)
    assert model.seconds(prim) < model.cost(prim).seconds
    model.TIMING = {CrossbarMVM: (*CostModel.TIMING[CrossbarMVM], "mvm_adc")}
    assert model.seconds(prim) == model.cost(prim).seconds
