"""Hot-row replication: with a lookup profile, rows hotter than one shard's share live in every
shard and are served in turn; shards carry their expected share of the lookups, which the
costs charge; the sharded bag computes what the bag did."""

from __future__ import annotations

import numpy as np
import pytest

from ir.core import Graph, Module, Value
from ir.dialects import lookup, pim, rec
from ir.errors import PimcError
from ir.interp import run
from ir.types import TensorType
from passes._costing.op_primitives import gather_lookups, gather_shares
from passes._lowering.embedding import bounds, hot_rows, lookup_counts
from passes.pipeline import parse_pipeline

ROWS, DIM, BATCH, BAG = 64, 4, 16, 8


def _bag(mode: str = "sum", rows: int = ROWS) -> Module:
    ids = Value(TensorType((BATCH, BAG), "i64"), name="ids")
    g = Graph("main", [ids])
    table = np.random.default_rng(1).normal(size=(rows, DIM)).astype(np.float32)
    const = g.append(lookup("nn.constant")([], {"value": table, "pim.unit": "none"}))
    bag = g.append(rec.EmbeddingBag([const.result, ids], {"mode": mode, "pim.unit": "bank"}))
    g.outputs, g.output_names = [bag.result], ["y"]
    return Module("m", [g], {"pim.target": "hetero", "pim.batch": BATCH})


