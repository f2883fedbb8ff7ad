"""Standalone subnets with inherited weights, their evaluation, and ONNX export."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from frontend.space import Arch
from frontend.supernet._ops import dense_apply, run_network, sparse_apply
from frontend.supernet._quant import FLOAT_BITS, fake_quant, weight_scale

if TYPE_CHECKING:  # the supernet module imports this one; a subnet only reads its weights
    from frontend.supernet.model import SuperNet

__all__ = ["Subnet", "OpModule", "export"]


class OpModule(nn.Module):
    """One operator of a subnet: its own weight slices, fixed weight and activation scales."""

    def __init__(self, kind: str, weights: dict, bits: tuple[int, int],
                 act_scales: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.kind, (self.w_bits, self.a_bits) = kind, bits
        self.w = nn.ParameterDict({n: nn.Parameter(t.detach().clone())
                                   for n, t in weights.items()})
        for n, t in weights.items():
            if t.dim() == 2 and self.w_bits < FLOAT_BITS:
                self.register_buffer(f"wscale_{n}", weight_scale(t, self.w_bits))
        for k, s in act_scales.items():
            self.register_buffer(f"ascale_{k}", s.detach().clone())

    def aq(self, t: torch.Tensor, key: str) -> torch.Tensor:
        if self.a_bits >= FLOAT_BITS:
            return t
        return fake_quant(t, getattr(self, f"ascale_{key}"), self.a_bits)

    def wq(self, w: torch.Tensor, name: str) -> torch.Tensor:
        if self.w_bits >= FLOAT_BITS:
            return w
        return fake_quant(w, getattr(self, f"wscale_{name}"), self.w_bits)


class Subnet(nn.Module):
    """The network of one architecture, with weights copied from a supernet."""

    def __init__(self, supernet: SuperNet, arch: Arch) -> None:
        super().__init__()
        supernet.space.validate(arch)
        self.arch_json = arch.to_json()
        self.arch = arch
        self.num_dense = supernet.num_dense
        self.embed = copy.deepcopy(supernet.embed)
        self.dense_ops, self.sparse_ops = nn.ModuleList(), nn.ModuleList()
        with torch.no_grad():
            for i, block in enumerate(arch.blocks):
                dense_w, sparse_w = supernet.block_weights(arch, i)
                r, (_, da), (_, sa) = supernet.ranges[i], block.dense_bits, block.sparse_bits
                self.dense_ops.append(OpModule(block.dense_op, dense_w, block.dense_bits, {
                    "x": r["dx"].scale(da), "t": r["dt"].scale(da)}))
                self.sparse_ops.append(OpModule(block.sparse_op, sparse_w, block.sparse_bits, {
                    "x": r["sx"].scale(sa), "t": r["st"].scale(sa)}))
            w, b = supernet.head_weights(arch)
            self.head = nn.Linear(w.shape[1], 1)
            self.head.weight.copy_(w)
            self.head.bias.copy_(b)

    def _dense(self, i: int, parts, toks):
        op, b = self.dense_ops[i], self.arch.blocks[i]
        return dense_apply(op.kind, dict(op.w), parts, toks, b.dense_width, op.aq, op.wq)

    def _sparse(self, i: int, x, toks):
        op, b = self.sparse_ops[i], self.arch.blocks[i]
        return sparse_apply(op.kind, dict(op.w), x, toks, b.merge, op.aq, op.wq)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        head = lambda d, t: self.head(torch.cat([d, t.flatten(1)], dim=1))  # noqa: E731
        logit = run_network(dense, self.embed(sparse), self.arch, self._dense, self._sparse, head)
        return torch.sigmoid(logit)

    @property
    def quantised(self) -> bool:
        return any(min(b.dense_bits + b.sparse_bits) < FLOAT_BITS for b in self.arch.blocks)


def export(arch_or_model: Arch | nn.Module, path: str | Path | None = None,
           supernet: SuperNet | None = None, exporter: str = "legacy", batch: int = 2,
           num_dense: int = 13):
    """Export a subnet (or an `Arch`, taking weights from `supernet`) to ONNX; returns the
    onnx.ModelProto and writes `path` when given (`num_dense` for models that do not say
    it). See `frontend.supernet` for the precision
    convention the graph follows."""
    from frontend.zoo.export import export_onnx
    from ir.errors import PimcError

    model = arch_or_model
    if isinstance(arch_or_model, Arch):
        if supernet is None:
            raise PimcError("exporting an Arch needs the supernet that holds its weights")
        model = Subnet(supernet, arch_or_model)
    dense = torch.zeros(batch, getattr(model, "num_dense", num_dense), dtype=torch.float32)
    sparse = torch.zeros(batch, len(model.embed.tables), dtype=torch.long)
    fold = not getattr(model, "quantised", False)
    return export_onnx(model, (dense, sparse), exporter, path, fold=fold)


