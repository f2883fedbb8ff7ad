"""The search loop's own checks (`EvalOptions.check`, `pimc search --loop-check`): a model
that maps right gets the same figures checked or not; the level is checked and keys the cache.
(A model that maps to wrong numbers: test_functional_fails_closed.py.)"""

from pathlib import Path

import pytest

from ir.errors import PimcError
from search.evaluate import EvalOptions, Setup, cache_key, loop_cost

DLRM = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


@pytest.mark.parametrize("level", ["final", "full"])
def test_a_right_mapping_gets_the_same_figures_checked(level):
    plain = loop_cost(str(DLRM), "isaac", EvalOptions(batch=8))
    assert loop_cost(str(DLRM), "isaac", EvalOptions(batch=8, check=level)) == plain


def test_an_unknown_check_is_refused():
    with pytest.raises(PimcError, match="loop check 'always'; accepted: none, final, full"):
        EvalOptions(check="always")


def test_the_check_is_part_of_the_cache_key():
    """A record scored unchecked is not a checked one: a study resumed with another
    --loop-check compiles its candidates again."""
    keys = {cache_key(Setup("ckpt", "d", "synthetic", options=EvalOptions(check=level)),
                      "{}", "t") for level in ("none", "final", "full")}
    assert len(keys) == 3
