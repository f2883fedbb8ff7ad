"""The supernet: every choice of a `SearchSpace` in one module with shared weights.

Each block owns full-width weights for every operator kind. A choice uses a slice: output
widths take the first rows; the input columns are laid out in one slot per earlier output
(slot width: that output's largest width), and a choice takes the first columns of the
slots it reads. Token slots work the same way, with one more slot in front for the merged
dense token. Precision choices fake-quantise the sliced weights and the operator's inputs.

With no numeric feature (`num_dense=0`), the dense input (output 0) is the flattened field
embeddings, the deep input of DeepFM and DCN, so every operator reads a non-empty input
(see `run_network`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import nn

from frontend.space import Arch, Block, SearchSpace
from frontend.supernet._ops import (
    DENSE_WEIGHTS,
    MERGE_WEIGHTS,
    SPARSE_WEIGHTS,
    dense_apply,
    run_network,
    sparse_apply,
)
from frontend.supernet._quant import ActRange, quant_weight
from frontend.supernet.subnet import Subnet
from frontend.zoo._layers import FieldEmbedding

__all__ = ["SuperNet", "PathModel", "run_network"]


@lru_cache(maxsize=4096)
def _slot_index(slot_widths: tuple[int, ...], chosen: tuple[int, ...],
                widths: tuple[int, ...], lead: int) -> tuple[int, ...]:
    """Columns of the chosen slots' first `widths` entries (after `lead` leading columns)."""
    offsets = [lead + sum(slot_widths[:j]) for j in range(len(slot_widths))]
    return tuple(c for j, w in zip(chosen, widths) for c in range(offsets[j], offsets[j] + w))


