"""The search space: its size, canonical JSON and hash, and sample/mutate/crossover validity."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontend.space import SPACES, Arch, SearchSpace, get_space
from ir.errors import PimcError

ROOT = Path(__file__).resolve().parents[2]
SPACE_NAMES = sorted(SPACES)
seeds = st.integers(0, 2**32 - 1)


def test_space_size_matches_the_literature():
    nasrec = get_space("nasrec")
    assert 42 <= nasrec.log10_size(precision=False) <= 45   # NASRec's full space: ~1e44
    assert nasrec.log10_size(precision=True) > 54            # AutoRAC: more than 1e54
    assert get_space("nasrec-float").log10_size() == pytest.approx(
        nasrec.log10_size(precision=False))


def test_space_size_counts_every_choice():
    s = SearchSpace(num_blocks=2, dense_widths=(8, 16), sparse_widths=(4,), bits=(4, 8),
                    dense_ops=("fc", "sum"), sparse_ops=("efc",))
    per_block = 2 * 1 * 2 * 1 * 2 * (4 * 4)   # ops x widths x merge x precisions
    # block 1 reads output 0 only; block 2 one of 3 non-empty subsets of {0, 1}, twice
    expected = 2 * per_block * per_block * 3 * 3
    assert s.log10_size() == pytest.approx(math.log10(expected))


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(SPACE_NAMES), seed=seeds)
def test_sample_mutate_crossover_stay_legal(name, seed):
    space = get_space(name)
    rng = random.Random(seed)
    a, b = space.sample(rng), space.sample(rng)
    for arch in (a, space.mutate(a, rng), space.crossover(a, b, rng),
                 space.mutate(space.crossover(a, b, rng), rng)):
        space.validate(arch)
        assert Arch.from_json(arch.to_json()) == arch


@settings(max_examples=40, deadline=None)
@given(seed=seeds)
def test_mutate_changes_at_most_one_choice(seed):
    space = get_space("nasrec")
    rng = random.Random(seed)
    a = space.sample(rng)
    m = space.mutate(a, rng)
    diffs = [(i, k) for i, (x, y) in enumerate(zip(a.blocks, m.blocks))
             for k in x.to_dict() if x.to_dict()[k] != y.to_dict()[k]]
    assert len(diffs) + (a.fm != m.fm) <= 1


@settings(max_examples=40, deadline=None)
@given(seed=seeds)
def test_crossover_takes_each_block_from_a_parent(seed):
    space = get_space("tiny")
    rng = random.Random(seed)
    a, b = space.sample(rng), space.sample(rng)
    c = space.crossover(a, b, rng)
    assert all(x in (y, z) for x, y, z in zip(c.blocks, a.blocks, b.blocks))


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_hash_is_canonical(seed):
    space = get_space("nasrec")
    a = space.sample(seed)
    assert a.hash() == space.sample(seed).hash() == Arch.from_json(a.to_json()).hash()
    assert len(a.hash()) == 16 and a.to_json() == Arch.from_json(a.to_json()).to_json()
    other = replace(a, fm=not a.fm)
    assert other.hash() != a.hash()


def test_hash_is_stable_across_processes():
    code = ("from frontend.space import get_space; "
            "print(','.join(get_space('nasrec').sample(s).hash() for s in range(5)))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, env={"PYTHONHASHSEED": str(h)}).stdout.strip()
            for h in (1, 2)}
    here = ",".join(get_space("nasrec").sample(s).hash() for s in range(5))
    assert runs == {here}


def test_validate_names_the_bad_choice():
    space = get_space("tiny")
    a = space.sample(0)
    bad = replace(a, blocks=(replace(a.blocks[0], dense_width=999),) + a.blocks[1:])
    with pytest.raises(PimcError, match="block 1: dense_width 999 is not in the space"):
        space.validate(bad)
    bad = replace(a, blocks=a.blocks[:1] + (replace(a.blocks[1], sparse_in=(2,)),) + a.blocks[2:])
    with pytest.raises(PimcError, match="block 2: sparse_in"):
        space.validate(bad)
    with pytest.raises(PimcError, match="unknown search space 'x'; accepted: nasrec"):
        get_space("x")
    with pytest.raises(PimcError, match="not an architecture JSON"):
        Arch.from_json("{}")


def test_live_operators_follow_the_connections():
    space = get_space("tiny")
    a = space.sample(5)
    last = len(a.blocks) - 1
    assert {(last, "dense"), (last, "sparse")} <= a.live_operators()
    chain = replace(a, blocks=tuple(replace(b, dense_in=(i,), sparse_in=(i,), merge=False,
                                            dense_op="fc") for i, b in enumerate(a.blocks)))
    assert chain.live_operators() == {(i, side) for i in range(len(a.blocks))
                                      for side in ("dense", "sparse")}


def test_space_data_and_precision_reader_are_torch_free():
    code = ("import sys, frontend.space, frontend.data, frontend.precision, frontend.synthetic, "
            "frontend.supernet.cli, frontend.zoo; "
            "frontend.data.load_data('synthetic', rows=100); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
