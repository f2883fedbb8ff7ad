"""attention: multi-head self-attention (AutoInt, MultiheadAttention, BST) into `rec.attention`.

Anchored on the last data-movement op that merges the heads back to [B, F, H*dh]; walking up:
`matmul(softmax(scale * scores [+ mask]), v_heads)` where scores is
`einsum('..ik,..jk->..ij', q, k)` or `matmul(q, k^T)` (q, or q and k^T, may carry the scale
as scalar factors), and q, k, v are head arrangements of three projections of one x
[B, F, D] (`rec.dense` or `matmul` by a constant, on x or on its [B*F, D] reshape). The mask,
constant or computed (a key-padding mask from the ids), is laid out by `_attention_mask`.
How the exporter splits and merges the heads (reshape + transpose, split + stack, ...) is
not matched op by op: each arrangement is probed (see `_movement`) and must put feature f,
column h*dh + k of one batch row at [head-batch L, f, k], with one consistent (batch, head)
per L for q, k, v and the merge inverting it.
"""

from __future__ import annotations

import numpy as np

from ir.core import Op, Value
from ir.dialects import nn, nn_shape, rec
from passes.rewrite import (
    Ctx,
    Match,
    NoMatch,
    Rewrite,
    Rule,
    const_of,
    einsum_terms,
    expect,
    new_const,
    producer,
    scalar_of,
)
from passes.rules._attention_layout import arm_layout, merged_order
from passes.rules._attention_mask import mask_layout, mask_operand, mask_source
from passes.rules._movement import MOVES, probe, region, reshaped_from

__all__ = ["RULES"]


def _unmasked(v: Value, m: Match) -> tuple[Value, Value | None]:
    """(scaled scores, additive mask or None) of the softmax input `v`: scores + mask with the
    scores (a scaled q k^T, same shape as v) on either side and the mask broadcast to them."""
    if not isinstance(v.owner, nn.Add):
        return v, None
    add = producer(v, nn.Add, m, "softmax input")
    for s, mask in (add.operands, add.operands[::-1]):
        if isinstance(s.owner, (nn.Mul, nn.Div, nn.Einsum, nn.MatMul)) and \
                s.type.shape == v.type.shape:
            return s, mask
    raise NoMatch("softmax input adds no scores")


def _prescaled(q: Value, m: Match, scale: float) -> tuple[Value, float]:
    """q heads and the scale when q is scaled before the product (torch's MultiheadAttention
    scales q by 1/sqrt(dh)): q * c or q / c with a scalar constant c."""
    op = q.owner
    if not isinstance(op, (nn.Mul, nn.Div)) or scalar_of(op.operands[1]) is None or \
            op.operands[1].type.size != 1:
        return q, scale
    m.ops.append(op)
    c = scalar_of(op.operands[1])
    return op.operands[0], scale * (c if isinstance(op, nn.Mul) else 1.0 / c)


def _scores(v: Value, m: Match) -> tuple[Value, Value, bool, float]:
    """(q heads, k heads, k given transposed, scale) of the softmax input `v`."""
    scale = 1.0
    if isinstance(v.owner, (nn.Mul, nn.Div)):
        op = producer(v, (nn.Mul, nn.Div), m)
        c = scalar_of(op.operands[1])
        expect(c is not None and op.operands[1].type.size == 1, "scores scaled by a tensor")
        scale = c if isinstance(op, nn.Mul) else 1.0 / c
        v = op.operands[0]
    op = producer(v, (nn.Einsum, nn.MatMul), m, "softmax input")
    q, k = op.operands
    q, scale = _prescaled(q, m, scale)
    k, scale = _prescaled(k, m, scale)  # torch's scaled_dot_product_attention scales both
    if isinstance(op, nn.MatMul):
        return q, k, True, scale
    ins, out = einsum_terms(op)
    ok = len(ins) == 2 and len(ins[0]) == len(ins[1]) == len(out) >= 3 and \
        ins[0][:-2] == ins[1][:-2] == out[:-2] and ins[0][-1] == ins[1][-1] and \
        out[-2:] == ins[0][-2] + ins[1][-2] and len(set(out + ins[0][-1])) == len(out) + 1
    expect(ok, f"einsum '{op.attrs['equation']}' is not q k^T over heads")
    return q, k, False, scale


def _projection(v: Value, ctx: Ctx, m: Match) -> tuple:
    """(projection value, movement ops, x, w [D, C], bias [C] or None) behind the head
    arrangement `v` (C: E, or 3E for a packed q, k, v projection)."""
    source, ops = region(v, ctx, m)
    op = producer(source, (rec.Dense, nn.MatMul), m, "head source")
    expect(not isinstance(op, rec.Dense) or op.attrs["activation"] == "none",
           "projection has an activation")
    w = const_of(op.operands[1])
    expect(w is not None and w.ndim == 2, "projection weight is not a constant matrix")
    b = op.arg("b") if isinstance(op, rec.Dense) else None
    expect(b is None or const_of(b) is not None, "projection bias is not a constant")
    m.vals.setdefault("w_bits", []).append(op.operands[1].type.bits)  # q, k, v in order
    x = reshaped_from(op.operands[0])  # not matched: the reshape may feed other layers too
    return source, ops, x, w, None if b is None else const_of(b)


