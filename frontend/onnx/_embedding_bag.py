"""Recognise the `Loop`s torch exporters emit for nn.EmbeddingBag as rec.embedding_bag.

Legacy exporter (dynamo=False): ``Loop(num_bags, true)`` with one scan output; the body
gathers ``starts[i]`` and ``ends[i]`` from two outer vectors (``concat(offsets, [n])`` and
its tail), slices the indices, gathers table rows and pools them with ReduceSum, ReduceMean
or ReduceMax over axis 0.

Dynamo exporter (torchlib): rows ``W = Gather(table, indices) * per_sample_weights`` are
gathered before the loop; ``Loop("", i < num_bags, SequenceEmpty, i=0)`` carries a sequence
and the bag index; the body slices ``concat(offsets, [n])`` at i and i+1, returns zeros for an
empty bag (If), else slices W and pools (nested Ifs for the last bag), appends the row with
SequenceInsert and steps i; ConcatFromSequence joins the rows after the loop.

Each matcher checks the body's op sequence (constants, casts and identities left out) and
which outer and loop-carried values feed what; it returns the reason when something differs.
"""

from __future__ import annotations

import numpy as np
import onnx

from frontend.onnx._context import Context, Node
from ir.core import Value
from ir.dialects import nn, nn_shape, rec

__all__ = ["NotABag", "match_loop"]

_NEUTRAL = frozenset({"Constant", "Cast", "CastLike", "Identity"})
_POOL = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max"}
_LEGACY = "Gather Gather Unsqueeze Unsqueeze Slice Gather {reduce}"
_DYNAMO_HEAD = "Reshape Add Slice Add Add Slice Equal If[|"
_DYNAMO_TAIL = "] SequenceInsert Add Less"
_DYNAMO = {
    "sum": "Slice ReduceSum",
    "mean": "Slice Sub Equal If[ReduceSum Shape Sub Greater If[Div|]|ReduceMean]",
    "max": "Sub Equal If[Slice|Slice] ReduceMax",
}


class NotABag(Exception):
    """The loop is not an embedding-bag loop; the message says why."""


def signature(graph: onnx.GraphProto) -> str:
    """The body's op types in order, nested If branches in brackets, neutral ops left out."""
    parts = []
    for n in graph.node:
        if n.op_type in _NEUTRAL:
            continue
        if n.op_type == "If":
            branches = {a.name: signature(a.g) for a in n.attribute}
            parts.append(f"If[{branches['then_branch']}|{branches['else_branch']}]")
        else:
            parts.append(n.op_type)
    return " ".join(parts)


def _walk(graph: onnx.GraphProto):
    for n in graph.node:
        yield n
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _walk(a.g)


def _require(ok: bool, reason: str) -> None:
    if not ok:
        raise NotABag(reason)


_PASS = (nn_shape.Squeeze, nn_shape.Split, nn_shape.Reshape, nn.Cast)


def _source(v: Value) -> Value:
    """`v` before the squeezes, splits, reshapes and casts that only cut or relabel it."""
    while v.owner is not None and isinstance(v.owner, _PASS):
        v = v.owner.operands[0]
    return v


def _kjt_offsets(ctx: Context, bounds: Value) -> bool:
    """Whether `bounds` is one key's row of a KeyedJaggedTensor's offsets, concat(0,
    cumsum(lengths)) along the last axis: B + 1 bounds, the last one the key's number of
    values (which the legacy exporter bakes into the Split that cuts the key's values out)."""
    op = _source(bounds).owner
    if not isinstance(op, nn_shape.Concat) or len(op.operands) != 2 or \
            op.attrs["axis"] % op.results[0].type.rank != op.results[0].type.rank - 1:
        return False
    zeros = ctx.const(op.operands[0])
    cumsum = _source(op.operands[1]).owner
    return zeros is not None and not zeros.any() and zeros.shape[-1] == 1 and \
        isinstance(cumsum, nn.CumSum) and not cumsum.attrs["exclusive"] and \
        not cumsum.attrs["reverse"] and \
        cumsum.attrs["axis"] % cumsum.results[0].type.rank == cumsum.results[0].type.rank - 1


