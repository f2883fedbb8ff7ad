"""torchrec's EmbeddingBagCollection fed a KeyedJaggedTensor, as both torch exporters write
it (tests/frontend/data/torchrec_ebc_*.onnx, made by export_torchrec_ebc.py beside them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from frontend.onnx import import_onnx
from ir.dialects import rec
from ir.errors import PimcError
from ir.interp import run

DATA = Path(__file__).resolve().parent / "data"
LEGACY, DYNAMO = DATA / "torchrec_ebc_legacy.onnx", DATA / "torchrec_ebc_dynamo.onnx"


def _kjt(seed: int, consistent: bool) -> dict:
    """Values and lengths (2 keys x batch 3); consistent: 4 values per key, the counts the
    legacy export baked in, as a real KeyedJaggedTensor has; else any lengths (the file
    still computes something, and the import must compute the same)."""
    rng = np.random.default_rng(seed)
    lengths = np.concatenate([np.bincount(rng.integers(0, 3, 4), minlength=3)
                              for _ in range(2)]) if consistent else rng.integers(0, 4, 6)
    return {"values": rng.integers(0, 10, 8).astype(np.int64),
            "lengths": lengths.astype(np.int64)}


def test_legacy_export_becomes_one_bag_per_table() -> None:
    module = import_onnx(LEGACY)
    bags = module.main.find(rec.EmbeddingBag)
    assert [b.attrs["mode"] for b in bags] == ["sum", "sum"]
    assert {b.operands[0].name for b in bags} == {"ebc.embedding_bags.t_f1.weight",
                                                  "ebc.embedding_bags.t_f2.weight"}
    sess = ort.InferenceSession(str(LEGACY), providers=["CPUExecutionProvider"])
    for seed in range(10):
        feed = _kjt(seed, consistent=seed < 5)
        np.testing.assert_allclose(run(module.main, feed)[0], sess.run(None, feed)[0],
                                   rtol=1e-5, atol=1e-6)


def test_offsets_that_are_not_a_cumsum_of_lengths_are_refused() -> None:
    """The near miss: an exclusive CumSum gives bounds that start one bag late."""
    model = onnx.load(str(LEGACY))
    cumsum = next(n for n in model.graph.node if n.op_type == "CumSum")
    cumsum.attribute.append(helper.make_attribute("exclusive", 1))
    with pytest.raises(PimcError) as exc:
        import_onnx(model)
    text = str(exc.value)
    assert "\n" not in text and text.startswith("Loop node '/ebc/t_f1/Loop': Loop is not an "
                                                "embedding-bag loop: the bag bounds are neither")
    assert text.endswith("nor a KeyedJaggedTensor's concat(0, cumsum(lengths)); pimc imports "
                         "only the torch exporters' nn.EmbeddingBag loops")


def test_dynamo_export_names_the_data_dependent_split() -> None:
    """Dynamo keeps the per-key value counts as data (sums of `lengths`): the split of the
    values has a data-dependent shape, and the file's shapes are static, so no --batch."""
    with pytest.raises(PimcError) as exc:
        import_onnx(DYNAMO)
    text = str(exc.value)
    assert "\n" not in text and "--batch" not in text
    assert text.startswith("Split node ") and "the split sizes) is not a constant at import " \
        "time: it depends on the values of graph input(s) 'lengths', not only on their " \
        "shapes" in text
