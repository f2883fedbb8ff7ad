"""The `rec` dialect: recommender-level ops that fusion raises `nn` patterns into.

Weight layouts are the ones a crossbar wants: a dense weight is [in, out] (rows are inputs,
columns are outputs), so `rec.dense` computes act(x @ w + b) over the last axis of x.
"""

from __future__ import annotations

from ir.core import Attr, Op
from ir.dialects import register
from ir.dialects._shapes import broadcast, same_dtype
from ir.errors import PimcError
from ir.types import TensorType

ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")


def _broadcasts(shape: tuple[int, ...], to: tuple[int, ...]) -> bool:
    """Whether `shape` broadcasts to `to` without growing it."""
    tail = to[len(to) - len(shape):]
    return len(shape) <= len(to) and all(s in (1, t) for s, t in zip(shape, tail))


def _need_rank(op: Op, value_index: int, rank: int, what: str) -> TensorType:
    t = op.operands[value_index].type
    if t.rank != rank:
        raise PimcError(f"{op.name}: {what} must be rank {rank}, got {list(t.shape)}")
    return t


@register
class Dense(Op):
    """act(x @ w + b): a fully connected layer over the last axis of x; w is [in, out]."""

    name = "rec.dense"
    operands_spec = ("x", "w", "b?")
    attrs_spec = {"activation": Attr("str", "none", ACTIVATIONS)}

    def infer_types(self):
        x = self.operands[0].type
        w = _need_rank(self, 1, 2, "weight")
        if x.rank < 1 or x.shape[-1] != w.shape[0]:
            raise PimcError(f"{self.name}: input {list(x.shape)} does not match weight "
                            f"{list(w.shape)} (weights are [in, out])")
        if len(self.operands) == 3 and self.operands[2].type.shape not in ((w.shape[1],),):
            raise PimcError(f"{self.name}: bias must be [{w.shape[1]}], got "
                            f"{list(self.operands[2].type.shape)}")
        return [TensorType(x.shape[:-1] + (w.shape[1],), same_dtype(self.name, self.in_types))]


@register
class EmbeddingBag(Op):
    """Rows of `table` gathered by `indices` and pooled per bag.

    With `offsets` (1-D, one start per bag): indices are 1-D, the result is [bags, dim].
    Without: the last axis of `indices` is a fixed-size bag, the result is
    indices.shape[:-1] + [dim]; mode "none" pools nothing (a plain lookup, one row per index,
    result indices.shape + [dim]).
    """

    name = "rec.embedding_bag"
    operands_spec = ("table", "indices", "offsets?")
    attrs_spec = {"mode": Attr("str", "sum", ("sum", "mean", "max", "none"))}

    def infer_types(self):
        table = _need_rank(self, 0, 2, "table")
        idx = self.operands[1].type
        if idx.dtype not in ("i64", "i32"):
            raise PimcError(f"{self.name}: indices must be integers, got {idx.dtype}")
        mode = self.attrs["mode"]
        if len(self.operands) == 3:
            if mode == "none" or idx.rank != 1 or self.operands[2].type.rank != 1:
                raise PimcError(f"{self.name}: with offsets, indices and offsets are 1-D "
                                "and mode pools (sum, mean or max)")
            shape = (self.operands[2].type.shape[0],)
        elif mode == "none":
            shape = idx.shape
        else:
            if idx.rank < 1:
                raise PimcError(f"{self.name}: fixed-size bags need indices of rank >= 1")
            shape = idx.shape[:-1]
        return [TensorType(shape + (table.shape[1],), table.dtype)]


@register
class DotInteraction(Op):
    """Pairwise dot products of F feature vectors [B, F, D] -> [B, P], DLRM style.

    The pairs are one triangle of the F x F Gram matrix, row-major: `triangle="lower"` gives
    (1,0), (2,0), (2,1), ... (DLRM's tril indices); `"upper"` gives (0,1), (0,2), ..., (1,2)
    (torchrec's triu indices). `self_interaction` includes the diagonal.
    """

    name = "rec.dot_interaction"
    operands_spec = ("x",)
    attrs_spec = {"triangle": Attr("str", "lower", ("lower", "upper")),
                  "self_interaction": Attr("bool", False)}

    def infer_types(self):
        x = _need_rank(self, 0, 3, "features")
        f = x.shape[1]
        pairs = f * (f + 1) // 2 if self.attrs["self_interaction"] else f * (f - 1) // 2
        return [TensorType((x.shape[0], pairs), x.dtype)]


