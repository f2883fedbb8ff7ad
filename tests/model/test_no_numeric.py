"""Data sets with no numeric feature: the supernet trains (its activation observer once took
max() of an empty tensor), zoo models and subnets export with `sparse` as the only input,
import and interpret as torch computes, and compile with the functional check."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ir.interp  # noqa: E402
from frontend.data import CTRData, load_splits  # noqa: E402
from frontend.onnx import import_onnx  # noqa: E402
from frontend.space import get_space  # noqa: E402
from frontend.supernet.model import SuperNet  # noqa: E402
from frontend.supernet.subnet import export  # noqa: E402
from frontend.supernet.train import (  # noqa: E402
    TrainConfig,
    ValidationWarning,
    evaluate,
    train_supernet,
)
from frontend.zoo import MODELS, build, export_onnx  # noqa: E402
from ir.errors import PimcError  # noqa: E402


@pytest.fixture(scope="module")
def sparse_only(criteo) -> CTRData:
    """The Criteo sample without its 13 numeric columns."""
    return CTRData(criteo.dense[:, :0], criteo.sparse, criteo.label, criteo.table_sizes,
                   (), criteo.sparse_names)


def _interpret(proto, rows: CTRData) -> np.ndarray:
    assert [i.name for i in proto.graph.input] == ["sparse"]
    module = import_onnx(proto, batch=len(rows))
    return ir.interp.run(module.main, {"sparse": rows.sparse})[0]


def _torch(model, rows: CTRData) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(rows.dense), torch.from_numpy(rows.sparse)).numpy()


@pytest.fixture(scope="module")
def trained(sparse_only):
    net = SuperNet(get_space("tiny"), sparse_only.table_sizes, num_dense=0, seed=3)
    with warnings.catch_warnings():  # 30 steps are not meant to beat the constant predictor
        warnings.simplefilter("ignore", ValidationWarning)
        history = train_supernet(net, sparse_only, sparse_only, TrainConfig(
            steps=30, batch_size=32, eval_every=15, eval_archs=2))
    return net.eval(), history


def test_supernet_trains_without_numeric_features(trained, sparse_only):
    net, history = trained
    assert [h["step"] for h in history] == [15, 30]
    assert all(np.isfinite(h["logloss"]) for h in history)
    # the dense input is the flattened field embeddings: 26 fields of 4
    assert net.dense_slots[0] == 26 * 4 and net.widths(get_space("tiny").sample(0))[0][0] == 104
    ranges = [r["dx"].amax.item() for r in net.ranges]
    assert any(a > 0 for a in ranges)  # the observer saw the (non-empty) dense input


@pytest.mark.parametrize("seed", [0, 1])
def test_subnet_exports_sparse_only_and_matches(trained, sparse_only, seed):
    net, _ = trained
    sub = net.subnet(net.space.sample(seed)).eval()
    rows = sparse_only.take(np.arange(8))
    expected = _torch(sub, rows)
    proto = export(sub, num_dense=0)
    np.testing.assert_allclose(_interpret(proto, rows), expected, rtol=1e-4, atol=1e-6)
    assert expected.std() > 0


@pytest.mark.parametrize("name", MODELS)
def test_zoo_models_without_numeric_features(name, sparse_only):
    model = build(name, sparse_only.table_sizes, num_dense=0, dim=4, seed=2).eval()
    rows = sparse_only.take(np.arange(8, 16))
    expected = _torch(model, rows)
    proto = export_onnx(model, (torch.from_numpy(rows.dense), torch.from_numpy(rows.sparse)))
    np.testing.assert_allclose(_interpret(proto, rows), expected, rtol=1e-4, atol=1e-6)
    assert 0 < expected.min() and expected.max() < 1 and expected.std() > 0


def test_dlrm_needs_two_inputs_to_interact():
    with pytest.raises(PimcError, match="DLRM needs two inputs to interact; the data has 0 "
                                        "numeric and 1 categorical"):
        build("dlrm", (10,), num_dense=0)
    assert build("dlrm", (10,), num_dense=1) is not None  # a numeric and a categorical


def test_one_hot_libsvm_data_trains_a_zoo_model(tmp_path):
    """A libsvm file with one-hot fields only gives num_dense = 0 end to end."""
    from frontend.supernet.train import fit

    rng = np.random.default_rng(0)
    user, item = rng.integers(0, 20, 2000), rng.integers(20, 40, 2000)
    label = (rng.random(2000) < np.where(user % 2 == item % 2, 0.8, 0.2)).astype(int)
    path = tmp_path / "a.libfm"
    path.write_text("".join(f"{y} {u}:1 {i}:1\n" for y, u, i in zip(label, user, item)))
    s = load_splits(f"libfm:{path}")
    assert s.train.num_dense == 0 and s.train.num_sparse == 2
    model = fit(build("deepfm", s.train.table_sizes, num_dense=0, dim=4), s.train, 300)
    # the planted parity interaction is learnt (a perfect model: AUC 0.8)
    assert evaluate(model, s.val)["auc"] > 0.72


@pytest.mark.parametrize("name", ["lr", "deepfm", "subnet"])
def test_compiles_with_the_functional_check(name, trained, sparse_only):
    from compiler.driver import compile

    net, _ = trained
    rows = sparse_only.take(np.arange(4))
    if name == "subnet":
        float_net = SuperNet(get_space("tiny-float"), sparse_only.table_sizes, 0, seed=1)
        proto = export(float_net.subnet(float_net.space.sample(0)).eval(), num_dense=0)
    else:
        model = build(name, sparse_only.table_sizes, num_dense=0, dim=4).eval()
        proto = export_onnx(model, (torch.from_numpy(rows.dense), torch.from_numpy(rows.sparse)))
    result = compile(proto, "isaac", batch=4)
    assert result.functional is not None and result.functional["passed"], result.functional
