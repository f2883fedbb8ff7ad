"""The training options that serve the supernet's ranking: sandwich sampling, per-subnet
recalibration of activation ranges, and from-scratch training of quantised subnets.
(The ranking itself is measured by bench/supernet_rank.py.)"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from frontend.space import get_space  # noqa: E402
from frontend.supernet._quant import qmax  # noqa: E402
from frontend.supernet._sampling import largest, smallest, train_paths  # noqa: E402
from frontend.supernet.model import SuperNet  # noqa: E402
from frontend.supernet.train import (  # noqa: E402
    TrainConfig,
    finetune,
    fit,
    predict,
    recalibrate,
    train_scratch,
    train_supernet,
)
from ir.errors import PimcError  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::frontend.supernet.train.ValidationWarning")

SPACE = get_space("tiny")


def _is_largest(arch) -> bool:
    return all(b.dense_width == 24 and b.sparse_width == 8 and b.merge
               and b.dense_bits == b.sparse_bits == (16, 16)
               and b.dense_in == b.sparse_in == tuple(range(i + 1))[-2:]
               for i, b in enumerate(arch.blocks))


def _is_smallest(arch) -> bool:
    return all(b.dense_width == 8 and b.sparse_width == 4 and not b.merge
               and b.dense_bits == b.sparse_bits == (4, 4)
               and len(b.dense_in) == len(b.sparse_in) == 1 for b in arch.blocks)


def test_bounds_are_valid_and_at_the_ends():
    for seed in range(20):
        arch = SPACE.sample(seed)
        big, small = largest(SPACE, arch), smallest(SPACE, arch)
        SPACE.validate(big)
        SPACE.validate(small)
        assert _is_largest(big) and _is_smallest(small)
        assert [b.dense_op for b in big.blocks] == [b.dense_op for b in arch.blocks]
        assert [b.sparse_op for b in small.blocks] == [b.sparse_op for b in arch.blocks]
    # the checks reject a sampled path: they are not true of everything
    assert not any(_is_largest(SPACE.sample(s)) or _is_smallest(SPACE.sample(s))
                   for s in range(20))


def test_sandwich_draws_largest_smallest_and_random_paths():
    cfg = TrainConfig(steps=10, sampling="sandwich", sandwich_random=3)
    paths = train_paths(SPACE, random.Random(0), 0, cfg)
    assert len(paths) == 5 and _is_largest(paths[0]) and _is_smallest(paths[1])
    assert not any(_is_largest(p) or _is_smallest(p) for p in paths[2:])
    single = train_paths(SPACE, random.Random(0), 0, replace(cfg, sampling="single"))
    assert len(single) == 1 and not _is_largest(single[0]) and not _is_smallest(single[0])


def test_sandwich_training_runs_the_bounds_every_step(criteo, monkeypatch):
    net = SuperNet(SPACE, criteo.table_sizes, seed=0)
    seen = []
    forward = SuperNet.forward
    monkeypatch.setattr(SuperNet, "forward",
                        lambda self, d, s, arch: seen.append(arch) or forward(self, d, s, arch))
    cfg = TrainConfig(steps=3, batch_size=32, sampling="sandwich", sandwich_random=1,
                      eval_every=100, eval_archs=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    train_supernet(net, criteo, criteo, cfg)
    trained = seen[:9]  # then the validation's path
    assert [(_is_largest(a), _is_smallest(a)) for a in trained] == \
        [(True, False), (False, True), (False, False)] * 3
    assert not torch.equal(before["head.weight"], net.state_dict()["head.weight"])


def test_unknown_sampling_is_refused():
    with pytest.raises(PimcError, match="unknown sampling 'sandwhich'; accepted: single"):
        TrainConfig(sampling="sandwhich")
    with pytest.raises(PimcError, match="sandwich_random is -1"):
        TrainConfig(sampling="sandwich", sandwich_random=-1)


@pytest.fixture(scope="module")
def trained(criteo):
    net = SuperNet(SPACE, criteo.table_sizes, seed=0)
    train_supernet(net, criteo, criteo, TrainConfig(steps=30, batch_size=64, eval_every=100,
                                                    eval_archs=1))
    return net.eval()


def test_recalibration_changes_activation_scales_and_only_those(trained, criteo):
    arch = SPACE.sample(3)
    arch = replace(arch, blocks=(replace(arch.blocks[0], dense_op="fc", dense_in=(0,),
                                         dense_bits=(8, 8)),) + arch.blocks[1:])
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    plain, recal = trained.subnet(arch), recalibrate(trained, arch, criteo, batches=3,
                                                     batch_size=50, seed=1)
    after = trained.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the supernet is restored
    p, r = dict(plain.named_parameters()), dict(recal.named_parameters())
    assert p.keys() == r.keys() and all(torch.equal(p[k], r[k]) for k in p)
    changed = [k for k, v in recal.named_buffers() if not torch.equal(v, plain.get_buffer(k))]
    assert changed and all(".ascale_" in k for k in changed), changed
    # block 0's dense fc reads the numeric features: its range is the mean of batch maxima
    order = np.random.default_rng(1).permutation(len(criteo))
    maxima = [np.abs(criteo.dense[order[k * 50:(k + 1) * 50]]).max() for k in range(3)]
    assert float(recal.dense_ops[0].ascale_x) == pytest.approx(np.mean(maxima) / qmax(8),
                                                                rel=1e-5)
    assert float(plain.dense_ops[0].ascale_x) != pytest.approx(np.mean(maxima) / qmax(8),
                                                                rel=1e-3)


@pytest.mark.parametrize("weights", ["head", "all"])
def test_finetune_trains_the_head_or_every_weight(trained, criteo, weights):
    arch = SPACE.sample(4)
    before = dict(trained.subnet(arch).named_parameters())
    tuned = finetune(trained.subnet(arch), criteo, steps=5, seed=0, weights=weights)
    moved = {k for k, v in tuned.named_parameters() if not torch.equal(v, before[k])}
    assert moved >= {"head.weight", "head.bias"}
    assert (moved == {"head.weight", "head.bias"}) == (weights == "head"), moved


def test_unknown_finetune_weights_are_refused(trained, criteo):
    with pytest.raises(PimcError, match="unknown fine-tune weights 'every'; accepted: head, all"):
        finetune(trained.subnet(SPACE.sample(4)), criteo, steps=1, weights="every")


def test_scratch_training_calibrates_quantised_activations(criteo):
    arch = SPACE.sample(5)  # every operator of "tiny" is quantised
    model = train_scratch(SPACE, arch, criteo, steps=20, batch_size=64)
    assert all(float(op.ascale_x) > 1e-6 for op in model.dense_ops)
    assert np.std(predict(model, criteo)) > 1e-3
    # the trap it avoids: a fresh supernet's subnet has zero scales and learns a constant
    naive = fit(SuperNet(SPACE, criteo.table_sizes, seed=0).subnet(arch), criteo, 20,
                batch_size=64)
    assert np.std(predict(naive, criteo)) < 1e-6