@register
class FM(Op):
    """Factorisation-machine second-order term of [B, F, D] features.

    0.5 * ((sum_f x)^2 - sum_f x^2): [B, D]; with `reduce`, summed over D to [B, 1].
    """

    name = "rec.fm"
    operands_spec = ("x",)
    attrs_spec = {"reduce": Attr("bool", True)}

    def infer_types(self):
        x = _need_rank(self, 0, 3, "features")
        last = 1 if self.attrs["reduce"] else x.shape[2]
        return [TensorType((x.shape[0], last), x.dtype)]


@register
class Cross(Op):
    """One DCN cross layer: x0 * (x @ w) + b + x.

    kind "vector" (DCN): w is [D] and x @ w is a per-row scalar;
    kind "matrix" (DCN-v2): w is [D, D] ([in, out]) and x0 * (x @ w + b) + x;
    kind "low_rank" (torchrec's LowRankCrossNet): w is V [D, r], c is U [r, D] (both [in, out])
    and x0 * (x @ w @ c + b) + x, the two factors never multiplied into a [D, D] matrix;
    kind "mixture" (DCN-Mix, DCN-v2's low-rank mixture of `experts` experts of rank `rank`):
    w is V [E, D, r], c is C [E, r, r], u is U [E, r, D] (each expert's maps [in, out]) and
    g [D, E] the gate; expert e is x0 * (tanh(tanh(x @ w[e]) @ c[e]) @ u[e] + b), and the
    result is x + sum_e softmax(x @ g)_e * expert e. The low-rank maps stay separate.
    """

    name = "rec.cross"
    operands_spec = ("x0", "x", "w", "b", "c?", "u?", "g?")
    attrs_spec = {"kind": Attr("str", "vector", ("vector", "matrix", "low_rank", "mixture")),
                  "experts": Attr("int", 1), "rank": Attr("int", 0)}

    def infer_types(self):
        x0, x, w, b = self.in_types[:4]
        d, kind = x.shape[-1], self.attrs["kind"]
        e, r = self.attrs["experts"], self.attrs["rank"]
        if kind == "mixture":
            want = [(e, d, r), (d,), (e, r, r), (e, r, d), (d, e)]
            names = ("w", "b", "c", "u", "g")
        elif kind == "low_rank":
            want, names = [(d, r), (d,), (r, d)], ("w", "b", "c")
        else:
            want = [(d,) if kind == "vector" else (d, d), (d,)]
            names = ("w", "b")
        got = [t.shape for t in self.in_types[2:]]
        fits = kind == "mixture" or (e, r) == (1, 0) or (kind == "low_rank" and e == 1)
        if x0.shape != x.shape or got != want or not fits or e < 1 or \
                (kind in ("mixture", "low_rank") and r < 1):
            shown = ", ".join(f"{n} {list(s)}" for n, s in zip(names, want))
            raise PimcError(f"{self.name}: x0 {list(x0.shape)}, x {list(x.shape)}, "
                            + ", ".join(f"{n.rstrip('?')} {list(s)}"
                                        for n, s in zip(self.operands_spec[2:], got))
                            + f" do not fit kind {kind} (experts {e}, rank {r}: {shown})")
        return [x.with_bits(None)]


