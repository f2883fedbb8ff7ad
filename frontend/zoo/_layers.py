"""Layers the zoo models share: MLPs, per-field embedding tables, pairwise interactions."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["mlp", "FieldEmbedding", "pairwise_dots", "fm_term"]


def mlp(fan_in: int, sizes: tuple[int, ...], last_act: bool = True) -> nn.Sequential:
    """Linear layers with ReLU between them (and after the last when `last_act`)."""
    layers: list[nn.Module] = []
    for i, n in enumerate(sizes):
        layers.append(nn.Linear(fan_in, n))
        if last_act or i < len(sizes) - 1:
            layers.append(nn.ReLU())
        fan_in = n
    return nn.Sequential(*layers)


class FieldEmbedding(nn.Module):
    """One table per categorical field: ids [B, F] -> vectors [B, F, dim].

    With `bags`, each table is an `nn.EmbeddingBag(mode="sum")` fed one id per bag (the DLRM
    reference layout: indices plus offsets); otherwise an `nn.Embedding`.
    """

    def __init__(self, table_sizes: tuple[int, ...], dim: int, bags: bool = False) -> None:
        super().__init__()
        self.bags = bags
        make = (lambda n: nn.EmbeddingBag(n, dim, mode="sum")) if bags else \
            (lambda n: nn.Embedding(n, dim))
        self.tables = nn.ModuleList(make(n) for n in table_sizes)
        for t in self.tables:
            nn.init.uniform_(t.weight, -0.05, 0.05)

    def forward(self, sparse: torch.Tensor) -> torch.Tensor:
        if not self.bags:
            return torch.stack([t(sparse[:, j]) for j, t in enumerate(self.tables)], dim=1)
        offsets = torch.arange(sparse.shape[0], dtype=torch.long)
        return torch.stack([t(sparse[:, j], offsets) for j, t in enumerate(self.tables)], dim=1)


def pairwise_dots(tokens: torch.Tensor) -> torch.Tensor:
    """DLRM's interaction: dot products of every pair of tokens (strict lower triangle),
    [B, n, d] -> [B, n(n-1)/2], pairs in row-major order."""
    n = int(tokens.shape[1])  # static: the token count never depends on the batch
    z = torch.bmm(tokens, tokens.transpose(1, 2)).reshape(tokens.shape[0], n * n)
    rows, cols = np.tril_indices(n, -1)  # numpy: the legacy exporter lacks tril_indices
    return z[:, torch.from_numpy(rows * n + cols)]


def fm_term(tokens: torch.Tensor) -> torch.Tensor:
    """The factorisation machine's second-order term: [B, n, d] -> [B, 1]."""
    square_of_sum = tokens.sum(dim=1).pow(2)
    sum_of_square = tokens.pow(2).sum(dim=1)
    return 0.5 * (square_of_sum - sum_of_square).sum(dim=1, keepdim=True)