def _pattern(op: Op, ctx: Ctx) -> Match:
    expect(len(op.results) == 1 and op.result.type.rank >= 2, "not a merge of heads")
    m = Match(op)
    o, out_ops = region(op.result, ctx, m)
    mm = producer(o, nn.MatMul, m, "merged value")
    sm = producer(mm.operands[0], nn.Softmax, m, "attention weights")
    expect(sm.attrs["axis"] % sm.result.type.rank == sm.result.type.rank - 1,
           "softmax is not over the last axis")
    scores, mask = _unmasked(sm.operands[0], m)
    qh, kh, kt, scale = _scores(scores, m)
    arms = {k: _projection(v, ctx, m) for k, v in (("q", qh), ("k", kh), ("v", mm.operands[1]))}
    xs = {id(a[2]) for a in arms.values()}
    expect(len(xs) == 1, "q, k and v project different tensors")
    m.vals.update(arms=arms, heads={"q": qh, "k": kh, "v": mm.operands[1]}, kt=kt,
                  scale=scale, o=o, out_ops=out_ops, x=arms["q"][2], mask=mask,
                  scores=sm.operands[0].type.shape,
                  mask_src=None if mask is None else mask_source(mask, ctx, op))
    return m


def _arm_codes(m: Match, key: str) -> np.ndarray:
    source, ops = m.arms[key][:2]
    out = probe(source, ops, m.heads[key])
    return np.swapaxes(out, -1, -2) if key == "k" and m.kt else out


def _check(m: Match, ctx: Ctx) -> str | None:
    try:
        _decode(m)
    except NoMatch as exc:
        return str(exc)
    return None


def _decode(m: Match) -> None:
    f, dh = m.heads["q"].type.shape[-2:]
    w_full = m.arms["q"][3]
    d, width = w_full.shape
    tokens = m.x.type.size // d
    n_b = tokens // f
    expect(n_b * f * d == m.x.type.size, f"tokens {list(m.x.type.shape)} are not {f} per row")
    layouts = {}
    for key in "qkv":
        codes = _arm_codes(m, key)
        expect(codes.shape[-2:] == (f, dh), f"{key} heads have shape {list(codes.shape)}, "
                                            f"not [.., {f}, {dh}]")
        expect(m.arms[key][3].shape == (d, width), "projections differ in shape")
        layouts[key] = arm_layout(codes, width, n_b, f, dh)
    orders = set.intersection(*(lay[0] for lay in layouts.values()))
    expect(bool(orders), "q, k and v order their tokens differently")
    order = min(orders)  # ("batch" before "sequence" when one row or one token fits both)
    maps = [layouts[k][2][order] for k in "qkv"]
    expect(maps[0] == maps[1] == maps[2], "q, k and v arrange heads differently")
    heads = len(maps[0]) // n_b
    e = heads * dh
    expect(sorted(maps[0]) == [(i, h) for i in range(n_b) for h in range(heads)],
           "head blocks do not cover every (batch row, head) once")
    where = {bh: i for i, bh in enumerate(maps[0])}
    got = probe(m.o, m.out_ops, m.anchor.result)
    expect(got.size == n_b * f * e, "merge does not give [B, F, H*dh]")
    out_order = merged_order(got, where, (n_b, f, e, dh))
    offsets = [layouts[k][1] for k in "qkv"]
    ws = [m.arms[k][3][:, o:o + e] for k, o in zip("qkv", offsets)]
    bs = [m.arms[k][4] for k in "qkv"]
    bias = None if all(b is None for b in bs) else \
        np.stack([np.zeros(e, ws[0].dtype) if b is None else b[o:o + e]
                  for b, o in zip(bs, offsets)])
    m.vals.update(heads_n=heads, ws=ws, bias=bias, tokens=(n_b, f, d), order=order,
                  out_order=out_order)
    if m.mask is not None:
        m.vals["mask4"] = mask_layout(m.mask, m.mask_src, m.scores, maps[0], (n_b, heads, f))


def _tokens(m: Match, ops: list[Op]) -> Value:
    """x as [B, F, D]: a view of batch-major tokens, a transpose of sequence-major ones."""
    n_b, f, d = m.tokens
    x = m.x
    if m.order == "sequence":
        src = x.owner
        if isinstance(src, nn_shape.Transpose) and list(src.attrs["perm"]) == [1, 0, 2] \
                and src.operands[0].type.shape == m.tokens:
            return src.operands[0]  # x is itself the transpose of [B, F, D] tokens
        if x.type.shape != (f, n_b, d):
            ops.append(nn_shape.Reshape([x], {"shape": [f, n_b, d]}))
            x = ops[-1].result
        ops.append(nn_shape.Transpose([x], {"perm": [1, 0, 2]}))
        return ops[-1].result
    if x.type.shape != m.tokens:
        ops.append(nn_shape.Reshape([x], {"shape": list(m.tokens)}))
        x = ops[-1].result
    return x


def _rewrite(m: Match) -> Rewrite:
    ws = [new_const(np.ascontiguousarray(w), bits) for w, bits in zip(m.ws, m.w_bits)]
    ops: list[Op] = list(ws)
    x = _tokens(m, ops)
    mask = mask_operand(m.vals.get("mask4"), ops)
    bias = m.bias
    if bias is None and mask is not None:
        bias = np.zeros((3, m.ws[0].shape[1]), m.ws[0].dtype)
    if bias is not None:
        ops.append(new_const(bias))
        bias = ops[-1].result
    extra = [v for v in (bias, mask) if v is not None]
    new = rec.Attention([x, *(c.result for c in ws), *extra],
                        {"heads": m.heads_n, "scale": m.scale})
    ops.append(new)
    out = new.result
    if m.out_order == "sequence":
        ops.append(nn_shape.Transpose([out], {"perm": [1, 0, 2]}))
        out = ops[-1].result
    if out.type.shape != m.anchor.result.type.shape:
        ops.append(nn_shape.Reshape([out], {"shape": list(m.anchor.result.type.shape)}))
        out = ops[-1].result
    return Rewrite(ops, out)


RULES = (Rule("attention", MOVES, _pattern, _rewrite, _check),)