@register
class Attention(Op):
    """Multi-head self-attention over feature tokens x [B, F, D].

    q, k, v = x @ wq + b[0], x @ wk + b[1], x @ wv + b[2] (weights [D, H*dh], the optional
    biases b [3, H*dh]: zeros for a masked layer without them); per head
    softmax(scale * q k^T + mask) v, the optional additive mask broadcast to the scores
    [B, H, F, F] (-inf or a large negative number where a pair is masked: one [F, F] for
    every row and head, a key-padding mask [B, 1, 1, F] computed from the ids, ...); heads
    concatenated: [B, F, H*dh].
    """

    name = "rec.attention"
    operands_spec = ("x", "wq", "wk", "wv", "b?", "mask?")
    attrs_spec = {"heads": Attr("int", 1), "scale": Attr("float", 1.0)}

    def infer_types(self):
        x = _need_rank(self, 0, 3, "tokens")
        ws = self.in_types[1:4]
        if any(w.rank != 2 or w.shape[0] != x.shape[2] for w in ws) or \
                len({w.shape for w in ws}) != 1:
            raise PimcError(f"{self.name}: projections must all be [{x.shape[2]}, H*dh], got "
                            + ", ".join(str(list(w.shape)) for w in ws))
        inner = ws[0].shape[1]
        if self.attrs["heads"] < 1 or inner % self.attrs["heads"]:
            raise PimcError(f"{self.name}: {inner} columns do not split into "
                            f"{self.attrs['heads']} heads")
        b = self.arg("b")
        if b is not None and b.type.shape != (3, inner):
            raise PimcError(f"{self.name}: biases {list(b.type.shape)} are not [3, {inner}]")
        if self.arg("mask") is not None:
            scores = (x.shape[0], self.attrs["heads"], x.shape[1], x.shape[1])
            mask = self.arg("mask").type.shape
            if len(mask) > 4 or not _broadcasts(mask, scores):
                raise PimcError(f"{self.name}: mask {list(mask)} does not broadcast to the "
                                f"scores {list(scores)} ([B, H, F, F])")
        return [TensorType(x.shape[:2] + (inner,), x.dtype)]


@register
class Gating(Op):
    """x * act(g): sigmoid gating (or another activation) of x by a gate, broadcast."""

    name = "rec.gating"
    operands_spec = ("x", "g")
    attrs_spec = {"activation": Attr("str", "sigmoid", ACTIVATIONS)}

    def infer_types(self):
        return [TensorType(broadcast(self.name, self.in_types),
                           same_dtype(self.name, self.in_types))]


@register
class EFC(Op):
    """Embedded FC over the token axis: x [B, F, D], w [F, G] -> [B, G, D] (+ b [G, 1])."""

    name = "rec.efc"
    operands_spec = ("x", "w", "b?")

    def infer_types(self):
        x = _need_rank(self, 0, 3, "tokens")
        w = _need_rank(self, 1, 2, "weight")
        if w.shape[0] != x.shape[1]:
            raise PimcError(f"{self.name}: weight {list(w.shape)} does not take "
                            f"{x.shape[1]} tokens")
        return [TensorType((x.shape[0], w.shape[1], x.shape[2]), x.dtype)]


def _pair_rows(op: Op, xs: list[TensorType]) -> tuple[int, int, int]:
    """(batch, rows of the concatenated operands, dim) after checking the pair lists."""
    if not xs or any(t.rank != 3 for t in xs) or len({(t.shape[0], t.shape[2]) for t in xs}) != 1:
        raise PimcError(f"{op.name}: features must all be [B, F, D] with one B and D, got "
                        + ", ".join(str(list(t.shape)) for t in xs))
    rows = sum(t.shape[1] for t in xs)
    left, right = op.attrs["left"], op.attrs["right"]
    if not left or len(left) != len(right) or any(not 0 <= i < rows for i in left + right):
        raise PimcError(f"{op.name}: left and right must be equally long, non-empty lists of "
                        f"rows in [0, {rows}), got {len(left)} and {len(right)}")
    return xs[0].shape[0], rows, xs[0].shape[2]


_PAIR_ATTRS = {"left": Attr("ints"), "right": Attr("ints"), "reduce": Attr("bool", False)}


@register
class Pairwise(Op):
    """Products of feature pairs: the operands [B, F_s, D] are concatenated over axis 1 into
    rows X [B, R, D]; pair p is X[:, left[p]] * X[:, right[p]] ([B, P, D]), summed over D
    with `reduce` ([B, P]: inner products). Both factors are activations (vector units).

    Covers PNN's inner product, AFM's and FiBiNET's element products, and field-aware FM
    (one operand per field's embedding space: the pair (i, j) reads field i in space j)."""

    name = "rec.pairwise"
    operands_spec = ("x*",)
    attrs_spec = _PAIR_ATTRS

    def infer_types(self):
        b, _, d = _pair_rows(self, self.in_types)
        p = len(self.attrs["left"])
        shape = (b, p) if self.attrs["reduce"] else (b, p, d)
        return [TensorType(shape, same_dtype(self.name, self.in_types))]


