"""Supernet paths, standalone subnets, and their ONNX export through the frontend.

Random architectures of the small-width spaces ("tiny": every operator quantised, "tiny-float")
are exported, imported and interpreted on real Criteo rows; the interpreter must give
torch's numbers (rtol 1e-4; the quantised graphs compute the same Div/Round/Clip/Mul chains
as torch, so they are held to the same tolerance). The quantised exports must carry the
architecture's precisions (see `frontend.supernet` for the convention).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from frontend.precision import find_chains  # noqa: E402
from frontend.space import get_space  # noqa: E402
from frontend.supernet._ops import DENSE_WEIGHTS, SPARSE_WEIGHTS  # noqa: E402
from frontend.supernet.model import SuperNet  # noqa: E402
from frontend.supernet.subnet import export  # noqa: E402
from frontend.supernet.train import TrainConfig, train_supernet  # noqa: E402

ARCHS = 25  # per space: 50 architectures in all, through both exporters
CHUNK = 5  # architectures per test, so that parallel workers share the slow dynamo exports


@pytest.fixture(scope="module", params=["tiny", "tiny-float"])
def trained(request, criteo):
    """A supernet briefly trained on the real sample (so ranges and weights are not random)."""
    net = SuperNet(get_space(request.param), criteo.table_sizes, seed=2)
    train_supernet(net, criteo, criteo, TrainConfig(steps=40, batch_size=64, eval_every=40,
                                                    eval_archs=1))
    return net.eval()


def _tensors(rows):
    return torch.from_numpy(rows.dense), torch.from_numpy(rows.sparse)


def _expected_chains(arch) -> tuple[Counter, set]:
    """Weight chains (a multiset of bits) and activation bits of the live operators."""
    weights, acts = Counter(), set()
    for i, side in arch.live_operators():
        b = arch.blocks[i]
        kind = b.dense_op if side == "dense" else b.sparse_op
        w_bits, a_bits = b.dense_bits if side == "dense" else b.sparse_bits
        table = DENSE_WEIGHTS if side == "dense" else SPARSE_WEIGHTS
        matrices = sum(len(shape) == 2 for shape in table[kind].values())
        matrices += side == "sparse" and b.merge
        weights[w_bits] += matrices
        acts.add(a_bits)  # every operator quantises its input
    return +weights, acts


def test_subnet_inherits_the_path_weights(trained, criteo_rows):
    for seed in range(5):
        arch = trained.space.sample(seed)
        sub = trained.subnet(arch).eval()
        with torch.no_grad():
            path = trained(*_tensors(criteo_rows), arch)
            alone = sub(*_tensors(criteo_rows))
        torch.testing.assert_close(alone, path, rtol=1e-6, atol=1e-7)
        assert sum(p.numel() for p in sub.parameters()) < \
            sum(p.numel() for p in trained.parameters())


def test_width_choices_slice_shared_weights(trained):
    a = trained.space.sample(3)
    dense_w, _ = trained.block_weights(a, 0)
    full = trained.dense_w[0][a.blocks[0].dense_op]
    for name, w in dense_w.items():
        assert w.shape[0] <= full[name].shape[0]
        if w.dim() == 2:  # block 0 reads the 13 dense features: the first columns
            assert torch.equal(w, full[name][:w.shape[0], :w.shape[1]]) or \
                name in ("wp",)


@pytest.mark.parametrize("chunk", range(ARCHS // CHUNK))
@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_random_architectures_export_import_and_match(trained, criteo_rows, imported,
                                                      exporter, chunk):
    quantised = trained.space.bits != ()
    for seed in range(100 + chunk * CHUNK, 100 + (chunk + 1) * CHUNK):
        arch = trained.space.sample(seed)
        sub = trained.subnet(arch).eval()
        with torch.no_grad():
            expected = sub(*_tensors(criteo_rows)).numpy()
        proto = export(sub, exporter=exporter)
        np.testing.assert_allclose(imported(proto, criteo_rows), expected, rtol=1e-4,
                                   atol=1e-6, err_msg=f"{exporter} {arch.to_json()}")
        chains = find_chains(proto)
        if not quantised:
            assert chains == []
            continue
        weights, acts = _expected_chains(arch)
        assert Counter(c.bits for c in chains if c.weight) == weights, arch.to_json()
        assert {c.bits for c in chains if not c.weight} == acts, arch.to_json()
