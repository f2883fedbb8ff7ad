"""Reading ONNX models: the one place that opens an .onnx file, and the check every model passes
before any conversion (`onnx.checker` and strict type inference, its findings wrapped into one
line). The external data a model names is resolved in `_external.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import onnx

from frontend.onnx._external import (
    MAPPABLE,
    MESSAGE_LIMIT,
    one_line,
    relocated,
    resolve_external_data,
)
from ir.errors import PimcError

__all__ = ["check_model", "load_onnx"]

_PROTOBUF_LIMIT = 2**31 - 1


def load_onnx(path: str | Path) -> onnx.ModelProto:
    """The model at `path`, checked, with its external data found in the model's folder (read
    in, or for a large initializer left there to be mapped; see `resolve_external_data`)."""
    return load_checked(path)[0]


def load_checked(path: str | Path) -> tuple[onnx.ModelProto, dict[str, bytes]]:
    """`load_onnx`, and the bytes `check_model` read of its large initializers."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise PimcError(f"{path}: no such file; accepted: a path to an .onnx model")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types for a damaged file
        first = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise PimcError(f"{path}: not a valid ONNX model ({type(exc).__name__}: "
                        f"{first[:MESSAGE_LIMIT]})") from None
    if not proto.graph.output or not proto.opset_import:
        raise PimcError(f"{path}: not a valid ONNX model (no graph outputs or no opset; "
                        "the file may be truncated)")
    _check_names(proto.graph, where)
    resolve_external_data(proto, path.resolve().parent, where)  # before onnx.checker, which
    read = check_model(proto, where)  # would look for external files in the current folder
    return proto, read


