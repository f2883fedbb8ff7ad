"""`assign_banks` puts each shard, longest first, onto the least-loaded bank with room for it
(the lowest-numbered on a tie), as a scan of every bank would; a shard no bank has room for
is a one-line error."""

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ir.errors import PimcError
from passes._placement import placement


def _scan(shards, banks: int, bank_bytes: int) -> dict[int, int]:
    """The rule as a scan of every bank for every shard."""
    load, room, out = [0] * banks, [bank_bytes] * banks, {}
    for s in sorted(shards, key=lambda s: (-s.cycles, s.index)):
        fits = [b for b in range(banks) if room[b] >= s.op.size]
        if not fits:
            raise PimcError("fits in no bank")
        bank = min(fits, key=lambda b: (load[b], b))
        load[bank] += s.cycles
        room[bank] -= s.op.size
        out[s.index] = bank
    return out


def _problem(shards, banks: int, bank_bytes: int):
    mesh = SimpleNamespace(banks=banks, bank_bytes=bank_bytes)
    return SimpleNamespace(shards=lambda: shards, mesh=mesh, target=SimpleNamespace(name="t"))


def _shard(i: int, cycles: int, size: int):
    op = SimpleNamespace(size=size, attrs={"shard": i, "op": f"bag{i % 3}"})
    return SimpleNamespace(index=i, cycles=cycles, op=op)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 40)), min_size=1, max_size=60),
       st.integers(1, 12), st.integers(40, 200))
def test_banks_are_those_a_scan_of_every_bank_gives(specs, banks, bank_bytes):
    shards = [_shard(i, c, size) for i, (c, size) in enumerate(specs)]
    original = placement.table_bytes
    placement.table_bytes = lambda op: op.size
    try:
        try:
            want = _scan(shards, banks, bank_bytes)
        except PimcError:
            with pytest.raises(PimcError, match=r"fits in no bank of \d+ bytes"):
                placement.assign_banks(_problem(shards, banks, bank_bytes))
            return
        assert placement.assign_banks(_problem(shards, banks, bank_bytes)) == want
    finally:
        placement.table_bytes = original
