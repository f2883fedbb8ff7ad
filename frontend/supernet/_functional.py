"""The operators of the space as functions of their (already sliced) weights.

The supernet calls them with slices of its full-width weights; a subnet's modules call them
with the slices they own. So both compute the same numbers, by construction.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from frontend.supernet._quant import fake_quant
from frontend.zoo._layers import pairwise_dots

__all__ = ["qlinear", "pairwise_dots", "token_linear", "attention", "padded_sum", "fit_width"]


def qlinear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, w_bits: int,
            w_scale: torch.Tensor | None) -> torch.Tensor:
    """x @ w.T + b with w fake-quantised (x is quantised by the caller, once per op)."""
    if w_scale is not None:
        w = fake_quant(w, w_scale, w_bits)
    return F.linear(x, w, b)


def token_linear(tokens: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The embedded FC: a linear map over the token axis, [B, t, e] -> [B, t', e]."""
    return torch.matmul(w, tokens) + b.unsqueeze(1)


def fit_width(x: torch.Tensor, width: int) -> torch.Tensor:
    """The first `width` columns, zero-padded when x is narrower (NASRec's truncation)."""
    if x.shape[1] >= width:
        return x[:, :width]
    return F.pad(x, (0, width - x.shape[1]))


def padded_sum(parts: list[torch.Tensor], width: int) -> torch.Tensor:
    """The sum operator: every input truncated or zero-padded to `width`, then added."""
    out = fit_width(parts[0], width)
    for p in parts[1:]:
        out = out + fit_width(p, width)
    return out


def attention(tokens: torch.Tensor, q: torch.Tensor, k: torch.Tensor,
              v: torch.Tensor) -> torch.Tensor:
    """Single-head self-attention over tokens with a residual and ReLU (AutoInt's layer)."""
    scores = torch.matmul(tokens, q.T) @ torch.matmul(tokens, k.T).transpose(1, 2)
    weights = torch.softmax(scores / math.sqrt(tokens.shape[2]), dim=-1)
    return torch.relu(weights @ torch.matmul(tokens, v.T) + tokens)
