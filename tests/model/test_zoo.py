"""Every zoo model exports with both exporters, imports, and interprets as torch computes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from frontend.zoo import MODELS, build, export_onnx  # noqa: E402
from frontend.zoo.export import EXPORTERS  # noqa: E402


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_roundtrips_through_onnx(name, exporter, criteo, criteo_rows, imported):
    model = build(name, criteo.table_sizes, dim=8, seed=1).eval()
    dense, sparse = torch.from_numpy(criteo_rows.dense), torch.from_numpy(criteo_rows.sparse)
    with torch.no_grad():
        expected = model(dense, sparse).numpy()
    proto = export_onnx(model, (dense, sparse), exporter)
    np.testing.assert_allclose(imported(proto, criteo_rows), expected, rtol=1e-4, atol=1e-6)
    assert 0 < expected.min() and expected.max() < 1 and expected.std() > 0


def test_dlrm_uses_embedding_bags(criteo):
    model = build("dlrm", criteo.table_sizes, dim=4)
    assert all(isinstance(t, torch.nn.EmbeddingBag) for t in model.embed.tables)


def test_unknown_model_lists_the_zoo():
    from ir.errors import PimcError

    with pytest.raises(PimcError, match="accepted: dlrm, dcnv2, deepfm, autoint"):
        build("wide", (3,))