@register
class Bilinear(Op):
    """Pairs through a weight: (X[:, left[p]] @ w_p) * X[:, right[p]] with X the operands
    concatenated over axis 1, w [D, E] shared by every pair or [P, D, E] one per pair
    ([in, out], E = D); summed over D with `reduce`. FiBiNET's bilinear layer and PNN's kernel
    (outer) product. The left factor is a weight-stationary product (crossbars)."""

    name = "rec.bilinear"
    operands_spec = ("w", "x*")
    attrs_spec = _PAIR_ATTRS

    def infer_types(self):
        w, xs = self.in_types[0], self.in_types[1:]
        b, _, d = _pair_rows(self, xs)
        p = len(self.attrs["left"])
        if w.shape not in ((d, d), (p, d, d)):
            raise PimcError(f"{self.name}: weight must be [{d}, {d}] or [{p}, {d}, {d}], got "
                            f"{list(w.shape)}")
        shape = (b, p) if self.attrs["reduce"] else (b, p, d)
        return [TensorType(shape, same_dtype(self.name, self.in_types))]


@register
class MoE(Op):
    """Mixture of experts: softmax(g) over the experts weighs the stacked expert outputs,
    summed: g [B, E], x [B, E, H] -> [B, H] (MMoE and PLE gates). With `softmax` false the
    gate is used as given."""

    name = "rec.moe"
    operands_spec = ("g", "x")
    attrs_spec = {"softmax": Attr("bool", True)}

    def infer_types(self):
        g = _need_rank(self, 0, 2, "gate")
        x = _need_rank(self, 1, 3, "experts")
        if g.shape != x.shape[:2]:
            raise PimcError(f"{self.name}: gate {list(g.shape)} does not weigh experts "
                            f"{list(x.shape)} ([B, E] and [B, E, H])")
        return [TensorType((x.shape[0], x.shape[2]), same_dtype(self.name, self.in_types))]


@register
class Gru(Op):
    """One direction of a GRU over whole sequences, weights in the crossbar layout.

    x [seq, batch, in], w [in, 3H] and r [H, 3H] ([in, out]; gate blocks z, r, h as ONNX
    orders them), biases wb and rb [3H], initial state h0 [batch, H], optional step mask
    [seq, batch, 1] -> y [seq, batch, H], the state after each time step, in time order. A step
    from state h on input x_t: z, r_t = sigmoid(x_t w_zr + wb_zr + h r_zr + rb_zr) and
    h_new = (1 - z) c + z h, with the candidate c = tanh(x_t w_h + wb_h + r_t (h r_h + rb_h))
    when `linear_before_reset` (PyTorch's form), else tanh(x_t w_h + wb_h + (r_t h) r_h + rb_h);
    the state becomes h' = m_t h_new + (1 - m_t) h, so a row whose mask is 0 at a step keeps its
    state (a row past its sequence's length: the mask is 1 for t < length, see
    `passes.rules.gru`); no mask is all ones. `reverse` steps from the last time step to the
    first. x @ w runs for every step at once; h @ r one step after another."""

    name = "rec.gru"
    operands_spec = ("x", "w", "r", "wb", "rb", "h0", "mask?")
    attrs_spec = {"linear_before_reset": Attr("bool", False), "reverse": Attr("bool", False)}

    def infer_types(self):
        x = _need_rank(self, 0, 3, "input")
        seq, batch, size = x.shape
        h = self.operands[2].type.shape[0] if self.operands[2].type.rank == 2 else 0
        want = [(size, 3 * h), (h, 3 * h), (3 * h,), (3 * h,), (batch, h), (seq, batch, 1)]
        got = [t.shape for t in self.in_types[1:]]
        if h < 1 or got != want[:len(got)]:
            raise PimcError(f"{self.name}: x {list(x.shape)}, "
                            + ", ".join(f"{n.rstrip('?')} {list(s)}" for n, s in
                                        zip(self.operands_spec[1:], got))
                            + " do not fit; accepted: w [in, 3H], r [H, 3H], wb, rb [3H], "
                              "h0 [batch, H], mask [seq, batch, 1]")
        return [TensorType((seq, batch, h), same_dtype(self.name, self.in_types))]
