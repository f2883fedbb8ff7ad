"""The block operators: one `apply` per operator kind over a dict of (sliced) weights.

`dense_apply(kind, p, parts, tokens, width, aq, wq)` and `sparse_apply(kind, p, x, tokens,
merge, aq, wq)` are shared by the supernet (weights sliced from full-width tensors, ranges
observed during training) and the subnet (weights and scales it owns). `aq(t, key)` quantises
an activation ("x" dense input, "t" tokens), `wq(w, name)` a weight.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from frontend.space import Arch
from frontend.supernet._functional import (
    attention,
    fit_width,
    padded_sum,
    pairwise_dots,
    token_linear,
)
from frontend.zoo._layers import fm_term

__all__ = ["DENSE_WEIGHTS", "SPARSE_WEIGHTS", "MERGE_WEIGHTS", "dense_apply", "sparse_apply",
           "run_network"]

Quant = Callable[[torch.Tensor, str], torch.Tensor]

# name -> (rows, columns) in units: "out" the op's width, "in" the dense input columns,
# "tok" the input token slots, "e" the embedding dim, 1 a bias vector.
DENSE_WEIGHTS = {
    "fc": {"w": ("out", "in"), "b": ("out",)},
    "gating": {"wg": ("out", "in"), "bg": ("out",), "wv": ("out", "in"), "bv": ("out",)},
    "dot": {"wp": ("e", "in"), "bp": ("e",)},
    "sum": {},
}
SPARSE_WEIGHTS = {
    "efc": {"w": ("out", "tok"), "b": ("out",)},
    "attention": {"q": ("e", "e"), "k": ("e", "e"), "v": ("e", "e"), "w": ("out", "tok"),
                  "b": ("out",)},
}
MERGE_WEIGHTS = {"wm": ("e", "in"), "bm": ("e",)}


def _dense_fc(p, x, parts, tokens, width, aq, wq):
    return torch.relu(F.linear(aq(x, "x"), wq(p["w"], "w"), p["b"]))


def _dense_gating(p, x, parts, tokens, width, aq, wq):
    xq = aq(x, "x")
    gate = torch.sigmoid(F.linear(xq, wq(p["wg"], "wg"), p["bg"]))
    return gate * F.linear(xq, wq(p["wv"], "wv"), p["bv"])


def _dense_sum(p, x, parts, tokens, width, aq, wq):
    xq, start, pieces = aq(x, "x"), 0, []
    for t in parts:  # slices, not torch.split: it exports as SplitToSequence under dynamo
        pieces.append(xq[:, start:start + t.shape[1]])
        start += t.shape[1]
    return padded_sum(pieces, width)


def _dense_dot(p, x, parts, tokens, width, aq, wq):
    projected = F.linear(aq(x, "x"), wq(p["wp"], "wp"), p["bp"]).unsqueeze(1)
    return fit_width(pairwise_dots(torch.cat([projected, aq(tokens, "t")], dim=1)), width)


_DENSE = {"fc": _dense_fc, "gating": _dense_gating, "sum": _dense_sum, "dot": _dense_dot}


def dense_apply(kind: str, p: dict, parts: list[torch.Tensor], tokens: torch.Tensor,
                width: int, aq: Quant, wq: Quant) -> torch.Tensor:
    """The dense operator `kind` on its dense inputs (`parts`) and tokens: [B, width]."""
    x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
    return _DENSE[kind](p, x, parts, tokens, width, aq, wq)


def sparse_apply(kind: str, p: dict, x: torch.Tensor, tokens: torch.Tensor, merge: bool,
                 aq: Quant, wq: Quant) -> torch.Tensor:
    """The sparse operator `kind`: tokens [B, t, e] (and, with `merge`, the dense input as
    one more token first) to [B, width, e]."""
    t = aq(tokens, "t")
    if merge:
        merged = F.linear(aq(x, "x"), wq(p["wm"], "wm"), p["bm"]).unsqueeze(1)
        t = torch.cat([merged, t], dim=1)
    if kind == "attention":
        t = attention(t, wq(p["q"], "q"), wq(p["k"], "k"), wq(p["v"], "v"))
    return token_linear(t, wq(p["w"], "w"), p["b"])


def run_network(dense: torch.Tensor, tokens: torch.Tensor, arch: Arch, dense_op, sparse_op,
                head) -> torch.Tensor:
    """The block graph of `arch`: `dense_op(i, parts, tokens)`, `sparse_op(i, x, tokens)`,
    `head(dense_last, tokens_last)` give the computation; returns the logit [B, 1].
    Without numeric features (`dense` has no column) the dense input is the flattened
    tokens, so that no operator reads an empty tensor."""
    if dense.shape[1] == 0:
        dense = tokens.flatten(1)
    ds, ts = [dense], [tokens]
    for i, block in enumerate(arch.blocks):
        parts = [ds[j] for j in block.dense_in]
        toks = torch.cat([ts[j] for j in block.sparse_in], dim=1)
        x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        ds.append(dense_op(i, parts, toks))
        ts.append(sparse_op(i, x, toks))
    logit = head(ds[-1], ts[-1])
    return logit + fm_term(tokens) if arch.fm else logit
