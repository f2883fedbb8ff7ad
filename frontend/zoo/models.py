"""The model zoo, written here: DLRM, DCNv2, DeepFM and AutoInt.

Every model takes `dense` [B, num_dense] float32 and `sparse` [B, num_fields] int64 (one id
per field) and returns the click probability [B, 1]. With `num_dense=0` (a data set with no
numeric feature, e.g. MovieLens without age and year) a model has no dense path at all and
ignores `dense`, so that no zero-width tensor reaches the export or the compiler.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from frontend.zoo._layers import FieldEmbedding, fm_term, mlp, pairwise_dots
from ir.errors import PimcError

__all__ = ["LogisticRegression", "DLRM", "DCNv2", "DeepFM", "AutoInt"]


class LogisticRegression(nn.Module):
    """The baseline: a weight per dense feature and per categorical id, then a sigmoid."""

    def __init__(self, table_sizes: tuple[int, ...], num_dense: int = 13, dim: int = 1) -> None:
        super().__init__()
        self.ids = FieldEmbedding(table_sizes, 1)
        self.linear = nn.Linear(num_dense, 1) if num_dense else None
        # without numeric features the intercept lives here, not in the linear layer
        self.bias = nn.Parameter(torch.zeros(1)) if not num_dense else None

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        first = self.linear(dense) if self.linear is not None else self.bias
        return torch.sigmoid(first + self.ids(sparse).sum(dim=1))


class DLRM(nn.Module):
    """Bottom MLP, embedding bags, dot interaction, top MLP (Naumov et al., 2019)."""

    def __init__(self, table_sizes: tuple[int, ...], num_dense: int = 13, dim: int = 16,
                 bottom: tuple[int, ...] = (64,), top: tuple[int, ...] = (64, 32)) -> None:
        super().__init__()
        n = len(table_sizes) + (num_dense > 0)
        if n < 2:
            raise PimcError(f"DLRM needs two inputs to interact; the data has {num_dense} "
                            f"numeric and {len(table_sizes)} categorical features")
        self.bottom = mlp(num_dense, (*bottom, dim)) if num_dense else None
        self.embed = FieldEmbedding(table_sizes, dim, bags=True)
        self.top = mlp(dim * (num_dense > 0) + n * (n - 1) // 2, (*top, 1), last_act=False)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(sparse)
        if self.bottom is None:
            return torch.sigmoid(self.top(pairwise_dots(tokens)))
        x = self.bottom(dense)
        tokens = torch.cat([x.unsqueeze(1), tokens], dim=1)
        return torch.sigmoid(self.top(torch.cat([x, pairwise_dots(tokens)], dim=1)))


class _Inputs(nn.Module):
    """Embedded fields plus the dense features projected to one more token: [B, F+1, dim]
    ([B, F, dim] without numeric features)."""

    def __init__(self, table_sizes: tuple[int, ...], num_dense: int, dim: int) -> None:
        super().__init__()
        self.embed = FieldEmbedding(table_sizes, dim)
        self.dense = nn.Linear(num_dense, dim) if num_dense else None
        self.tokens = len(table_sizes) + (num_dense > 0)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        if self.dense is None:
            return self.embed(sparse)
        return torch.cat([self.dense(dense).unsqueeze(1), self.embed(sparse)], dim=1)


class DCNv2(nn.Module):
    """Cross network v2 (full-rank cross layers) beside a deep MLP (Wang et al., 2021)."""

    def __init__(self, table_sizes: tuple[int, ...], num_dense: int = 13, dim: int = 16,
                 cross_layers: int = 2, deep: tuple[int, ...] = (64, 32)) -> None:
        super().__init__()
        self.inputs = _Inputs(table_sizes, num_dense, dim)
        width = self.inputs.tokens * dim
        self.cross = nn.ModuleList(nn.Linear(width, width) for _ in range(cross_layers))
        self.deep = mlp(width, deep)
        self.head = nn.Linear(width + deep[-1], 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        x0 = self.inputs(dense, sparse).flatten(1)
        x = x0
        for layer in self.cross:
            x = x0 * layer(x) + x
        return torch.sigmoid(self.head(torch.cat([x, self.deep(x0)], dim=1)))


class DeepFM(nn.Module):
    """First-order weights, the FM term and a deep MLP over shared embeddings (Guo, 2017)."""

    def __init__(self, table_sizes: tuple[int, ...], num_dense: int = 13, dim: int = 16,
                 deep: tuple[int, ...] = (64, 32)) -> None:
        super().__init__()
        self.inputs = _Inputs(table_sizes, num_dense, dim)
        self.first = FieldEmbedding(table_sizes, 1)
        self.linear = nn.Linear(num_dense, 1) if num_dense else None
        self.deep = mlp(self.inputs.tokens * dim, (*deep, 1), last_act=False)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        tokens = self.inputs(dense, sparse)
        first = self.first(sparse).sum(dim=1)
        if self.linear is not None:
            first = first + self.linear(dense)
        return torch.sigmoid(first + fm_term(tokens) + self.deep(tokens.flatten(1)))


class _SelfAttention(nn.Module):
    """Multi-head self-attention over tokens with a residual projection and ReLU."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.res = (nn.Linear(dim, dim, bias=False) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, n, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(d // h), dim=-1)
        out = (scores @ v).transpose(1, 2).reshape(b, n, d)
        return torch.relu(out + self.res(x))


class AutoInt(nn.Module):
    """Stacked multi-head self-attention over field embeddings (Song et al., 2019)."""

    def __init__(self, table_sizes: tuple[int, ...], num_dense: int = 13, dim: int = 16,
                 layers: int = 2, heads: int = 2) -> None:
        super().__init__()
        self.inputs = _Inputs(table_sizes, num_dense, dim)
        self.attention = nn.Sequential(*(_SelfAttention(dim, heads) for _ in range(layers)))
        self.head = nn.Linear(self.inputs.tokens * dim, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        tokens = self.attention(self.inputs(dense, sparse))
        return torch.sigmoid(self.head(tokens.flatten(1)))
