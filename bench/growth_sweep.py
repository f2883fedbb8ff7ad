"""The growth sweep of bench/compile_speed.py (`--parts sweep`): each stage's time over model size.

Each stage's time is the driver's own per-stage wall time (check on unless `--sweep-check` says
otherwise), on a target of `--targets` (a streamed one such as zigzag-aimc exercises weight
loads), over a sweep of model sizes: a chain of Gemm+Relu layers by depth (size: ONNX nodes)
and by width (size: weights), and a DLRM-like model by its number of embedding tables (size:
tables). The growth exponent of a stage is the least-squares slope of log(time) over
log(size), each stage's time the better of two compiles (a collection of the process's garbage
can land in any one stage once). A linear stage has exponent 1. Each row says its crossbar
tiles, the crossbars its placement uses (tiles times their copies) and the placer whose answer
was kept. `--big` sweeps depths to 1024, widths to 2048 (13.7k tiles, the most isaac and hetero
hold) and tables to 256. `--chip-scale K` compiles for each target with K times its chip tiles
(`scaled_chip`: its mesh grown to hold them, its routers counted with them, every per-unit
figure the preset's own): a sweep device, not a hardware claim, for models past what one chip
holds. `--huge` is the width sweep to 107k tiles on ISAAC's chip scaled by 8 (129k crossbars),
check off, a few minutes: on one chip the small models get more copies than the big ones (the
crossbars column), which flattens their exponent.
"""

from __future__ import annotations

from pathlib import Path

from compile_speed import BATCH, ROOT


