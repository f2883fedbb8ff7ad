"""An OpCoster's caches stay within `CACHE_LIMIT` entries however many primitives it prices
(a search shares one per target across all its candidates), and a price worked out again
after a cache starts over is the price it had."""

import pytest

from targets import coster as coster_module
from targets.coster import OpCoster
from targets.loader import load_target
from targets.primitives import CrossbarMVM, Transfer, VectorOp


def _prims():
    return [CrossbarMVM(r, 16, 8, 8, 4) for r in range(1, 9)] + \
        [Transfer(64 * n, 2) for n in range(1, 9)] + [VectorOp("add", n, 8) for n in (3, 5)]


@pytest.mark.parametrize("preset", ["isaac", "hetero"])
def test_the_caches_start_over_at_their_limit_with_the_same_prices(monkeypatch, preset):
    target = load_target(preset)
    fresh = OpCoster(target)
    want = [(fresh.cost(p), fresh.cycles((p,)), dict(fresh.energy((p,)))) for p in _prims()]
    mvm = _prims()[:8]
    replicated = [fresh.cycles_replicated((p,), (1, 2, 4)) for p in mvm]
    monkeypatch.setattr(coster_module, "CACHE_LIMIT", 5)
    bounded = OpCoster(target)
    for _ in range(2):  # the second round re-prices what the first one's caches dropped
        got = [(bounded.cost(p), bounded.cycles((p,)), dict(bounded.energy((p,))))
               for p in _prims()]
        assert got == want
        assert [bounded.cycles_replicated((p,), (1, 2, 4)) for p in mvm] == replicated
        assert max(map(len, (bounded._cache, bounded._energy, bounded._replicated))) <= 5
    # below the limit nothing is dropped: a second pricing is the cached object itself
    monkeypatch.setattr(coster_module, "CACHE_LIMIT", 1000)
    kept = OpCoster(target)
    first = [kept.cost(p) for p in _prims()]
    assert all(kept.cost(p) is hit for p, hit in zip(_prims(), first))