def check_model(proto: onnx.ModelProto, where: str) -> dict[str, bytes]:
    """What the converters rely on, checked before any work; a finding is one line.

    Names first (each defined once, used after its definition), then `onnx.checker` (arity and
    attributes against each op's schema, tensors, subgraphs) and strict type inference.
    Returns the bytes it read of the initializers it checked without them (``_set_aside``),
    by name: the importer's arrays are those bytes, so the model's weights are copied out of
    it once (reading a field copies it: twice was 2.8% of a search-loop compile).
    """
    _check_names(proto.graph, where)
    infer = _all_have_schemas(proto)
    read: dict[str, bytes] = {}
    try:
        with _typed_outputs(proto.graph) as retyped, \
                relocated(proto, lambda path: "#" + path):  # '#': data held elsewhere
            checked = _without_weights(proto, read)
        data = _serialised(checked)
        if data is None:
            return read  # past protobuf's limit; the converters and the IR verifier check
        # One pass with strict type inference where the outputs needed no retyping; else
        # inference on the outputs as they were, afterwards.
        onnx.checker.check_model(data, full_check=infer and not retyped)
        if infer and retyped:
            del checked.graph.output[:]
            checked.graph.output.extend(proto.graph.output)  # as they were
            onnx.shape_inference.infer_shapes(checked, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise PimcError(f"not a valid ONNX model: {one_line(str(exc))}", where) from None
    except ValueError as exc:  # an unreadable field
        raise PimcError(f"cannot check the ONNX model ({one_line(str(exc))})", where) from None
    return read


@contextmanager
def _typed_outputs(graph: onnx.GraphProto) -> Iterator[bool]:
    """Graph outputs with an element type and a shape field while the checker runs: it demands
    them, the importer never reads them (exporters and hand-built models often leave them out),
    and strict type inference afterwards still sees the outputs as they were. Yields whether
    any output had to be retyped."""
    untyped = [vi for vi in graph.output if vi.type.WhichOneof("value") in (None, "tensor_type")
               and not (vi.type.tensor_type.elem_type and vi.type.tensor_type.HasField("shape"))]
    if not untyped:
        yield False
        return
    saved = [onnx.ValueInfoProto.FromString(v.SerializeToString()) for v in graph.output]
    for vi in untyped:
        tensor = vi.type.tensor_type
        if not tensor.elem_type:
            tensor.elem_type = onnx.TensorProto.FLOAT
        if not tensor.HasField("shape"):
            tensor.shape.SetInParent()
    try:
        yield True
    finally:
        del graph.output[:]
        graph.output.extend(saved)


# Initializers of at least this many bytes are checked without their data (`_without_weights`):
# no shape input is anywhere near it, and the copy of the smaller ones the checker is shown
# stays small beside the model.
_ASIDE_BYTES = 1 << 16


def _without_weights(proto: onnx.ModelProto,
                     read: dict[str, bytes] | None = None) -> onnx.ModelProto:
    """What onnx.checker reads of `proto`, built field by field with the bytes of every large
    initializer left out (``_set_aside``): serialising a model's weights to check it took
    0.5-2 s for 268 MB and 4 s for 538 MB in memory, which was all of their import. An
    initializer whose bytes are not exactly what its shape and type need is kept whole, so
    the checker still names what is wrong with it. `read`: where the bytes of each tensor
    left out go, by name."""
    out = onnx.ModelProto()
    _copy_fields(proto, out, skip="graph")
    _copy_fields(proto.graph, out.graph, skip="initializer")
    for tensor in proto.graph.initializer:
        out.graph.initializer.append(_set_aside(tensor, read) or tensor)
    return out


def _copy_fields(src, dst, skip: str) -> None:
    """Every field of message `src` that is set, but `skip`, copied into `dst` (the value of
    `skip` is never read, so never copied)."""
    for fd in src.DESCRIPTOR.fields:
        if fd.name == skip:
            continue
        value = getattr(src, fd.name)
        if fd.is_repeated:
            if len(value):
                getattr(dst, fd.name).extend(value)
        elif fd.message_type is not None:
            if src.HasField(fd.name):
                getattr(dst, fd.name).CopyFrom(value)
        elif src.HasField(fd.name):
            setattr(dst, fd.name, value)


def _set_aside(tensor: onnx.TensorProto,
               read: dict[str, bytes] | None = None) -> onnx.TensorProto | None:
    """`tensor` without its raw data, marked as data held elsewhere ('#', as resolved external
    data is while the checker runs), when its shape and type need at least `_ASIDE_BYTES`
    and its raw data is exactly that long (its length read one tensor at a time: a copy, 27 ms
    for 64 MiB, kept in `read` by the tensor's name when given). None otherwise (the tensor is
    checked whole)."""
    dtype = MAPPABLE.get(tensor.data_type)  # a whole number of bytes per element
    if dtype is None or tensor.data_location == onnx.TensorProto.EXTERNAL or \
            not tensor.HasField("raw_data"):
        return None
    need = math.prod(tensor.dims) * dtype.itemsize
    if need < _ASIDE_BYTES:
        return None
    raw = tensor.raw_data
    if len(raw) != need:
        return None
    if read is not None:
        read[tensor.name] = raw
    out = onnx.TensorProto()
    _copy_fields(tensor, out, skip="raw_data")
    out.data_location = onnx.TensorProto.EXTERNAL
    entry = out.external_data.add()
    entry.key, entry.value = "location", f"#{tensor.name}"
    return out


def _serialised(proto: onnx.ModelProto) -> bytes | None:
    """The model's bytes, or None past protobuf's 2 GiB limit (what onnx.checker would need)."""
    from google.protobuf.message import EncodeError

    try:
        data = proto.SerializeToString()
    except (ValueError, EncodeError):  # 2 GiB or more: EncodeError from upb, ValueError from
        return None                    # the C++ and Python backends
    return data if len(data) < _PROTOBUF_LIMIT else None


def _all_have_schemas(proto: onnx.ModelProto) -> bool:
    """Whether every node's op has a schema in the model's opsets (each distinct op asked once:
    a model repeats a few ops many times)."""
    opsets = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    ops = dict.fromkeys((n.op_type, n.domain) for n in proto.graph.node)
    return all(onnx.defs.has(op, opsets.get(domain or "ai.onnx", 0), domain)
               for op, domain in ops)


def _check_names(graph: onnx.GraphProto, where: str) -> None:
    """Every name defined once (inputs, initializers, node outputs), each use after its
    definition (which also rules out cycles), so no value is silently replaced."""
    defined: set[str] = set()
    for kind, names in (("graph input", [v.name for v in graph.input]),
                        ("initializer", [t.name for t in graph.initializer])):
        seen = set()
        for name in names:
            if name in seen:
                raise PimcError(f"{kind} '{name}' is defined twice", where)
            seen.add(name)
        defined |= seen
    for node in graph.node:
        label = f"{node.op_type} node '{node.name or (node.output[0] if node.output else '?')}'"
        for name in node.input:
            if name and name not in defined:
                raise PimcError(f"input '{name}' of {label} is not defined before it (a graph "
                                "out of order or with a cycle); accepted: topologically sorted "
                                "nodes", where)
        for name in node.output:
            if name in defined:
                raise PimcError(f"value '{name}' is defined twice (again by {label}); "
                                "accepted: one definition per name", where)
            if name:
                defined.add(name)
