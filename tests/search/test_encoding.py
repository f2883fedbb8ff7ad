"""Candidates as categorical parameters: every draw encodes to choices and decodes back."""

import random

import pytest

from frontend.space import get_space
from ir.errors import PimcError
from search.encoding import Candidate, Encoding
from search.hardware import HardwareSpace


@pytest.mark.parametrize("space", ["tiny", "nasrec"])
def test_encode_decode_round_trip(space):
    hw = HardwareSpace("isaac", (("chip.tiles", (84, 168)),))
    enc = Encoding(get_space(space), hw)
    choices = enc.choices()
    rng = random.Random(1)
    for _ in range(25):
        cand = Candidate(enc.space.sample(rng), hw.sample(rng))
        params = enc.encode(cand)
        assert set(params) == set(choices)
        assert all(params[k] in choices[k] for k in params)
        assert enc.decode(params) == cand
        assert Candidate.from_json(cand.to_json()) == cand


def test_a_decoded_choice_outside_the_space_is_refused():
    enc = Encoding(get_space("tiny"), HardwareSpace("isaac"))
    params = enc.encode(Candidate(enc.space.sample(0)))
    params["b1.dense_width"] = 9
    with pytest.raises(PimcError, match="dense_width 9"):
        enc.decode(params)