def chain_model(depth: int, width: int, batch: int = BATCH):
    """`depth` Gemm+Relu layers of `width` x `width` (seeded small weights)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    for i in range(depth):
        w = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"),
                  numpy_helper.from_array(np.zeros(width, np.float32), f"b{i}")]
        nodes += [helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [f"g{i}"]),
                  helper.make_node("Relu", [f"g{i}"], [f"r{i}"])]
        x = f"r{i}"
    graph = helper.make_graph(
        nodes, f"chain_d{depth}_w{width}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, width])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [batch, width])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def tables_model(tables: int, rows: int = 100, dim: int = 16, batch: int = BATCH):
    """A DLRM-like model: `tables` embedding lookups, concatenated, then a 64-1 MLP."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits, inputs, emb = [], [], [], []
    for t in range(tables):
        inits.append(numpy_helper.from_array(
            rng.standard_normal((rows, dim)).astype(np.float32), f"table{t}"))
        inputs.append(helper.make_tensor_value_info(f"idx{t}", TensorProto.INT64, [batch]))
        nodes.append(helper.make_node("Gather", [f"table{t}", f"idx{t}"], [f"e{t}"]))
        emb.append(f"e{t}")
    nodes.append(helper.make_node("Concat", emb, ["cat"], axis=1))
    for name, shape in (("w0", (tables * dim, 64)), ("w1", (64, 1))):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32), name))
    nodes += [helper.make_node("Gemm", ["cat", "w0"], ["h"]),
              helper.make_node("Relu", ["h"], ["hr"]),
              helper.make_node("Gemm", ["hr", "w1"], ["y"])]
    graph = helper.make_graph(nodes, f"tables_{tables}", inputs,
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 1])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) over log(x)."""
    import math

    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-6)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    var = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / var if var else float("nan")


def scaled_chip(target: str, factor: int, folder: Path) -> str:
    """A target file for `target` with `factor` times its chip tiles: the mesh's dims grown by
    factors of `factor` (the squarest such mesh), the routers counted with them, everything
    else the preset's own. The path, or the name itself for factor 1."""
    import yaml

    from targets.loader import list_targets, safe_load

    if factor == 1:
        return target
    path = (ROOT / "targets" / "presets" / f"{target}.yaml" if target in list_targets()
            else Path(target))
    spec = safe_load(path.read_text())
    chip = spec["chip"]
    chip["tiles"] *= factor
    net = chip.get("network")
    if net is not None:
        dims = list(net["dims"]) + [1] * (2 - len(net["dims"]))
        a = min((a for a in range(1, factor + 1) if factor % a == 0),
                key=lambda a: max(dims[0] * a, dims[1] * factor // a)
                / min(dims[0] * a, dims[1] * factor // a))
        net["dims"] = [dims[0] * a, dims[1] * factor // a]
        if "routers" in net:
            net["routers"]["count"] *= factor
    spec["name"] = f"{spec['name']}-x{factor}"
    out = folder / f"{spec['name']}.yaml"
    out.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(out)


def growth(sweeps: dict[str, list[int]], target: str = "isaac", check: str = "full",
           label: str | None = None) -> None:
    """Per-stage times over each sweep and their growth exponents (module docstring), with
    each row's crossbar tiles (the crossbars of its pim.mvm ops, one copy), the crossbars its
    placement uses and the placer that placed it (greedy where CP-SAT was not run or not kept:
    a stage's exponent spans that switch). `label`: how the target is named in the table (a
    scaled chip's file)."""
    from compiler.driver import compile as compile_model

    models = {
        "depth": lambda d: (chain_model(d, 16), 2 * d),
        "width": lambda w: (chain_model(4, w), 4 * w * w),
        "tables": lambda t: (tables_model(t), t),
    }
    compile_model(chain_model(2, 8), target, batch=BATCH, check=check)  # warm: imports, caches
    print(f"\nstage wall ms over model size ({label or target}, batch {BATCH}, check {check}); "
          "exponent = slope of log(ms) over log(size)")
    for what, values in sweeps.items():
        rows = [row for v in values if (row := _growth_row(
            compile_model, models[what], v, target, what, check)) is not None]
        if not rows:
            continue
        stages = list(rows[0][3])
        print(f"\n{what:8s} {'size':>9s} {'tiles':>7s} {'xbars':>7s}"
              + "".join(f"{s:>12s}" for s in stages) + f"{'total':>12s}  placer")
        for v, size, (tiles, used), row, placer in rows:
            cells = "".join(f"{row[s] * 1e3:12.1f}" for s in stages)
            print(f"{what[0]}={v:<6d} {size:9d} {tiles:7d} {used:7d}{cells}"
                  f"{sum(row.values()) * 1e3:12.1f}  {placer}")
        if len(rows) > 1:
            sizes = [r[1] for r in rows]
            cells = [_slope(sizes, [r[3][s] for r in rows]) for s in stages]
            total = _slope(sizes, [sum(r[3].values()) for r in rows])
            print(f"{'exponent':34s}" + "".join(f"{c:12.2f}" for c in cells) + f"{total:12.2f}")


def _growth_row(compile_model, model_of, v: int, target: str, what: str,
                check: str) -> tuple | None:
    """(value, size, (crossbar tiles, crossbars used), each stage's better of two wall times,
    placer) of one sweep point; None, said, when the target cannot take it (e.g. embedding
    tables on a target with no vector unit, or more weight tiles than it has crossbars)."""
    from ir.dialects.pim_attrs import PLACE_FACTS
    from ir.errors import PimcError

    model, size = model_of(v)
    runs = []
    try:
        for _ in range(2):  # one compiled module held at a time (10^5 tiles: gigabytes)
            r = compile_model(model, target, batch=BATCH, check=check)
            runs.append((dict(r.stages), sum(op.crossbars for op in r.module.main.ops
                                             if op.name == "pim.mvm"),
                         int(r.report.get("crossbars_used", 0)),
                         PLACE_FACTS["solver"].of(r.module, "-")))
            r.release()
            del r
    except PimcError as exc:
        print(f"\n{what}={v}: not on {target}: {exc}")
        return None
    # a stage's best of two: one-off stalls (a collection of the process's garbage) drop out
    row = {s: min(stages[s] for stages, *_ in runs) for s in runs[0][0]}
    _, tiles, used, placer = runs[0]
    return v, size, (tiles, used), row, placer
