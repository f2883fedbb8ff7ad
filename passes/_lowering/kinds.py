"""What each op is to the mapping passes: a crossbar matmul, an embedding bag, free, or digital.

`matrices(op)` gives the weight-stationary matrices of a crossbar op (the activation operand
whose contracted axis feeds the crossbar rows, and the effective [in, out] weight), or None
when the op is no weight-stationary matmul (a `nn.matmul` of two activations, a vector
`rec.cross`). A mixture `rec.cross` has one small matrix per gate and expert stage; a
`rec.gru` its input matrix and a copy of its recurrent matrix per time step; a
`rec.bilinear` one per block of the distinct weights that read the same left fields. The
tables are keyed by op type; nothing here dispatches on names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ir.core import Graph, Op, Value
from ir.dialects import nn, nn_shape, pim, rec
from passes._lowering import _bilinear as bilinear

__all__ = ["FREE", "Matrix", "kind_of", "matrices", "op_names", "weight_operands"]


@dataclass(frozen=True)
class Matrix:
    """One weight matrix of a crossbar op: `x` (operand `x_index`) times `w` [in, out].

    `axis` is the axis of x that is contracted (-1, or 1 for `rec.efc`); `w_index` is the
    operand holding the weight (quantised per tensor; the effective `w` may be its transpose
    or a multiple, which per-tensor quantisation does not see). `also` names further values
    that the op's input scale quantises with x (a `rec.bilinear` reads its left fields from
    every operand), so calibration covers them."""

    suffix: str
    x: Value
    x_index: int
    w: np.ndarray
    w_index: int
    axis: int = -1
    also: tuple[Value, ...] = ()


def _const(v: Value | None) -> np.ndarray | None:
    if v is None or not isinstance(v.owner, nn.Constant):
        return None
    return np.asarray(v.owner.attrs["value"])


def _rank2(a: np.ndarray | None) -> np.ndarray | None:
    return a if a is not None and a.ndim == 2 and np.issubdtype(a.dtype, np.floating) else None


def _dense(op: Op) -> list[Matrix] | None:
    w = _rank2(_const(op.operands[1]))
    return None if w is None else [Matrix("", op.operands[0], 0, w, 1)]


def _efc(op: Op) -> list[Matrix] | None:
    w = _rank2(_const(op.operands[1]))
    return None if w is None else [Matrix("", op.operands[0], 0, w, 1, axis=1)]


def _cross(op: Op) -> list[Matrix] | None:
    if op.attrs["kind"] == "mixture":
        return _mixture(op)
    if op.attrs["kind"] == "low_rank":  # V, then U on V's output (as many rows as x)
        v, u = _rank2(_const(op.operands[2])), _rank2(_const(op.operands[4]))
        if v is None or u is None:
            return None
        return [Matrix(".v", op.operands[1], 1, v, 2), Matrix(".u", op.operands[1], 1, u, 4)]
    w = _rank2(_const(op.operands[2]))
    if op.attrs["kind"] != "matrix" or w is None:
        return None
    return [Matrix("", op.operands[1], 1, w, 2)]


def _mixture(op: Op) -> list[Matrix] | None:
    """The gate, then each expert's V, C, U (suffixes ".g", ".v0", ".c0", ".u0", ...), each
    its own small matrix. C and U read the previous stage's tanh, not x: `x` names the op's
    input they descend from (same rows), and the lowering feeds them the stage's value."""
    v, c, u, g = (_const(op.operands[i]) for i in (2, 4, 5, 6))
    if any(a is None or not np.issubdtype(a.dtype, np.floating) for a in (v, c, u, g)):
        return None
    x = op.operands[1]
    out = [Matrix(".g", x, 1, g, 6)]
    for e in range(v.shape[0]):
        out += [Matrix(f".v{e}", x, 1, v[e], 2), Matrix(f".c{e}", x, 1, c[e], 4),
                Matrix(f".u{e}", x, 1, u[e], 5)]
    return out


def _gru(op: Op) -> list[Matrix] | None:
    """W (".w") for every step at once, then R for each step in the order taken (".r0", ...;
    without `linear_before_reset`, its z, r columns ".r{t}" and its candidate's ".c{t}", which
    reads r_t * h). The steps read the state, not x: `x` names h0 (the state's shape); a step
    from a zero h0 multiplies nothing and has no matrix."""
    w, r, h0 = (_rank2(_const(op.operands[i])) for i in (1, 2, 5))
    if w is None or r is None or h0 is None:
        return None
    first = 0 if h0.any() else 1
    steps = range(first, op.operands[0].type.shape[0])
    h0v = op.operands[5]
    if op.attrs["linear_before_reset"]:
        return [Matrix(".w", op.operands[0], 0, w, 1),
                *(Matrix(f".r{t}", h0v, 5, r, 2) for t in steps)]
    hidden = r.shape[0]
    zr, cand = r[:, :2 * hidden], r[:, 2 * hidden:]
    out = [Matrix(".w", op.operands[0], 0, w, 1)]
    for t in steps:
        out += [Matrix(f".r{t}", h0v, 5, zr, 2), Matrix(f".c{t}", h0v, 5, cand, 2)]
    return out


