"""Hand-written pim-level IR following docs/mapping.md: MLPs tiled onto crossbars, with
optional embedding shards on banks, and a tiny crossbar target where capacity binds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ir.core import Graph, Module, Value
from ir.dialects import lookup, pim
from ir.types import TensorType

ISAAC_BITS = {"cell_bits": 2, "dac_bits": 1, "adc_bits": 8, "signed": "offset"}


def tiny_target(tmp: Path, tiles: int = 2, arrays: int = 4) -> str:
    """isaac with `tiles` chip tiles of one PE of `arrays` crossbars, plus hetero's banks."""
    text = (Path(__file__).parents[2] / "targets/presets/hetero.yaml").read_text()
    text = text.replace("tiles: 168", f"tiles: {tiles}").replace("pes: 12", "pes: 1")
    text = text.replace("arrays: 8 ", f"arrays: {arrays} ").replace("dims: [7, 6]", "dims: [2, 1]")
    text = text.replace("name: hetero", "name: tiny").replace("count: 42", "count: 2")
    path = tmp / "tiny.yaml"
    path.write_text(text)
    return str(path)


def _const(g: Graph, array: np.ndarray) -> Value:
    op = lookup("nn.constant")([], {"value": array, "pim.unit": "none"})
    g.append(op)
    return op.result


def _dense(g: Graph, x: Value, name: str, cols: int, bits: int, per_col: int) -> Value:
    rows = x.type.shape[-1]
    parts = []
    for ct in range(math.ceil(cols / per_col)):
        c0, c1 = ct * per_col, min(cols, (ct + 1) * per_col)
        sums = []
        for rt in range(math.ceil(rows / 128)):
            r0, r1 = rt * 128, min(rows, (rt + 1) * 128)
            w = _const(g, np.full((r1 - r0, c1 - c0), 0.01, np.float32))
            op = pim.MVM([x, w], {"op": name, "tile": [rt, ct], "rows": [r0, r1],
                                  "cols": [c0, c1], "w_bits": bits, "a_bits": bits,
                                  "x_scale": 0.01, "w_scale": 0.01, **ISAAC_BITS,
                                  "pim.unit": "crossbar"})
            sums.append(g.append(op).result)
        comb = pim.Combine(sums, {"op": name, "mode": "sum", "pim.unit": "digital"})
        parts.append(g.append(comb).result)
    cat = pim.Combine(parts, {"op": name, "mode": "concat", "pim.unit": "digital"})
    relu = lookup("nn.relu")([g.append(cat).result], {"pim.unit": "digital"})
    return g.append(relu).result


def _embedding(g: Graph, name: str, rows: int, dim: int, shards: int, batch: int) -> Value:
    idx = Value(TensorType((batch, 3), "i64"), name=f"{name}_idx")
    g.args.append(idx)
    outs, step = [], math.ceil(rows / shards)
    for s in range(shards):
        r0, r1 = s * step, min(rows, (s + 1) * step)
        table = _const(g, np.zeros((r1 - r0, dim), np.float32))
        op = pim.Gather([table, idx], {"op": name, "shard": s, "rows": [r0, r1],
                                       "pim.unit": "bank"})
        outs.append(g.append(op).result)
    return g.append(pim.Combine(outs, {"op": name, "pim.unit": "digital"})).result


def mlp(target: str, widths: list[int], batch: int = 4, bits: int = 16,
        embeddings: int = 0) -> Module:
    """x [batch, widths[0]] through dense layers of widths[1:], each tiled 128 x per_col."""
    per_col = 128 // math.ceil(bits / 2)  # offset-column weights: ceil(w / 2) cells each
    x = Value(TensorType((batch, widths[0]), "f32"), name="x")
    g = Graph("main", [x])
    h = x
    for e in range(embeddings):
        emb = _embedding(g, f"emb{e}", 50 + 10 * e, widths[0], 2, batch)
        h = g.append(lookup("nn.add")([h, emb], {"pim.unit": "digital"})).result
    for i, cols in enumerate(widths[1:]):
        h = _dense(g, h, f"fc{i}", cols, bits, per_col)
    g.outputs, g.output_names = [h], ["y"]
    return Module("m", [g], {"pim.target": target, "pim.batch": batch})


def crossbar_tiles(module: Module) -> int:
    return len(module.main.find(pim.MVM))
