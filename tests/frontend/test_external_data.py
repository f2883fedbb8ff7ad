"""External data is mapped, not copied: a large initializer kept in a data file becomes a
read-only np.memmap of that file (the model's folder, never the current one), a small one is
read in as before, and a data file that does not hold what the tensor declares is refused.

`pimc compile` of such a model, run from another folder: the shards are views of the mapped
table, the output folder copies the data file (not the table into mapped.npz), and
the folder still verifies itself (and notices a change to the linked file, or a link table
that points past it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontend.onnx import import_onnx, load_onnx
from frontend.onnx._external import runtime_model
from ir.errors import PimcError
from ir.io import LINKED, load, write_npz

ROOT = Path(__file__).resolve().parents[2]
ROWS, DIM = 20_000, 16  # 1.28 MB: above the size the loader maps instead of reading


def table_model(folder: Path, rows: int = ROWS) -> tuple[Path, np.ndarray]:
    """ids [B, 2] -> Gather of a [rows, DIM] table -> [B, 2*DIM] -> MatMul -> Sigmoid, saved
    with its initializers in `folder`/model.onnx.data; returns the path and the table."""
    rng = np.random.default_rng(0)
    table = rng.uniform(-0.05, 0.05, (rows, DIM)).astype(np.float32)
    head = rng.uniform(-0.5, 0.5, (2 * DIM, 1)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "ids"], ["rows"], name="gather"),
             helper.make_node("Reshape", ["rows", "shape"], ["flat"], name="flat"),
             helper.make_node("MatMul", ["flat", "head"], ["logit"], name="head"),
             helper.make_node("Sigmoid", ["logit"], ["prob"], name="prob")]
    graph = helper.make_graph(
        nodes, "tables", [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 2])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(head, "head"),
         numpy_helper.from_array(np.array([-1, 2 * DIM], np.int64), "shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="model.onnx.data", size_threshold=0)
    return path, table


def mapped_file(array: np.ndarray) -> str | None:
    """The file `array` is a view of a map of, or None when it owns (a copy of) its bytes."""
    base = array
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return str(base.filename)
        base = base.base
    return None


def _constants(module) -> dict[str, np.ndarray]:
    return {op.result.name: op.attrs["value"] for op in module.main.ops
            if "value" in op.attrs and op.result.name}


@pytest.fixture
def model(tmp_path: Path, monkeypatch) -> tuple[Path, np.ndarray]:
    """The table model in tmp/model; the current folder is another one, holding a decoy data
    file of the same name (made after the model: onnx.save looks for it in the current one)."""
    made = table_model(tmp_path / "model")
    home = tmp_path / "home"
    home.mkdir()
    (home / "model.onnx.data").write_bytes(b"\0" * 64)
    monkeypatch.chdir(home)
    return made


def test_a_large_table_is_a_read_only_map_of_the_model_folder_file(tmp_path, model):
    path, table = model
    consts = _constants(import_onnx(path, batch=4))
    weight = consts["table"]
    assert mapped_file(weight) == str((tmp_path / "model" / "model.onnx.data").resolve())
    assert not weight.flags.writeable
    np.testing.assert_array_equal(weight, table)
    assert mapped_file(consts["head"]) is None  # 128 bytes: read in, as onnx does


def test_the_loaded_proto_keeps_the_table_in_its_file(tmp_path, model):
    """The proto holds no copy of the table; ONNX Runtime is pointed at the model's folder."""
    path, _ = model
    proto = load_onnx(path)
    init = next(t for t in proto.graph.initializer if t.name == "table")
    assert init.data_location == TensorProto.EXTERNAL and not init.raw_data
    assert proto.ByteSize() < ROWS * DIM * 4 // 100
    model, folder = runtime_model(proto)
    assert folder == str((tmp_path / "model").resolve())
    located = onnx.ModelProto.FromString(model).graph.initializer
    assert {e.key: e.value for e in located[0].external_data}["location"] == "model.onnx.data"


