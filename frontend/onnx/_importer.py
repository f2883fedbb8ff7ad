"""`import_onnx`: an ONNX model (opsets 13 to 21) to an IR module of `nn` and `rec` ops."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import onnx

from frontend.onnx._context import Context, onnx_dtype
from frontend.onnx._external import resolve_external_data, tensor_array
from frontend.onnx._load import check_model, load_checked
from frontend.onnx.converters import convert_nodes
from frontend.precision import quantised_values
from ir.core import Graph, Module, Value, detach
from ir.errors import PimcError
from ir.types import TensorType
from ir.verify import verify

__all__ = ["import_onnx", "OPSETS"]

OPSETS = range(13, 22)
_TOO_BIG = ("array is too big", "Maximum allowed size exceeded")  # numpy's words for it


def _load(model: str | Path | onnx.ModelProto) -> tuple[onnx.ModelProto, str, dict]:
    """The model checked, its name for messages, and the raw data the check read (by name)."""
    if not isinstance(model, onnx.ModelProto):
        proto, read = load_checked(model)
        return proto, str(model), read
    where = model.graph.name or "model"
    resolve_external_data(model, None, where)  # no file, so no folder to read it from
    return model, where, check_model(model, where)


def _opset(proto: onnx.ModelProto, where: str) -> int:
    versions = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")]
    if not versions:
        raise PimcError("the model imports no default-domain ONNX opset; accepted: opsets "
                        f"{OPSETS.start} to {OPSETS.stop - 1}", where)
    if versions[0] not in OPSETS:
        raise PimcError(f"ONNX opset {versions[0]} is not supported; accepted: opsets "
                        f"{OPSETS.start} to {OPSETS.stop - 1}", where)
    return versions[0]


def _dim(name: str, axis: int, d, batch: int | None, dims: Mapping[str, int]) -> int:
    if d.HasField("dim_value"):
        return d.dim_value
    if d.dim_param and d.dim_param in dims:
        return int(dims[d.dim_param])
    if axis == 0 and batch is not None:
        return int(batch)
    param = d.dim_param or "?"
    raise PimcError(f"input '{name}' axis {axis} has the symbolic dimension '{param}'; "
                    f"pass --batch N (or --dim {d.dim_param or 'NAME'}=N)")


def _arg_type(vi: onnx.ValueInfoProto, batch: int | None, dims: Mapping[str, int],
              where: str) -> TensorType:
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        raise PimcError(f"input '{vi.name}' is not a tensor of known rank; accepted: "
                        "tensor inputs with a shape", where)
    tt = vi.type.tensor_type
    dtype = onnx_dtype(tt.elem_type, f"{where}: input '{vi.name}'")
    try:
        shape = [_dim(vi.name, i, d, batch, dims) for i, d in enumerate(tt.shape.dim)]
    except PimcError as exc:
        raise PimcError(exc.message, where) from None
    return TensorType(tuple(shape), dtype)


def _live_ops(graph: Graph) -> None:
    """Drop the ops nothing reads (folded shape sub-graphs leave their constants behind)."""
    live = set(graph.outputs)
    kept, dropped = [], []
    for op in reversed(graph.ops):
        if any(r in live for r in op.results):
            kept.append(op)
            live.update(op.operands)
        else:
            dropped.append(op)
    graph.ops = kept[::-1]
    detach(dropped)


def _outputs(ctx: Context, g: onnx.GraphProto, where: str) -> list[Value]:
    outs = [ctx.lookup(o.name, where) for o in g.output]
    for o, v in zip(g.output, outs):
        if not isinstance(v, Value):
            raise PimcError(f"output '{o.name}' is not a tensor; accepted: tensor outputs",
                            where)
    return outs


def import_onnx(model: str | Path | onnx.ModelProto, batch: int | None = None,
                dims: Mapping[str, int] | None = None, name: str | None = None,
                fold: bool = True, verify_ir: bool = True) -> Module:
    """Import an ONNX model, binding symbolic dimensions (axis 0 by `batch`, others by name
    in `dims`); `fold` folds every small or integer constant expression during import. The
    output of every fake-quantisation chain (`frontend.precision`) gets the chain's `bits`.
    `verify_ir`: the IR verifier runs on the result (off only where the caller checks nothing
    of the IR: ``compile(check="none")``; the model itself is checked either way)."""
    proto, where, read = _load(model)
    opset = _opset(proto, where)
    if proto.functions:
        proto = onnx.inliner.inline_local_functions(proto)
    g = proto.graph
    graph = Graph("main")
    ctx = Context(graph, opset, fold)
    ctx.bits = quantised_values(proto)
    for init in g.initializer:
        ctx.values[init.name] = ctx.constant(tensor_array(init, where, read.get(init.name)),
                                             init.name)
    for vi in g.input:
        if vi.name not in ctx.values:  # inputs listed as initializers stay weights
            ctx.values[vi.name] = ctx.argument(_arg_type(vi, batch, dims or {}, where), vi.name)
    try:
        convert_nodes(ctx, g.node)
    except (MemoryError, ValueError) as exc:  # a declared shape beyond memory, as a constant
        if isinstance(exc, ValueError) and not str(exc).startswith(_TOO_BIG):
            raise
        node = f" (at {ctx.source})" if ctx.source else ""
        raise PimcError(f"a constant computed at import time does not fit in memory{node}; "
                        "accepted: shapes that fit the machine", where) from None
    graph.outputs = _outputs(ctx, g, where)
    graph.output_names = [o.name for o in g.output]
    _live_ops(graph)
    module = Module(name or Path(where).stem.replace(".", "_") or "model", [graph])
    if verify_ir:
        verify(module)
    return module
