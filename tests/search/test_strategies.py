"""The strategies' draws: the corner designs first, one-choice neighbour mutations, no
re-drawn design, and the same trials after a stop and a resume. The study loop runs for
real on SQLite; the evaluation is a stand-in that scores a candidate from its choices."""

import concurrent.futures as cf
import hashlib
import random

import pytest

from frontend.space import Arch, get_space
from search.encoding import Candidate, Encoding
from search.evaluate import Setup
from search.hardware import HardwareSpace
from search.strategies import Strategy, effective, mutate
from search.study import SearchConfig, open_study, run_study

SPACE = get_space("tiny")
HW = (("chip.tiles", (84, 168)),)


class _Scored:
    """An executor that scores a candidate without a supernet or a compile: latency grows
    with its live widths and bits, logloss falls with them, plus a fixed per-design term."""

    def submit(self, fn, setup, cand_json, target_yaml, digest) -> cf.Future:
        cand = Candidate.from_json(cand_json)
        size = 0.0
        for i, side in cand.arch.live_operators():
            b = cand.arch.blocks[i]
            width, bits = ((b.dense_width, b.dense_bits) if side == "dense"
                           else (b.sparse_width * 3, b.sparse_bits))
            size += width * bits[0] * bits[1] / 256
        noise = random.Random(effective(cand)).random() * 0.05
        future: cf.Future = cf.Future()
        key = hashlib.sha256(f"{effective(cand)}{digest}".encode()).hexdigest()[:24]
        future.set_result({"key": key,
                           "status": "ok", "candidate": cand_json,
                           "logloss": 0.6 - 0.1 * size / (size + 20) + noise,
                           "latency_s": 1e-6 * (size + 3 * cand.arch.fm)})
        return future

    def close(self) -> None:
        pass


def _config(name, budget, seed=0, lag=2, population=6):
    return SearchConfig("tiny", "isaac", ("logloss", "latency"),
                        Strategy(name, seed, population, 2), budget, lag,
                        Setup("none.pt", "0", "movielens:none"), HW)


def _candidates(study):
    return [Candidate.from_json(t.user_attrs["candidate"]) for t in study.get_trials()]


def _run(tmp_path, name, budget, **kw):
    tmp_path.mkdir(parents=True, exist_ok=True)
    return run_study(_config(name, budget, **kw), tmp_path, _Scored(), say=lambda s: None,
                     cache=tmp_path / "cache")


def _is_corner(arch: Arch, big: bool) -> bool:
    pick = max if big else min
    bits = (pick(SPACE.bits),) * 2
    return arch.fm == big and all(
        b.dense_width == pick(SPACE.dense_widths) and b.sparse_width == pick(SPACE.sparse_widths)
        and b.dense_bits == bits and b.sparse_bits == bits and b.merge == big
        and b.dense_in == b.sparse_in == (tuple(range(max(0, i - 2), i)) if big else (0,))
        for i, b in enumerate(arch.blocks, start=1))


def test_corners_are_the_smallest_and_largest_designs():
    small, big = SPACE.corners(random.Random(0))
    assert _is_corner(small, False) and _is_corner(big, True)
    assert small.live_operators() == {(2, "dense"), (2, "sparse")}  # the shallowest
    assert len(big.live_operators()) == 6  # the deepest: every operator is live
    SPACE.validate(small)
    SPACE.validate(big)
    b = small.blocks[1]
    near = Arch(small.blocks[:1] + (b.__class__(**{**b.__dict__, "dense_width": 16}),)
                + small.blocks[2:], small.fm)
    assert not _is_corner(near, False)  # one width off the corner is not the corner


@pytest.mark.parametrize("name", ["evolution", "nsga2"])
def test_the_first_two_trials_are_the_corners_and_nsga2_breeds_from_them(tmp_path, name):
    study = _run(tmp_path, name, 12)
    cands = _candidates(study)
    assert _is_corner(cands[0].arch, False) and _is_corner(cands[1].arch, True)
    assert not any(_is_corner(c.arch, False) for c in cands[2:6])  # the rest: random
    if name == "nsga2":
        gens = [t.system_attrs.get("CornerNSGAII:generation") for t in study.get_trials()]
        assert gens[:2] == [0, 0] and max(gens) >= 1  # the corners are parents' candidates


def test_random_does_not_start_from_the_corners(tmp_path):
    cands = _candidates(_run(tmp_path, "random", 2))
    assert not _is_corner(cands[0].arch, False) and not _is_corner(cands[1].arch, True)


def _changes(enc: Encoding, a: Candidate, b: Candidate) -> dict:
    pa, pb = enc.encode(a), enc.encode(b)
    return {k: (pa[k], pb[k]) for k in pa if pa[k] != pb[k]}