class SuperNet(nn.Module):
    """The weight-sharing supernet of `space` over tables of `table_sizes`."""

    def __init__(self, space: SearchSpace, table_sizes: tuple[int, ...], num_dense: int = 13,
                 seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.space, self.table_sizes, self.num_dense = space, tuple(table_sizes), num_dense
        e, n = space.embed_dim, space.num_blocks
        self.input_width = num_dense or len(table_sizes) * e  # see run_network
        self.dense_slots = (self.input_width,) + (max(space.dense_widths),) * n
        self.token_slots = (len(table_sizes),) + (max(space.sparse_widths),) * n
        self.embed = FieldEmbedding(self.table_sizes, e)
        self.dense_w = nn.ModuleList(self._params(i, DENSE_WEIGHTS, max(space.dense_widths))
                                     for i in range(n))
        self.sparse_w = nn.ModuleList(self._params(i, {**SPARSE_WEIGHTS, "merge": MERGE_WEIGHTS},
                                                   max(space.sparse_widths)) for i in range(n))
        self.ranges = nn.ModuleList(nn.ModuleDict({k: ActRange() for k in ("dx", "dt", "sx", "st")})
                                    for _ in range(n))
        head_in = max(space.dense_widths) + max(space.sparse_widths) * e
        self.head = nn.Linear(head_in, 1)

    def _units(self, i: int, out: int) -> dict:
        return {"out": out, "in": sum(self.dense_slots[:i + 1]), "e": self.space.embed_dim,
                "tok": 1 + sum(self.token_slots[:i + 1])}

    def _params(self, i: int, kinds: dict, out: int) -> nn.ModuleDict:
        units = self._units(i, out)
        fan = max(self.dense_slots[i], self.space.embed_dim)
        made = nn.ModuleDict()
        for kind, weights in kinds.items():
            made[kind] = nn.ParameterDict({
                name: nn.Parameter(torch.empty([units[u] for u in shape]).uniform_(
                    -1 / math.sqrt(fan), 1 / math.sqrt(fan)))
                for name, shape in weights.items()})
        return made

    def widths(self, arch: Arch) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The dense width and the token count of every output (0 is the input)."""
        dense = (self.input_width, *(b.dense_width for b in arch.blocks))
        tokens = (len(self.table_sizes), *(b.sparse_width for b in arch.blocks))
        return dense, tokens

    def _slice(self, w: torch.Tensor, shape: tuple, cut: dict) -> torch.Tensor:
        for axis, unit in enumerate(shape):
            if isinstance(cut.get(unit), int):
                w = w.narrow(axis, 0, cut[unit])
            elif unit in cut:
                w = w.index_select(axis, cut[unit])
        return w

    def cuts(self, arch: Arch, i: int) -> tuple[dict, dict]:
        """How block i's weights are sliced for `arch`: (dense op cut, sparse op cut)."""
        block: Block = arch.blocks[i]
        dw, tw = self.widths(arch)
        cols = _slot_index(self.dense_slots[:i + 1], block.dense_in,
                           tuple(dw[j] for j in block.dense_in), 0)
        toks = _slot_index(self.token_slots[:i + 1], block.sparse_in,
                           tuple(tw[j] for j in block.sparse_in), 1)
        toks = ((0,) if block.merge else ()) + toks
        as_index = lambda c: torch.tensor(c, dtype=torch.long)  # noqa: E731
        return ({"out": block.dense_width, "in": as_index(cols)},
                {"out": block.sparse_width, "in": as_index(cols), "tok": as_index(toks)})

    def block_weights(self, arch: Arch, i: int) -> tuple[dict, dict]:
        """Block i's sliced weights for `arch`: (dense op's, sparse op's incl. merge)."""
        block = arch.blocks[i]
        dcut, scut = self.cuts(arch, i)
        dense = {n: self._slice(w, DENSE_WEIGHTS[block.dense_op][n], dcut)
                 for n, w in self.dense_w[i][block.dense_op].items()}
        sparse = {n: self._slice(w, SPARSE_WEIGHTS[block.sparse_op][n], scut)
                  for n, w in self.sparse_w[i][block.sparse_op].items()}
        if block.merge:
            sparse.update({n: self._slice(w, MERGE_WEIGHTS[n], scut)
                           for n, w in self.sparse_w[i]["merge"].items()})
        return dense, sparse

    def head_weights(self, arch: Arch) -> tuple[torch.Tensor, torch.Tensor]:
        last = arch.blocks[-1]
        start = max(self.space.dense_widths)
        cols = list(range(last.dense_width)) + list(
            range(start, start + last.sparse_width * self.space.embed_dim))
        return self.head.weight[:, cols], self.head.bias

    def subnet(self, arch: Arch) -> Subnet:
        """A standalone `Subnet` of `arch` with weights copied from this supernet."""
        return Subnet(self, arch)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor, arch: Arch) -> torch.Tensor:
        """The click probability of `arch` on a batch: [B, 1]."""
        weights = [self.block_weights(arch, i) for i in range(len(arch.blocks))]

        def dense_op(i, parts, toks):
            b, r = arch.blocks[i], self.ranges[i]
            aq = lambda t, k: r["d" + k](t, b.dense_bits[1])  # noqa: E731
            wq = lambda w, _: quant_weight(w, b.dense_bits[0])  # noqa: E731
            return dense_apply(b.dense_op, weights[i][0], parts, toks, b.dense_width, aq, wq)

        def sparse_op(i, x, toks):
            b, r = arch.blocks[i], self.ranges[i]
            aq = lambda t, k: r["s" + k](t, b.sparse_bits[1])  # noqa: E731
            wq = lambda w, _: quant_weight(w, b.sparse_bits[0])  # noqa: E731
            return sparse_apply(b.sparse_op, weights[i][1], x, toks, b.merge, aq, wq)

        w, bias = self.head_weights(arch)
        def head(d, t):
            return torch.nn.functional.linear(torch.cat([d, t.flatten(1)], 1), w, bias)

        logit = run_network(dense, self.embed(sparse), arch, dense_op, sparse_op, head)
        return torch.sigmoid(logit)


class PathModel(nn.Module):
    """One path of a supernet as a model of (dense, sparse); it shares the supernet's weights."""

    def __init__(self, net: SuperNet, arch: Arch) -> None:
        super().__init__()
        self.net, self.arch = net, arch

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        return self.net(dense, sparse, self.arch)
