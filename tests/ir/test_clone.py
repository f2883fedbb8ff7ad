"""Module.clone: the same program in new objects, so that passes rewriting the copy leave the
original as it was; weight arrays are shared, not copied."""

from pathlib import Path

import pytest

from compiler.driver import compile
from ir.core import Graph, Module, Value
from ir.dialects import lookup
from ir.errors import PimcError
from ir.text import print_module
from ir.types import TensorType
from ir.verify import verify

ROOT = Path(__file__).resolve().parents[2]
DLRM = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


@pytest.fixture(scope="module")
def tiled() -> Module:
    return compile(DLRM, "hetero", batch=8, emit="tiled", check="none").module


def _objects(module: Module) -> set[int]:
    ids = {id(module), *(id(g) for g in module.graphs), id(module.attrs)}
    for g in module.graphs:
        ids.update(id(v) for v in g.args)
        for op in g.ops:
            ids.update({id(op), id(op.attrs), id(op.meta), *(id(r) for r in op.results)})
    return ids


def test_the_clone_prints_as_the_original_and_verifies(tiled):
    copy = tiled.clone()
    verify(copy)
    assert print_module(copy) == print_module(tiled)


def test_the_clone_shares_no_ir_object_but_the_weight_arrays(tiled):
    copy = tiled.clone()
    assert not _objects(copy) & _objects(tiled)
    arrays = [(a, b) for x, y in zip(tiled.main.ops, copy.main.ops)
              for a, b in zip(x.attrs.values(), y.attrs.values()) if hasattr(a, "shape")]
    assert arrays and all(a is b for a, b in arrays)


def test_rewriting_the_clone_leaves_the_original(tiled):
    """The near miss: a copy sharing attribute dicts, meta dicts, values or the op list
    would show this rewrite in the original's text."""
    before = print_module(tiled)
    copy = tiled.clone()
    g = copy.main
    for op in g.ops:
        op.attrs["pim.mark"] = 1
        op.meta["unit"] = "elsewhere"
        for r in op.results:
            r.name = "renamed"
    g.args[0].name = "renamed_arg"
    g.remove(g.ops[-1:])
    copy.attrs["pim.mark"] = 1
    assert print_module(tiled) == before
    assert all("unit" not in op.meta or op.meta["unit"] != "elsewhere" for op in tiled.main.ops)


def test_an_operand_defined_nowhere_is_refused():
    f = TensorType((2, 3), "f32")
    x = Value(f, name="x")
    neg = lookup("nn.neg")([Value(f, name="ghost")])
    with pytest.raises(PimcError, match="op #0 reads a value not defined before it"):
        Module("m", [Graph("main", [x], [neg], [neg.result])]).clone()