def test_external_data_shorter_than_its_shape_is_refused(model):
    """The near miss: a length entry one row short of what [ROWS, DIM] float32 needs."""
    path, _ = model
    proto = onnx.load(str(path), load_external_data=False)
    init = next(t for t in proto.graph.initializer if t.name == "table")
    for entry in init.external_data:
        if entry.key == "length":
            entry.value = str(int(entry.value) - DIM * 4)
    onnx.save(proto, str(path))
    with pytest.raises(PimcError, match=r"tensor 'table' holds 1279936 bytes; its shape "
                                        r"\[20000, 16\] and type need 1280000"):
        import_onnx(path, batch=4)


def _pimc(cwd: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "compiler", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, Path]:
    """The table model compiled for hetero (tables sharded over banks) from another folder."""
    tmp = tmp_path_factory.mktemp("external")
    path, _ = table_model(tmp / "model")
    home = tmp / "home"
    home.mkdir()
    proc = _pimc(home, "compile", path, "--target", "hetero", "--batch", "4",
                 "--compare", "none", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    return {"model": path, "out": home / "out", "home": home}


def test_the_output_links_the_data_file_instead_of_copying_the_table(compiled):
    out, data = compiled["out"], compiled["model"].with_name("model.onnx.data")
    # a byte copy beside mapped.pir, not a hard link: the onnx library refuses external data
    # with more than one link, so a link would break the user's model
    assert os.stat(out / "mapped.data").st_ino != os.stat(data).st_ino
    assert os.stat(data).st_nlink == 1
    assert (out / "mapped.data").read_bytes() == data.read_bytes()
    onnx.load(str(compiled["model"]))  # the model still loads with the onnx library
    assert (out / "mapped.npz").stat().st_size < ROWS * DIM * 4 // 100
    module = load(out / "mapped.pir")
    shards = [op for op in module.main.ops if op.name == "pim.gather"]
    assert len(shards) > 1
    rows = sum(op.operands[0].type.shape[0] for op in shards)
    assert rows == ROWS  # every row once: no hot rows, so every shard is a view, linked
    for op in shards:
        assert mapped_file(op.operands[0].owner.attrs["value"]) == str(out / "mapped.data")
    report = json.loads((out / "report.json").read_text())
    assert report["functional_check"]["passed"]


def test_output_files_get_the_mode_a_new_file_gets(compiled):
    """Written through temporary files and moved into place, the outputs keep the mode the
    process's umask gives a new file, not the temporary file's private 0600."""
    from ir.io import current_umask

    wanted = 0o666 & ~current_umask()
    modes = {p.name: p.stat().st_mode & 0o777 for p in compiled["out"].iterdir() if p.is_file()}
    assert {"mapped.pir", "mapped.npz", "mapped.data", "report.json"} <= set(modes)
    assert modes == dict.fromkeys(modes, wanted)


def test_the_folder_verifies_and_a_changed_linked_file_is_caught(compiled, tmp_path):
    assert _pimc(compiled["home"], "simulate", "out").returncode == 0
    copy = tmp_path / "out"
    copy.mkdir()
    for p in compiled["out"].iterdir():
        copy.joinpath(p.name).write_bytes(p.read_bytes())  # a copy: the model stays intact
    with open(copy / "mapped.data", "r+b") as f:
        f.seek(100)
        f.write(b"\x7f")
    proc = _pimc(tmp_path, "simulate", copy)
    assert proc.returncode == 2
    assert "mapped.data changed since the compile" in proc.stderr


def test_a_link_table_past_the_end_of_the_linked_file_is_refused(compiled, tmp_path):
    """The near miss: the link table of the compile with one offset moved past the file."""
    for name in ("mapped.pir", "mapped.data"):
        (tmp_path / name).write_bytes((compiled["out"] / name).read_bytes())
    with np.load(compiled["out"] / "mapped.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    table = json.loads(arrays[LINKED].tobytes())
    name, (offset, dtype, shape) = sorted(table["arrays"].items())[-1]
    size = (tmp_path / "mapped.data").stat().st_size
    table["arrays"][name] = [size - 4, dtype, shape]
    arrays = {k: np.asarray(v) for k, v in arrays.items() if k not in table["arrays"]}
    arrays[LINKED] = np.frombuffer(json.dumps(table).encode(), np.uint8)
    write_npz(arrays, tmp_path / "mapped.npz")
    with pytest.raises(PimcError, match=rf"array '{name}' lies at bytes {size - 4} to "):
        load(tmp_path / "mapped.pir")
