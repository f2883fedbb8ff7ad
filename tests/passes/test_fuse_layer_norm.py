"""layer-norm rule: the written-out spellings of a normalisation over the last axis become one
nn.layer_norm (scale 1/sqrt(k), epsilon folded), numerically the same; near misses stay and say
why; torch-rechub's DIN (Dice's normalisation) fuses on the real exports."""

from __future__ import annotations

import numpy as np
import pytest
from fixture_fusion import entries_of, fused
from near_miss import assert_stays
from rec_pass_helpers import Builder, assert_equivalent, op_names

from passes.fuse_interactions import FuseInteractions

FUSE = FuseInteractions(rules="layer-norm")
B, D = 5, 8


def _f(v):
    return np.asarray(v, np.float32)


def _norm(spelling: str = "mean_out", near: str = ""):
    """(x - mean(x)) / sqrt(S) over the last axis of x [B, D], S spelled as asked."""
    b = Builder()
    x, y = b.arg("x", (B, D)), b.arg("y", (B, D))
    keep = spelling == "mean_keepdims"
    mu = b.op("nn.reduce_mean", y if near == "mean_of_other" else x,
              axes=[0 if near == "mean_over_rows" else 1], keepdims=keep)
    if not keep:
        mu = b.op("nn.unsqueeze", mu, axes=[0 if near == "mean_over_rows" else 1])
    c = b.op("nn.sub", x, mu)
    if spelling == "mul" or near == "square_of_other":
        sq = b.op("nn.mul", c, x if near == "square_of_other" else c)
    else:
        sq = b.op("nn.pow", c, b.const(_f(4.0 if near == "fourth_power" else 2.0)))
    inside = spelling in ("sum_in",)
    if inside:
        eps = np.full(D, 1e-3, np.float32) if near == "eps_per_column" else _f(1e-3)
        sq = b.op("nn.add", sq, b.const(eps))
    reduce = "nn.reduce_sum" if spelling.startswith("sum") else "nn.reduce_mean"
    s = b.op(reduce, sq, axes=[1], keepdims=True)
    if not inside:
        s = b.op("nn.add", s, b.const(_f(1e-3)))
    return b.module(b.op("nn.div", c, b.op("nn.sqrt", s)))


@pytest.mark.parametrize("spelling, k, eps", [
    ("mean_out", 1, 1e-3), ("mean_keepdims", 1, 1e-3), ("mul", 1, 1e-3),
    ("sum_in", D, 1e-3), ("sum_out", D, 1e-3 / D),
])
def test_spellings_are_one_layer_norm(spelling, k, eps):
    m = _norm(spelling)
    assert assert_equivalent(m, FUSE.apply)
    assert op_names(m) == ["nn.constant", "nn.layer_norm"]
    ln = m.main.ops[-1]
    assert ln.attrs["epsilon"] == pytest.approx(eps)
    np.testing.assert_allclose(ln.operands[1].owner.attrs["value"], np.full(D, k ** -0.5),
                               rtol=1e-6)


@pytest.mark.parametrize("spelling, near, reason", [
    ("mean_out", "mean_over_rows", "numerator is not x - a row value"),
    ("mean_out", "mean_of_other", "not the mean of x over its last axis"),
    ("mean_out", "square_of_other", "mul is not the centred input squared"),
    ("mean_out", "fourth_power", "pow is not the centred input squared"),
    ("sum_in", "eps_per_column", "eps inside the reduction is not a scalar constant"),
])
def test_near_misses_stay_and_say_why(spelling, near, reason):
    assert_stays(_norm(spelling, near), "layer-norm", "nn.layer_norm", reason, FUSE)


def test_cost_counts_the_normalisation():
    from passes._costing.op_primitives import primitives
    from targets import load_target

    m = _norm()
    FUSE.apply(m)
    (prim,) = primitives(m.main.ops[-1], load_target("isaac"))
    assert (prim.kind, prim.elements) == ("mac", 5 * B * D)


@pytest.mark.parametrize("entry", entries_of("din"), ids=lambda e: e["file"])
def test_din_dice_normalisations_fuse(entry):
    names = op_names(fused(entry))
    assert names.count("nn.layer_norm") == 2
    assert not {"nn.sqrt", "nn.div", "nn.reduce_mean"} & set(names)