def _bilinear(op: Op) -> list[Matrix] | None:
    """One matrix per block of the distinct weights that read the same left fields
    (`_bilinear.blocks`: per-pair weights give one block per left field, a shared W one for
    all). `x` names the operand holding the block's first field; the lowering slices the
    block's fields out of the operands."""
    w = _const(op.operands[0])
    if w is None or not np.issubdtype(w.dtype, np.floating):
        return None
    xs, left = op.operands[1:], op.attrs["left"]
    sizes = [x.type.shape[1] for x in xs]
    held = {bilinear.operand_of(sizes, f)[0] for f in left}  # operands with left fields
    out = []
    for i, block in enumerate(bilinear.blocks(w, left)[0]):
        k = bilinear.operand_of(sizes, block.fields[0])[0]
        also = tuple(xs[j] for j in sorted(held - {k}))
        out.append(Matrix(f".b{i}", xs[k], 1 + k, block.w, 0, also=also))
    return out


def _attention(op: Op) -> list[Matrix] | None:
    ws = [_rank2(_const(v)) for v in op.operands[1:4]]  # (a mask is no weight)
    if any(w is None for w in ws):
        return None
    return [Matrix(s, op.operands[0], 0, w, i + 1) for i, (s, w) in
            enumerate(zip((".q", ".k", ".v"), ws))]


def _gemm(op: Op) -> list[Matrix] | None:
    b = _rank2(_const(op.operands[1]))
    if b is None or op.attrs["trans_a"] or _const(op.operands[0]) is not None:
        return None
    w = (b.T if op.attrs["trans_b"] else b) * np.float32(op.attrs["alpha"])
    return [Matrix("", op.operands[0], 0, np.ascontiguousarray(w, b.dtype), 1)]


def _matmul(op: Op) -> list[Matrix] | None:
    b = _rank2(_const(op.operands[1]))
    if b is None or op.operands[0].type.rank < 2 or _const(op.operands[0]) is not None:
        return None
    return [Matrix("", op.operands[0], 0, b, 1)]


MATRICES: dict[type[Op], Callable[[Op], list[Matrix] | None]] = {
    rec.Dense: _dense, rec.EFC: _efc, rec.Cross: _cross, rec.Attention: _attention,
    rec.Bilinear: _bilinear,
    rec.Gru: _gru, nn.Gemm: _gemm, nn.MatMul: _matmul,
}

# Ops that cost nothing: literals and views that only re-label the same elements.
FREE: tuple[type[Op], ...] = (nn.Constant, nn_shape.Reshape, nn_shape.Squeeze,
                              nn_shape.Unsqueeze, nn_shape.Flatten, nn.Identity,
                              pim.Transfer)
EMBEDDING: tuple[type[Op], ...] = (rec.EmbeddingBag,)
# Short names for `op` attributes ("dense3").
SHORT: dict[type[Op], str] = {rec.Dense: "dense", rec.EFC: "efc", rec.Cross: "cross",
                              rec.Bilinear: "bilinear",
                              rec.Attention: "attention", nn.Gemm: "gemm",
                              nn.MatMul: "matmul", rec.EmbeddingBag: "emb", rec.Gru: "gru"}


def matrices(op: Op) -> list[Matrix] | None:
    """The weight matrices of a crossbar op, or None when `op` is not one."""
    rule = MATRICES.get(type(op))
    return None if rule is None else rule(op)


def kind_of(op: Op) -> str:
    """"crossbar", "embedding", "free" or "digital"."""
    if isinstance(op, FREE):
        return "free"
    if isinstance(op, EMBEDDING):
        return "embedding"
    if isinstance(op, pim.MVM) or matrices(op) is not None:
        return "crossbar"
    return "digital"


def weight_operands(op: Op) -> set[int]:
    """Operand positions of `op` that hold crossbar weights."""
    return {m.w_index for m in matrices(op) or ()}


def op_names(graph: Graph) -> dict[Op, str]:
    """A name unique in the graph for every crossbar op and embedding bag ("dense3")."""
    counts: dict[str, int] = {}
    names: dict[Op, str] = {}
    for op in graph.ops:
        short = SHORT.get(type(op))
        if short is None or kind_of(op) not in ("crossbar", "embedding"):
            continue
        names[op] = f"{short}{counts.get(short, 0)}"
        counts[short] = counts.get(short, 0) + 1
    return names
