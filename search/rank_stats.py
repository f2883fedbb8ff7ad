"""How well one score ranks candidates against another: the statistics the search benches
report (Kendall's tau of the loop's score against training alone, and Spearman's rho)."""

from __future__ import annotations

__all__ = ["kendall_tau", "spearman_rho"]


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's tau-a: concordant minus discordant pairs over all pairs (a tie counts 0)."""
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            s += ((a[i] > a[j]) - (a[i] < a[j])) * ((b[i] > b[j]) - (b[i] < b[j]))
    return 2 * s / (n * (n - 1))


def spearman_rho(a: list[float], b: list[float]) -> float:
    """Spearman's rho: the correlation of the two rank orders (ties ranked by position)."""
    import numpy as np

    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])
