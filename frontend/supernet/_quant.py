"""Fake quantisation with a straight-through estimator, in the form the ONNX export keeps.

`fake_quant(x, scale, bits)` is `clip(round(x / scale), -2^(b-1), 2^(b-1) - 1) * scale`;
32 bits means float (no op). Under autograd it passes the gradient straight through; with
gradients off (evaluation, export) it is exactly the Div, Round, Clip, Mul chain, so the
exported graph and the IR interpreter compute the same numbers as torch.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["FLOAT_BITS", "qmax", "fake_quant", "weight_scale", "quant_weight", "ActRange"]

FLOAT_BITS = 32


def qmax(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def fake_quant(x: torch.Tensor, scale: torch.Tensor, bits: int) -> torch.Tensor:
    """Symmetric signed fake quantisation to `bits` with a per-tensor `scale`."""
    if bits >= FLOAT_BITS:
        return x
    q = torch.clamp(torch.round(x / scale), -qmax(bits) - 1, qmax(bits)) * scale
    if torch.is_grad_enabled() and x.requires_grad:
        return x + (q - x).detach()
    return q


def weight_scale(w: torch.Tensor, bits: int) -> torch.Tensor:
    """The per-tensor scale that maps max|w| to the largest code."""
    return (w.detach().abs().max().clamp_min(1e-8) / qmax(bits)).reshape(())


def quant_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    return w if bits >= FLOAT_BITS else fake_quant(w, weight_scale(w, bits), bits)


class ActRange(nn.Module):
    """The calibrated range of one activation: an exponential moving average of max|x| over
    training batches (PyTorch's MovingAverageMinMaxObserver, symmetric)."""

    def __init__(self, momentum: float = 0.01) -> None:
        super().__init__()
        self.momentum = momentum
        self.register_buffer("amax", torch.zeros(()))
        self.register_buffer("seen", torch.zeros((), dtype=torch.bool))

    def observe(self, x: torch.Tensor) -> None:
        if not self.training or x.numel() == 0:  # an empty batch says nothing of the range
            return
        batch = x.detach().abs().max().reshape(())
        with torch.no_grad():
            if bool(self.seen):
                self.amax.lerp_(batch, self.momentum)
            else:
                self.amax.copy_(batch)
                self.seen.fill_(True)

    def scale(self, bits: int) -> torch.Tensor:
        return (self.amax.clamp_min(1e-8) / qmax(bits)).detach()

    def forward(self, x: torch.Tensor, bits: int) -> torch.Tensor:
        if bits >= FLOAT_BITS:
            return x
        self.observe(x)
        return fake_quant(x, self.scale(bits), bits)