def _offsets_of(ctx: Context, bounds: Value, n: int) -> tuple[Value, int]:
    """(offsets, number of bags) from bag bounds that are concat(offsets, [n])
    (include_last_offset False), offsets ending in n (include_last_offset True, known at
    import time) or a KeyedJaggedTensor's offsets of one key. The last of the KJT's bounds is
    only known at run time, so all B + 1 of them become offsets: bag B - 1 then ends exactly
    there whatever the input, and `_bag` drops the extra bag B (from there to n)."""
    op = bounds.owner
    if isinstance(op, nn_shape.Concat) and len(op.operands) == 2:
        tail = ctx.const(op.operands[1])
        if tail is not None and tail.reshape(-1).tolist() == [n]:
            return op.operands[0], op.operands[0].type.shape[0]
    values = ctx.const(bounds)
    _require(bounds.type.rank == 1 and bounds.type.shape[0] >= 1 and (
        _kjt_offsets(ctx, bounds) if values is None else int(values[-1]) == n),
        f"the bag bounds are neither concat(offsets, [{n}]), nor constant offsets ending in "
        f"{n} (the number of indices), nor a KeyedJaggedTensor's concat(0, cumsum(lengths))")
    bags = bounds.type.shape[0] - 1
    if values is None:
        return bounds, bags
    return ctx.emit1(nn_shape.Slice, [bounds], starts=[0], ends=[bags], axes=[0]), bags


def _check_tail(ctx: Context, bounds: Value, ends: Value) -> None:
    """`ends` must be bounds[1:]."""
    op = ends.owner
    if isinstance(op, nn_shape.Slice) and op.operands[0] is bounds:
        ok = op.attrs["starts"] == (1,) and op.attrs.get("axes") in (None, (0,)) and \
            op.attrs["ends"][0] >= bounds.type.shape[0] and op.attrs.get("steps") in \
            (None, (1,))
    else:
        b, e = ctx.const(bounds), ctx.const(ends)
        ok = b is not None and e is not None and np.array_equal(b[1:], e)
    _require(ok, "the bag ends are not the bag bounds shifted by one")


def _bag(ctx: Context, table: Value, indices: Value, offsets: Value, mode: str,
         bags: int) -> Value:
    """The pooled rows of the first `bags` bags."""
    _require(table.type.rank == 2, f"the table is not 2-D ({list(table.type.shape)})")
    _require(indices.type.rank == 1 and offsets.type.rank == 1,
             "indices and offsets are not 1-D")
    out = ctx.emit1(rec.EmbeddingBag, [table, indices, offsets], mode=mode)
    if offsets.type.shape[0] == bags:
        return out
    return ctx.emit1(nn_shape.Slice, [out], starts=[0], ends=[bags], axes=[0])


# -- legacy ---------------------------------------------------------------------------------
def _legacy(ctx: Context, node: Node) -> list:
    body = node.attrs["body"]
    _require(len(node.inputs) == 2 and len(body.output) == 2,
             "it carries values (the legacy pattern has one scan output only)")
    producer = {o: n for n in body.node for o in n.output}
    pool = producer.get(body.output[1].name)
    _require(pool is not None and pool.op_type in _POOL, "the scan output is not a pooling")
    want = _LEGACY.format(reduce=pool.op_type)
    _require(signature(body) == want, f"body ops '{signature(body)}', expected '{want}'")
    rows = producer[pool.input[0]]
    cut = producer.get(rows.input[1])
    _require(rows.op_type == "Gather" and cut is not None and cut.op_type == "Slice",
             "the pooled rows are not Gather(table, Slice(indices, start, end))")
    iter_name = body.input[0].name
    bounds = [producer[producer[cut.input[k]].input[0]] for k in (1, 2)]
    _require(all(b.op_type == "Gather" and b.input[1] == iter_name for b in bounds),
             "the slice bounds are not gathered at the iteration number")
    table, indices = ctx.lookup(rows.input[0], node.where()), ctx.lookup(cut.input[0], "")
    _require(isinstance(table, Value) and isinstance(indices, Value),
             "the table or the indices are not defined outside the loop")
    starts = ctx.lookup(bounds[0].input[0], "")
    _check_tail(ctx, starts, ctx.lookup(bounds[1].input[0], ""))
    offsets, bags = _offsets_of(ctx, starts, indices.type.shape[0])
    trips = ctx.const(node.inputs[0])
    _require(trips is not None and int(trips) == bags, "the trip count is not the number of bags")
    return [_bag(ctx, table, indices, offsets, _POOL[pool.op_type], bags)]