def _one_step(enc: Encoding, key: str, old, new) -> bool:
    """A width moved to a neighbouring value, one of the two precisions by one step, or any
    other choice changed."""
    field = key.partition(".")[2]
    if field.endswith("_width"):
        values = enc.choices()[key]
        return abs(values.index(old) - values.index(new)) == 1
    if field.endswith("_bits"):
        bits = sorted(SPACE.bits)
        steps = [abs(bits.index(int(x)) - bits.index(int(y)))
                 for x, y in zip(old.split("x"), new.split("x"))]
        return sorted(steps) == [0, 1]
    return old != new


def test_a_mutation_changes_exactly_one_choice_by_one_step():
    enc = Encoding(SPACE, HardwareSpace("isaac", HW))
    rng, kinds = random.Random(3), set()
    for _ in range(400):
        parent = Candidate(SPACE.sample(rng), enc.hw_space.sample(rng))
        child = mutate(enc, rng, parent)
        SPACE.validate(child.arch)
        diff = _changes(enc, parent, child)
        assert len(diff) <= 1
        for key, (old, new) in diff.items():
            assert _one_step(enc, key, old, new), (key, old, new)
            kinds.add(key if key.startswith("hw:") else key.partition(".")[2] or key)
    assert {"dense_width", "sparse_bits", "dense_in", "merge", "fm", "hw:chip.tiles"} <= kinds
    # the checks reject the near misses: two choices changed, a width two steps away
    parent = Candidate(SPACE.corners(random.Random(0))[0], {"chip.tiles": 84})
    block = parent.arch.blocks[0].__class__(**{**parent.arch.blocks[0].__dict__,
                                               "dense_width": 24, "merge": True})
    far = Candidate(Arch((block,) + parent.arch.blocks[1:], parent.arch.fm), parent.hw)
    diff = _changes(enc, parent, far)
    assert len(diff) == 2 and not _one_step(enc, "b1.dense_width", *diff["b1.dense_width"])
    assert not _one_step(enc, "b1.dense_bits", "4x4", "8x8")


@pytest.mark.parametrize("name", ["evolution", "nsga2"])
def test_no_model_is_drawn_twice(tmp_path, name):
    cands = _candidates(_run(tmp_path, name, 30))
    designs = [effective(c) for c in cands]
    assert len(set(designs)) == len(designs)
    # the check sees a child that differs from its parent only in dead code as a repeat
    cand, i = next((c, i) for c in cands for i in range(len(c.arch.blocks))
                   if (i, "dense") not in c.arch.live_operators())
    arch = cand.arch
    other = "sum" if arch.blocks[i].dense_op != "sum" else "fc"
    block = arch.blocks[i].__class__(**{**arch.blocks[i].__dict__, "dense_op": other})
    twin = Candidate(Arch(arch.blocks[:i] + (block,) + arch.blocks[i + 1:], arch.fm), cand.hw)
    assert twin != cand and effective(twin) == effective(cand)
    last = arch.blocks[-1]  # the output block is live: changing it is a new design
    live = last.__class__(**{**last.__dict__, "dense_op": "sum" if last.dense_op != "sum"
                             else "fc"})
    assert effective(Candidate(Arch(arch.blocks[:-1] + (live,), arch.fm), cand.hw)) \
        != effective(cand)


@pytest.mark.parametrize("name", ["evolution", "nsga2"])
def test_a_killed_and_resumed_study_draws_what_an_uninterrupted_one_draws(tmp_path, name,
                                                                          monkeypatch):
    """Killed while drawing trial 8 (trial 7 still running, 8 created but not named): both
    strategies are breeding children by then (population 6)."""
    whole = _candidates(_run(tmp_path / "whole", name, 12, seed=5))
    real = Encoding.suggest

    def killed(self, trial):
        if trial.number == 8:
            raise KeyboardInterrupt
        return real(self, trial)

    monkeypatch.setattr(Encoding, "suggest", killed)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "parts", name, 12, seed=5)
    monkeypatch.setattr(Encoding, "suggest", real)
    states = [t.state.name for t in open_study(_config(name, 12), tmp_path / "parts").trials]
    assert states[7:] == ["RUNNING", "RUNNING"] and len(states) == 9
    resumed = _candidates(_run(tmp_path / "parts", name, 12, seed=5))
    assert [c.to_json() for c in resumed] == [c.to_json() for c in whole]
    other = _candidates(_run(tmp_path / "other", name, 12, seed=6))
    assert [c.to_json() for c in other] != [c.to_json() for c in whole]  # the seed matters
