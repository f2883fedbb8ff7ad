"""attention: AutoInt-style multi-head self-attention into `rec.attention`.

Anchored on the last data-movement op that merges the heads back to [B, F, H*dh]; walking up:
`matmul(softmax(scale * scores), v_heads)` where scores is `einsum('..ik,..jk->..ij', q, k)`
or `matmul(q, k^T)`, and q, k, v are head arrangements of three projections of one x
[B, F, D] (`rec.dense` without bias or `matmul` by a constant, on x or on its [B*F, D]
reshape). How the exporter splits and merges the heads (reshape + transpose, split + stack,
...) is not matched op by op: each arrangement is probed (see `_movement`) and must put
feature f, column h*dh + k of one batch row at [head-batch L, f, k], with one consistent
(batch, head) per L for q, k, v and the merge inverting it.
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
    if isinstance(op, nn.MatMul):
        return q, k, True, scale
    ins, out = einsum_terms(op)
    ok = len(ins) == 2 and len(ins[0]) == len(ins[1]) == len(out) >= 3 and \
        ins[0][:-2] == ins[1][:-2] == out[:-2] and ins[0][-1] == ins[1][-1] and \
        out[-2:] == ins[0][-2] + ins[1][-2] and len(set(out + ins[0][-1])) == len(out) + 1
    expect(ok, f"einsum '{op.attrs['equation']}' is not q k^T over heads")
    return q, k, False, scale


def _projection(v: Value, ctx: Ctx, m: Match) -> tuple[Value, list[Op], Value, np.ndarray]:
    """(projection value, movement ops, x, w) behind the head arrangement `v`."""
    source, ops = region(v, ctx, m)
    op = producer(source, (rec.Dense, nn.MatMul), m, "head source")
    expect(len(op.operands) == 2, "projection has a bias")
    expect(not isinstance(op, rec.Dense) or op.attrs["activation"] == "none",
           "projection has an activation")
    w = const_of(op.operands[1])
    expect(w is not None and w.ndim == 2, "projection weight is not a constant matrix")
    m.vals.setdefault("w_bits", []).append(op.operands[1].type.bits)  # q, k, v in order
    x = reshaped_from(op.operands[0])  # not matched: the reshape may feed other layers too
    return source, ops, x, w


def _pattern(op: Op, ctx: Ctx) -> Match:
    expect(len(op.results) == 1 and op.result.type.rank == 3, "not a merge into [B, F, E]")
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
                  scores=sm.operands[0].type.shape)
    return m


def _layout(block: np.ndarray, f: int, e: int, dh: int) -> tuple[int, int]:
    """(batch row, head) of one [F, dh] head block of probe codes, or NoMatch."""
    b, h = int(block[0, 0]) // (f * e), (int(block[0, 0]) % e) // dh
    want = (b * f + np.arange(f)[:, None]) * e + h * dh + np.arange(dh)[None, :]
    expect(np.array_equal(block, want), "heads are not contiguous column blocks")
    return b, h


def _arm_map(m: Match, key: str, dims: tuple[int, ...]) -> list[tuple[int, int]]:
    source, ops, _, _ = m.arms[key]
    b, f, e, dh = dims
    out = probe(source, ops, m.heads[key])
    if key == "k" and m.kt:
        out = np.swapaxes(out, -1, -2)
    expect(out.shape[-2:] == (f, dh) and out.size == b * f * e, f"{key} heads have shape "
           f"{list(out.shape)}, not [.., {f}, {dh}]")
    return [_layout(blk, f, e, dh) for blk in out.reshape(-1, f, dh)]


def _check(m: Match, ctx: Ctx) -> str | None:
    try:
        _decode(m)
    except NoMatch as exc:
        return str(exc)
    return None


def _decode(m: Match) -> None:
    ws = [m.arms[k][3] for k in "qkv"]
    expect(len({w.shape for w in ws}) == 1, "projections differ in shape")
    (d, e), dh = ws[0].shape, m.heads["q"].type.shape[-1]
    f = m.heads["q"].type.shape[-2]
    b = m.x.type.size // (f * d)
    expect(b * f * d == m.x.type.size, f"tokens {list(m.x.type.shape)} are not [B, {f}, {d}]")
    expect(m.anchor.result.type.shape == (b, f, e), f"merge is not [{b}, {f}, {e}]")
    expect(e % dh == 0, f"{e} columns do not split into heads of {dh}")
    dims = (b, f, e, dh)
    maps = [_arm_map(m, k, dims) for k in "qkv"]
    expect(maps[0] == maps[1] == maps[2], "q, k and v arrange heads differently")
    expect(sorted(maps[0]) == [(i, h) for i in range(b) for h in range(e // dh)],
           "head blocks do not cover every (batch row, head) once")
    where = {bh: i for i, bh in enumerate(maps[0])}
    got = probe(m.o, m.out_ops, m.anchor.result)
    expect(got.size == b * f * e, "merge does not give [B, F, H*dh]")
    col = np.arange(e)
    blocks = np.array([[where[(i, c // dh)] for c in col] for i in range(b)])  # [B, E]
    want = (blocks[:, None, :] * f + np.arange(f)[None, :, None]) * dh + col % dh
    expect(np.array_equal(got.reshape(b, f, e), want), "merge does not invert the split")
    m.vals.update(heads_n=e // dh, ws=ws, tokens=(b, f, d))
    if m.mask is not None:
        m.vals["mask4"] = _mask_layout(m, maps[0], (b, e // dh, f))


def _mask_layout(m: Match, order: list[tuple[int, int]], dims: tuple[int, int, int]):
    """The mask as the op wants it, broadcast to [B, H, F, F]: a constant is laid out by the
    head order of the scores (an [F, F] when it is the same for every batch row and head); a
    computed mask must already be one [F, F] for all (leading axes of 1)."""
    b, h, f = dims
    mask, shape = m.mask, m.scores
    expect(np.broadcast_shapes(mask.type.shape, shape) == tuple(shape),
           f"mask {list(mask.type.shape)} broadcasts the scores {list(shape)}")
    value = const_of(mask)
    if value is None:
        expect(mask.type.size == f * f and mask.type.shape[-2:] == (f, f),
               f"computed mask {list(mask.type.shape)} is not one [{f}, {f}] for every head")
        return mask
    blocks = np.broadcast_to(value, shape).reshape(-1, f, f)
    out = np.empty((b, h, f, f), value.dtype)
    for block, (i, j) in zip(blocks, order):
        out[i, j] = block
    return out[0, 0] if np.all(out == out[:1, :1]) else out


def _rewrite(m: Match) -> Rewrite:
    ops: list[Op] = [new_const(w, bits) for w, bits in zip(m.ws, m.w_bits)]
    x = m.x
    if x.type.shape != m.tokens:
        ops.append(nn_shape.Reshape([x], {"shape": m.tokens}))
        x = ops[-1].result
    mask = m.vals.get("mask4")
    if isinstance(mask, np.ndarray):
        ops.append(new_const(mask))
        mask = ops[-1].result
    elif mask is not None and mask.type.shape != (m.tokens[1],) * 2:
        ops.append(nn_shape.Reshape([mask], {"shape": [m.tokens[1]] * 2}))
        mask = ops[-1].result
    new = rec.Attention([x, *(c.result for c in ops[:3]), *([mask] if mask is not None else [])],
                        {"heads": m.heads_n, "scale": m.scale})
    return Rewrite([*ops, new], new.result)


RULES = (Rule("attention", MOVES, _pattern, _rewrite, _check),)