def _skewed(seed: int = 0) -> np.ndarray:
    """Row 5 is a third of all lookups, row 40 a sixth; the rest uniform."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, ROWS, size=(BATCH, BAG))
    pick = rng.random((BATCH, BAG))
    return np.where(pick < 1 / 3, 5, np.where(pick < 1 / 2, 40, ids)).astype(np.int64)


def _tile(module: Module, tmp_path, shards: int, profile: dict | None) -> Module:
    spec = f"tile{{shards={shards}}}"
    if profile is not None:
        np.savez(tmp_path / "profile.npz", **profile)
        spec = f"tile{{shards={shards},profile={tmp_path / 'profile.npz'}}}"
    for p in parse_pipeline(spec):
        p.apply(module)
    return module


def test_hot_rows_are_those_above_half_a_shards_share():
    counts = np.array([30, 1, 1, 1, 12, 1, 1, 1, 1, 1])  # total 50
    assert hot_rows(counts, 2, 10).tolist() == [0]  # half of a half is 12.5
    assert hot_rows(counts, 3, 10).tolist() == [0, 4]  # half of a third is 8.3
    assert hot_rows(counts, 1, 10).size == 0 and hot_rows(None, 4, 10).size == 0
    assert hot_rows(counts, 3, 3).tolist() == [0]  # only rows of the table


def test_the_profile_is_the_rows_looked_up(tmp_path):
    module, ids = _bag(), _skewed()
    counts = lookup_counts(module.main, {"ids": ids})
    assert list(counts) == ["emb0"]
    assert counts["emb0"].tolist() == np.bincount(ids.ravel(), minlength=ROWS).tolist()


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_sharded_with_hot_rows_computes_the_bag(tmp_path, mode):
    ids = _skewed()
    want = run(_bag(mode).main, {"ids": ids})[0]
    profile = lookup_counts(_bag(mode).main, {"ids": ids})
    module = _tile(_bag(mode), tmp_path, 4, profile)
    gathers = module.main.find(pim.Gather)
    assert len(gathers) == 4
    assert all(list(g.attrs["hot"]) == [5, 40] and g.attrs["turns"] == 4 for g in gathers)
    assert all(g.operands[0].type.shape[0] == g.attrs["rows"][1] - g.attrs["rows"][0] + 2
               for g in gathers)
    for seed in range(3):  # other batches than the profiled one, hot rows included
        feed = {"ids": _skewed(seed + 7)}
        np.testing.assert_allclose(run(module.main, feed)[0],
                                   run(_bag(mode).main, feed)[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(run(module.main, {"ids": ids})[0], want, rtol=1e-6, atol=1e-6)


def test_replication_spreads_the_hot_lookups_and_the_costs_see_it(tmp_path):
    ids = _skewed()
    profile = lookup_counts(_bag().main, {"ids": ids})
    total = int(profile["emb0"].sum())

    def slowest(module):
        ops = module.main.ops
        shares = gather_shares(ops)
        return max(gather_lookups(g, shares[id(g)]) for g in module.main.find(pim.Gather))

    replicated = _tile(_bag(), tmp_path, 4, profile)
    shares = [g.attrs["pim.freq"] for g in replicated.main.find(pim.Gather)]
    assert sum(shares) == pytest.approx(1.0) and max(shares) < 0.32
    # near misses: without a profile the costs take uniform rows (blind to the hot rows);
    # ranges balanced by the profile alone leave a hot row's whole load on one shard
    uniform = _tile(_bag(), tmp_path, 4, None)
    assert all("pim.freq" not in g.attrs for g in uniform.main.find(pim.Gather))
    ranges = bounds(ROWS, 4, profile["emb0"])
    worst = max(int(profile["emb0"][a:b].sum()) for a, b in ranges) / total
    assert worst > 0.33 and max(shares) < worst
    truth = max(int(profile["emb0"][a:b].sum()) for a, b in bounds(ROWS, 4))  # uniform ranges
    assert slowest(replicated) < truth and slowest(uniform) < truth  # uniform's cost is blind


def test_a_profile_that_does_not_fit_the_table_is_refused(tmp_path):
    for bad in (np.ones(ROWS - 1), -np.ones(ROWS), np.full(ROWS, np.nan), np.ones((2, ROWS))):
        with pytest.raises(PimcError, match=r"profile .* entry 'emb0' .* accepted: 64"):
            _tile(_bag(), tmp_path, 4, {"emb0": bad})
    _tile(_bag(), tmp_path, 4, {"emb0": np.ones(ROWS)})  # the near miss: one count per row


def test_the_verifier_refuses_a_gather_whose_hot_rows_do_not_fit():
    ids = Value(TensorType((BATCH, BAG), "i64"), name="ids")
    table = Value(TensorType((10, DIM), "f32"), name="t")
    with pytest.raises(PimcError, match="hot rows say 11"):
        pim.Gather([table, ids], {"op": "e", "shard": 0, "rows": [0, 9], "hot": [3, 4],
                                  "turns": 2})
    with pytest.raises(PimcError, match="turns"):
        pim.Gather([table, ids], {"op": "e", "shard": 2, "rows": [0, 8], "hot": [3, 4],
                                  "turns": 2})
    pim.Gather([table, ids], {"op": "e", "shard": 1, "rows": [0, 8], "hot": [3, 4],
                              "turns": 2})


def test_a_shard_has_the_bags_result_and_its_refusals_name_the_shard():
    """pim.gather's result type is the embedding bag's rule on its own operands and mode;
    what the rule refuses is refused naming pim.gather."""
    table = Value(TensorType((10, DIM), "f32"), name="t")
    for mode, ids_shape, want in [("sum", (BATCH, BAG), (BATCH, DIM)),
                                  ("none", (BATCH, BAG), (BATCH, BAG, DIM))]:
        ids = Value(TensorType(ids_shape, "i64"), name="ids")
        shard = pim.Gather([table, ids], {"op": "e", "shard": 0, "rows": [0, 10],
                                          "mode": mode})
        assert shard.result.type == TensorType(want, "f32")
        assert shard.result.type == rec.EmbeddingBag([table, ids], {"mode": mode}).result.type
    floats = Value(TensorType((BATCH, BAG), "f32"), name="ids")
    with pytest.raises(PimcError, match="pim.gather: indices must be integers"):
        pim.Gather([table, floats], {"op": "e", "shard": 0, "rows": [0, 10]})


def test_replicated_shards_round_trip_through_the_ir_files(tmp_path):
    from ir.io import load, save

    ids = _skewed()
    module = _tile(_bag(), tmp_path, 4, lookup_counts(_bag().main, {"ids": ids}))
    save(module, tmp_path / "m.pir")
    back = load(tmp_path / "m.pir")
    got = [(list(g.attrs["hot"]), g.attrs["turns"], g.attrs["pim.freq"])
           for g in back.main.find(pim.Gather)]
    assert got == [(list(g.attrs["hot"]), g.attrs["turns"], g.attrs["pim.freq"])
                   for g in module.main.find(pim.Gather)]
    np.testing.assert_array_equal(run(back.main, {"ids": ids})[0],
                                  run(module.main, {"ids": ids})[0])


def test_one_shard_holds_no_copies_and_all_the_lookups(tmp_path):
    """Asked for 4 shards of a one-row table (its row is hot): one shard, no copies, all the
    lookups; and one shard asked for outright."""
    ids = np.zeros((BATCH, BAG), np.int64)
    (gather,) = _tile(_bag(rows=1), tmp_path, 4, {"emb0": np.array([BATCH * BAG])}).main.find(
        pim.Gather)
    assert "hot" not in gather.attrs and gather.attrs["pim.freq"] == pytest.approx(1.0)
    np.testing.assert_array_equal(run(_tile(_bag(rows=1), tmp_path, 4, None).main,
                                      {"ids": ids})[0], run(_bag(rows=1).main, {"ids": ids})[0])
    profile = lookup_counts(_bag().main, {"ids": _skewed()})
    (gather,) = _tile(_bag(), tmp_path, 1, profile).main.find(pim.Gather)
    assert "hot" not in gather.attrs and gather.attrs["pim.freq"] == pytest.approx(1.0)
