"""CTR metrics: logloss and AUC (numpy, torch-free)."""

from __future__ import annotations

import numpy as np

__all__ = ["logloss", "auc", "constant_logloss"]


def logloss(label: np.ndarray, prob: np.ndarray, eps: float = 1e-7) -> float:
    """Mean binary cross-entropy."""
    p = np.clip(np.asarray(prob, np.float64).reshape(-1), eps, 1 - eps)
    y = np.asarray(label, np.float64).reshape(-1)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def constant_logloss(label: np.ndarray) -> float:
    """The logloss of the best constant predictor (the positive rate)."""
    y = np.asarray(label, np.float64).reshape(-1)
    return logloss(y, np.full_like(y, y.mean()))


def auc(label: np.ndarray, prob: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); 0.5 with one class."""
    y = np.asarray(label).reshape(-1) > 0.5
    p = np.asarray(prob, np.float64).reshape(-1)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return 0.5
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sorted_p = p[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))
