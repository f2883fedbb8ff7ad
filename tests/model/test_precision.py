"""Precisions travel from an architecture to the ONNX file and on to the imported IR."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from frontend.precision import find_chains, quantised_values, read_precisions  # noqa: E402
from frontend.space import get_space  # noqa: E402
from frontend.supernet.model import SuperNet  # noqa: E402
from frontend.supernet.subnet import export  # noqa: E402


@pytest.fixture(scope="module")
def fc_only(criteo):
    """One live fc operator at (w=4, a=8) feeding the head; everything else float."""
    space = get_space("tiny")
    arch = space.sample(0)
    from dataclasses import replace

    blocks = [replace(b, dense_op="fc", sparse_op="efc", dense_in=(0,), sparse_in=(0,),
                      merge=False, dense_bits=(16, 16), sparse_bits=(16, 16))
              for b in arch.blocks]
    blocks[-1] = replace(blocks[-1], dense_bits=(4, 8), sparse_bits=(8, 4))
    arch = replace(arch, blocks=tuple(blocks), fm=False)
    net = SuperNet(space, criteo.table_sizes, seed=0).train()
    with torch.no_grad():
        net(torch.from_numpy(criteo.dense), torch.from_numpy(criteo.sparse), arch)
    return arch, net.eval()


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_onnx_carries_operator_precisions(fc_only, exporter):
    arch, net = fc_only
    proto = export(arch, supernet=net, exporter=exporter)
    chains = find_chains(proto)
    assert sorted((c.weight, c.bits) for c in chains) == [(False, 4), (False, 8), (True, 4),
                                                          (True, 8)]
    per_node = sorted(read_precisions(proto).values(), key=str)
    assert (4, 8) in per_node  # the fc's Gemm: 4-bit weights, 8-bit input
    assert (8, 4) in per_node  # the efc's MatMul: 8-bit weights, 4-bit tokens
    assert sorted(quantised_values(proto).values()) == [4, 4, 8, 8]


def test_imported_ir_carries_the_precisions(fc_only):
    """The importer puts each chain's bits on its output's TensorType."""
    from frontend.onnx import import_onnx

    arch, net = fc_only
    module = import_onnx(export(arch, supernet=net, exporter="legacy"), batch=8)
    bits = sorted(r.type.bits for op in module.main.ops for r in op.results if r.type.bits)
    clips = sorted((op.attrs.get("min"), op.attrs.get("max")) for op in module.main.ops
                   if op.name == "nn.clip")
    assert (-8.0, 7.0) in clips and (-128.0, 127.0) in clips  # the chains reach the IR
    assert bits == [4, 4, 8, 8]


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_fused_ops_get_the_architecture_precisions(fc_only, criteo_rows, exporter):
    """canonicalize folds the weight chains and fusion builds rec ops on them; mode=model
    then reads each op's (w, a) off the IR types. Float ops (the head, the embedding bags)
    have no chain, so they get `default`, here 32 as in the export convention. Values are
    unchanged."""
    import numpy as np

    import ir.interp
    from frontend.onnx import import_onnx
    from passes.pipeline import parse_pipeline

    arch, net = fc_only
    module = import_onnx(export(arch, supernet=net, exporter=exporter), batch=len(criteo_rows))
    inputs = {"dense": criteo_rows.dense, "sparse": criteo_rows.sparse}
    before = ir.interp.run(module.main, inputs)[0]
    for p in parse_pipeline("canonicalize,fuse-interactions,assign-precision{mode=model,"
                            "default=32}"):
        p.apply(module)
    got = sorted((op.name, op.attrs["pim.w_bits"], op.attrs["pim.a_bits"])
                 for op in module.main.ops if op.name in ("rec.dense", "rec.efc"))
    last = arch.blocks[-1]
    assert got == sorted([("rec.dense", *last.dense_bits), ("rec.efc", *last.sparse_bits),
                          ("rec.dense", 32, 32)])
    np.testing.assert_allclose(ir.interp.run(module.main, inputs)[0], before, rtol=1e-5,
                               atol=1e-6)
