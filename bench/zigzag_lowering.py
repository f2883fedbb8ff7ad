"""The stand-in lowering used by the ZigZag comparison: a Gemm layer on a streamed macro.

Each layer of the MLP becomes: its weights streamed from DRAM (``WeightLoad``), its activations
moved to/from DRAM when the layer's input and output together do not fit the macro's SRAM
(``DramAccess``; the input is re-read once per column tile when it alone does not fit), and the
MVM itself (``CrossbarMVM``). This mirrors ZigZag's inter-layer data-locality stage, which keeps
a layer's activations in the lowest memory that holds them.

``layer_cycles`` times a layer as pimc's scheduler times a streamed layer (tile by tile: a load
over the DRAM port, then the MVM; on a target with ``weight_staging`` the next tile's load
overlaps the current tile's MVM and only its one-cycle commit waits for the array, see
``passes/_placement/timeline.py``), after the activations' DRAM traffic. ZigZag's latency model
overlaps the same two things (its memory-updating window), which is what the preset follows.
"""

from __future__ import annotations

from passes._costing.op_primitives import offchip_span
from targets import CostModel, CrossbarMVM, DramAccess, WeightLoad
from targets._geometry import tiles, weights_per_row
from targets.hardware import Target

MLP = (13, 512, 256, 1)


def _sram_bits(target: Target) -> float:
    buffers = target.chip.tile.pe.buffers
    return max(b.size for b in buffers if "inputs" in b.holds and "outputs" in b.holds)


def lower_gemm(target: Target, c: int, k: int, batch: int) -> list:
    w, a = target.precision.weights, target.precision.activations
    in_bits, out_bits = batch * c * a, batch * k * a
    ops: list = [WeightLoad(c * k * w // 8)]
    sram = _sram_bits(target)
    if in_bits + out_bits > sram:
        col_tiles = tiles(target.chip.tile.pe.array, c, k, w)[1]
        reads = in_bits * (col_tiles if in_bits > sram else 1)
        ops.append(DramAccess(read_bytes=reads // 8, write_bytes=out_bits // 8))
    ops.append(CrossbarMVM(c, k, w, a, vectors=batch))
    return ops


def lower_mlp(target: Target, batch: int) -> list[tuple[str, list]]:
    return [(f"fc{i}", lower_gemm(target, c, k, batch))
            for i, (c, k) in enumerate(zip(MLP[:-1], MLP[1:]))]


def _blocks(n: int, size: int) -> list[int]:
    return [min(size, n - i) for i in range(0, n, size)]


def layer_cycles(target: Target, c: int, k: int, batch: int) -> float:
    """Cycles of one Gemm layer, loads and MVMs tile by tile (row tiles outer, as `tile` emits)."""
    model = CostModel(target)
    array = target.chip.tile.pe.array
    w, a = target.precision.weights, target.precision.activations
    ops = lower_gemm(target, c, k, batch)
    t = sum(model.cost(op).cycles for op in ops if isinstance(op, DramAccess))
    io_free = array_free = t
    for rows in _blocks(c, array.rows):
        for cols in _blocks(k, weights_per_row(array, w)):
            load = model.cost(WeightLoad(rows * cols * w // 8)).cycles
            mvm = model.cost(CrossbarMVM(rows, cols, w, a, vectors=batch)).cycles
            # staged: the port for all but the load's last cycle, the commit into the array then
            # (offchip_span, the scheduler's rule); unstaged: the array holds the whole load
            port = offchip_span(load, load) if target.weight_staging else 0
            start = max(io_free, array_free - port)
            io_free = start + port
            array_free = start + load + mvm
    return array_free
