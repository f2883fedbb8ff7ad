"""The stand-in lowering used by the ZigZag comparison: a Gemm layer on a streamed macro.

Each layer of the MLP becomes: its weights streamed from DRAM (``WeightLoad``), its activations
moved to/from DRAM when the layer's input and output together do not fit the macro's SRAM
(``DramAccess``; the input is re-read once per column tile when it alone does not fit), and the
MVM itself (``CrossbarMVM``). This mirrors ZigZag's inter-layer data-locality stage, which keeps
a layer's activations in the lowest memory that holds them.
"""

from __future__ import annotations

from targets import CrossbarMVM, DramAccess, WeightLoad
from targets._geometry import tiles
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