# -- dynamo ---------------------------------------------------------------------------------
def _unweighted_rows(ctx: Context, rows: Value) -> tuple[Value, Value]:
    """(table, indices) of rows = Gather(table, indices) [* per-sample weights of ones]."""
    op = rows.owner
    if isinstance(op, nn.Mul):
        weights = ctx.const(op.operands[1])
        _require(weights is not None and bool(np.all(weights == 1)),
                 "per-sample weights are not all ones")
        op = op.operands[0].owner
    _require(isinstance(op, nn_shape.Gather) and op.attrs["axis"] == 0,
             "the sliced rows are not Gather(table, indices)")
    return op.operands[0], op.operands[1]


def _dynamo_mode(body: onnx.GraphProto) -> str:
    sig = signature(body)
    for mode, inner in _DYNAMO.items():
        if sig == _DYNAMO_HEAD + inner + _DYNAMO_TAIL:
            return mode
    raise NotABag(f"body ops '{sig}' match no dynamo embedding-bag pattern")


def _carried(ctx: Context, node: Node, seq_type: type) -> tuple[int, int]:
    """Positions (among the loop-carried values) of the row sequence and the bag index."""
    carried = node.inputs[2:]
    seqs = [k for k, v in enumerate(carried) if isinstance(v, seq_type) and not v.items]
    ints = [k for k, v in enumerate(carried) if not isinstance(v, seq_type)]
    _require(len(carried) == 2 and len(seqs) == 1 and len(ints) == 1,
             "it does not carry exactly an empty sequence and a bag index")
    start = ctx.const(carried[ints[0]])
    _require(start is not None and int(start) == 0, "the bag index does not start at 0")
    return seqs[0], ints[0]


def _dynamo(ctx: Context, node: Node, seq_type: type) -> list:
    body = node.attrs["body"]
    seq_k, index_k = _carried(ctx, node, seq_type)
    mode = _dynamo_mode(body)
    slices = [n for n in _walk(body) if n.op_type == "Slice"]
    sources = {n.input[0] for n in slices}
    _require(len(sources) == 2, "the body slices other than the bounds and the rows")
    bounds_name = slices[0].input[0]
    rows_name = next(s for s in sources if s != bounds_name)
    table, indices = _unweighted_rows(ctx, ctx.lookup(rows_name, node.where()))
    offsets, count = _offsets_of(ctx, ctx.lookup(bounds_name, ""), indices.type.shape[0])
    limit = _check_dynamo_carried(body, seq_k, index_k)
    bags = ctx.const(ctx.lookup(limit, ""))
    _require(bags is not None and int(bags) == count, "the loop does not run once per bag")
    outs = [None, None]
    outs[seq_k] = seq_type([_bag(ctx, table, indices, offsets, mode, count)])
    outs[index_k] = ctx.constant(np.array(count, np.int64))
    return outs


def _check_dynamo_carried(body: onnx.GraphProto, seq_k: int, index_k: int) -> str:
    """Check how the carried values flow; the name of the bag count the loop runs to."""
    producer = {o: n for n in body.node for o in n.output}
    seq_in, index_in = body.input[2 + seq_k].name, body.input[2 + index_k].name
    insert = producer.get(body.output[1 + seq_k].name)
    _require(insert is not None and insert.op_type == "SequenceInsert"
             and insert.input[0] == seq_in, "the sequence is not appended to once per bag")
    step = producer.get(body.output[1 + index_k].name)
    _require(step is not None and step.op_type == "Add" and step.input[0] == index_in,
             "the bag index is not stepped by Add")
    cond = producer.get(body.output[0].name)
    _require(cond is not None and cond.op_type == "Less" and cond.input[0] == step.output[0],
             "the loop condition is not (next index < number of bags)")
    return cond.input[1]


def match_loop(ctx: Context, node: Node, seq_type: type) -> list:
    """The outputs of an embedding-bag Loop, or NotABag with the reason."""
    if len(node.inputs) == 2:
        return _legacy(ctx, node)
    return _dynamo(ctx, node, seq_type)
