"""Streamed weights with staging (zigzag-* presets): the next tile's weights come in over the
off-chip I/O while the macro computes with the current tile; the load holds the crossbar only for
its last cycle (the commit). Scheduler, simulator and checker all read it the same way."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.checker import check_schedule
from compiler.driver import compile as compile_model
from compiler.simulator import simulate

MLP = (13, 512, 256, 1)  # bench/zigzag_compare.py's network
PRESETS = Path(__file__).resolve().parents[2] / "targets" / "presets"


@pytest.fixture(scope="module")
def mlp(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    for i, (c, k) in enumerate(zip(MLP[:-1], MLP[1:])):
        inits += [numpy_helper.from_array(rng.normal(0, 0.1, (c, k)).astype(np.float32), f"w{i}"),
                  numpy_helper.from_array(np.zeros(k, np.float32), f"b{i}")]
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [f"g{i}"]))
        x = f"g{i}"
        if i < len(MLP) - 2:
            nodes.append(helper.make_node("Relu", [x], [f"r{i}"]))
            x = f"r{i}"
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, MLP[0]])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, MLP[-1]])], inits)
    path = tmp_path_factory.mktemp("mlp") / "mlp.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


@pytest.fixture(scope="module")
def unstaged(tmp_path_factory) -> Path:
    text = (PRESETS / "zigzag-dimc.yaml").read_text()
    assert "\nweight_staging: true" in text
    path = tmp_path_factory.mktemp("t") / "zigzag-dimc-unstaged.yaml"
    path.write_text(text.replace("\nweight_staging: true", "\nweight_staging: false")
                    .replace("name: zigzag-dimc", "name: zigzag-dimc-unstaged"))
    return path


def _compile(mlp: Path, target: str):
    return compile_model(str(mlp), target, batch=1, objective="latency", check="none")


def _loads_and_uses(schedule: dict) -> list[tuple[dict, dict]]:
    ops = {op["id"]: op for op in schedule["ops"]}
    return [(ops[p], op) for op in schedule["ops"] if op["kind"] == "pim.mvm"
            for p in op["inputs"] if ops[p]["kind"] == "pim.load"]


def test_a_staged_load_overlaps_the_previous_tiles_mvm(mlp, unstaged):
    staged = _compile(mlp, "zigzag-dimc")
    pairs = _loads_and_uses(staged.schedule)
    assert len(pairs) > 4
    overlapped = [1 for (_, prev), (load, _) in zip(pairs, pairs[1:])
                  if load["start"] < prev["end"]]
    assert len(overlapped) >= len(pairs) // 2
    for load, use in pairs:  # the I/O part, then one cycle on the crossbar right before its use
        assert load["io_end"] == load["end"] - 1 and use["start"] >= load["end"]
    assert check_schedule(staged.schedule) == []
    sim = simulate(staged.schedule, staged.module)
    assert sim.latency_cycles == pytest.approx(staged.schedule["latency"], rel=0.05)

    plain = _compile(mlp, str(unstaged))
    plain_pairs = _loads_and_uses(plain.schedule)
    assert all(load["start"] >= prev["end"] for (_, prev), (load, _) in
               zip(plain_pairs, plain_pairs[1:]))  # near miss: load and MVM take turns
    assert all("io_end" not in load for load, _ in plain_pairs)
    assert plain.schedule["latency"] > staged.schedule["latency"]


def test_a_staged_commit_while_the_previous_tile_computes_is_named(mlp):
    s = _compile(mlp, "zigzag-dimc").schedule
    assert check_schedule(s) == []
    (_, first), (load, use) = _loads_and_uses(s)[:2]
    # commit the second tile into the crossbar one cycle before the first tile's MVM is done
    shift = load["end"] - first["end"] + 1
    for key in ("start", "io_end", "end"):
        load[key] -= shift
    for units in s["units"].values():
        for u in units:
            if u["op"] == load["id"]:
                u["start"] -= shift
                u["end"] -= shift
    errors = check_schedule(s)
    assert any(f"loses tile {first['name']}{first['tile']}" in e and
               f"op {load['id']} uses it" in e for e in errors), errors


@pytest.mark.parametrize("line, message", [
    ("weight_staging: maybe", "field 'weight_staging': 'maybe' is not accepted; accepted values: "
                            "true, false"),
    ("weight_staging: true", "field 'weight_staging': stages streamed weights; accepted only "
                             "with `weights: streamed`"),
])
def test_weight_staging_is_a_boolean_for_streamed_targets_only(tmp_path, line, message):
    from targets.errors import TargetError
    from targets.loader import load_target

    text = (PRESETS / "isaac.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("\nweights: resident", f"\n{line}\nweights: resident", 1))
    with pytest.raises(TargetError) as err:
        load_target(str(bad))
    assert message in str(err.value) and "\n" not in str(err.value)
    bad.write_text(text)  # near miss: the file without the line loads
    assert load_target(str(bad)).weight_staging is False
