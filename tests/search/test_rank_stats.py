"""The rank statistics the search benches report, on orders whose values are known."""

import pytest

from search.rank_stats import kendall_tau, spearman_rho


def test_same_and_reversed_orders():
    a = [0.3, 0.1, 0.7, 0.5]
    assert kendall_tau(a, a) == 1.0 and spearman_rho(a, a) == pytest.approx(1.0)
    rev = [-x for x in a]
    assert kendall_tau(a, rev) == -1.0 and spearman_rho(a, rev) == pytest.approx(-1.0)


def test_one_swapped_pair_and_a_tie():
    # 6 pairs, one discordant: (5 - 1) / 6
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    # three concordant, two discordant, and a tied pair that counts neither way: (3 - 2) / 6
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 2]) == pytest.approx(1 / 6)
