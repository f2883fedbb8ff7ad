"""Reading ONNX models: the one place that opens an .onnx file and the external data it names.

External data is resolved against the model file's folder (never the current directory) and
refused when its location leaves that folder (an absolute path, `..`, or a symlink out); a model
given as a ModelProto has no folder, so external data in it is refused. A large initializer is
not read in: it becomes a read-only `np.memmap` of its file, so a production-size table costs
the pages a compile touches, not a copy in the proto plus another in numpy. `onnx.checker` runs
before any conversion, its findings wrapped into one line.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

import numpy as np
import onnx
from onnx import numpy_helper

from ir.errors import PimcError

__all__ = ["check_model", "load_onnx", "resolve_external_data", "runtime_model",
           "tensor_array"]

_PROTOBUF_LIMIT = 2**31 - 1
_MESSAGE_LIMIT = 300  # characters of a checker finding kept in the one-line error


def load_onnx(path: str | Path) -> onnx.ModelProto:
    """The model at `path`, checked, with its external data found in the model's folder (read
    in, or for a large initializer left there to be mapped; see `resolve_external_data`)."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise PimcError(f"{path}: no such file; accepted: a path to an .onnx model")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types for a damaged file
        first = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise PimcError(f"{path}: not a valid ONNX model ({type(exc).__name__}: "
                        f"{first[:_MESSAGE_LIMIT]})") from None
    if not proto.graph.output or not proto.opset_import:
        raise PimcError(f"{path}: not a valid ONNX model (no graph outputs or no opset; "
                        "the file may be truncated)")
    _check_names(proto.graph, where)
    resolve_external_data(proto, path.resolve().parent, where)  # before onnx.checker, which
    check_model(proto, where)  # would look for external files in the current folder
    return proto


def check_model(proto: onnx.ModelProto, where: str) -> None:
    """What the converters rely on, checked before any work; a finding is one line.

    Names first (each defined once, used after its definition), then `onnx.checker` (arity and
    attributes against each op's schema, tensors, subgraphs) and strict type inference.
    """
    _check_names(proto.graph, where)
    infer = _all_have_schemas(proto)
    try:
        with _typed_outputs(proto.graph) as retyped, \
                _relocated(proto, lambda path: "#" + path):  # '#': data held elsewhere
            checked = _without_weights(proto)
        data = _serialised(checked)
        if data is None:
            return  # past protobuf's limit; the converters and the IR verifier still check
        # One pass with strict type inference where the outputs needed no retyping; else
        # inference on the outputs as they were, afterwards.
        onnx.checker.check_model(data, full_check=infer and not retyped)
        if infer and retyped:
            del checked.graph.output[:]
            checked.graph.output.extend(proto.graph.output)  # as they were
            onnx.shape_inference.infer_shapes(checked, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise PimcError(f"not a valid ONNX model: {_one_line(str(exc))}", where) from None
    except ValueError as exc:  # an unreadable field
        raise PimcError(f"cannot check the ONNX model ({_one_line(str(exc))})", where) from None


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
# Element types whose raw data is a whole number of bytes per element: numpy's itemsize.
_ITEMSIZE = {getattr(onnx.TensorProto, name): size for name, size in (
    ("FLOAT", 4), ("DOUBLE", 8), ("FLOAT16", 2), ("BFLOAT16", 2), ("INT8", 1), ("UINT8", 1),
    ("INT16", 2), ("UINT16", 2), ("INT32", 4), ("UINT32", 4), ("INT64", 8), ("UINT64", 8),
    ("BOOL", 1))}


def _without_weights(proto: onnx.ModelProto) -> onnx.ModelProto:
    """What onnx.checker reads of `proto`, built field by field with the bytes of every large
    initializer left out (``_set_aside``): serialising a model's weights to check it took
    0.5-2 s for 268 MB and 4 s for 538 MB in memory, which was all of their import. An
    initializer whose bytes are not exactly what its shape and type need is kept whole, so
    the checker still names what is wrong with it."""
    out = onnx.ModelProto()
    _copy_fields(proto, out, skip="graph")
    _copy_fields(proto.graph, out.graph, skip="initializer")
    for tensor in proto.graph.initializer:
        out.graph.initializer.append(_set_aside(tensor) or tensor)
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


def _set_aside(tensor: onnx.TensorProto) -> onnx.TensorProto | None:
    """`tensor` without its raw data, marked as data held elsewhere ('#', as resolved external
    data is while the checker runs), when its shape and type need at least `_ASIDE_BYTES`
    and its raw data is exactly that long (its length read one tensor at a time: a passing
    copy, 27 ms for 64 MiB). None otherwise (the tensor is checked whole)."""
    size = _ITEMSIZE.get(tensor.data_type)
    if size is None or tensor.data_location == onnx.TensorProto.EXTERNAL or \
            not tensor.HasField("raw_data"):
        return None
    need = math.prod(tensor.dims) * size
    if need < _ASIDE_BYTES or len(tensor.raw_data) != need:
        return None
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


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "no detail given"
    head = lines[0].removeprefix("[ShapeInferenceError] ")
    context = " ".join(lines[1:]).replace("==> Context: ", "").strip()
    out = f"{head} ({context})" if context else head
    return out if len(out) <= _MESSAGE_LIMIT else out[:_MESSAGE_LIMIT - 3] + "..."


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: onnx.NodeProto) -> Iterator[onnx.TensorProto]:
    for attr in node.attribute:
        if attr.HasField("t"):
            yield attr.t
        yield from attr.tensors
        if attr.HasField("g"):
            yield from _graph_tensors(attr.g)
        for sub in attr.graphs:
            yield from _graph_tensors(sub)


def _tensors(proto: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    yield from _graph_tensors(proto.graph)
    for function in proto.functions:
        for node in function.node:
            yield from _node_tensors(node)


def resolve_external_data(proto: onnx.ModelProto, folder: Path | None, where: str) -> None:
    """Check every tensor's external data in `folder` (inside it, in bounds) and read it into
    the tensor, except a graph initializer of more than `_MAP_BYTES`: that one is pointed at
    its file by real path and `tensor_array` maps it (np.memmap) instead of copying it. A
    tensor this process has already resolved passes again without a folder."""
    graph_initializers = len(proto.graph.initializer)  # _tensors yields these first
    for i, tensor in enumerate(_tensors(proto)):
        if tensor.data_location != onnx.TensorProto.EXTERNAL or _resolved(tensor):
            continue
        if folder is None:
            raise PimcError(f"tensor '{tensor.name}' keeps its data in an external file; "
                            "accepted: the model's file path, so the data is read from the "
                            "model's folder", where)
        path, offset, length = _locate(tensor, folder, where)
        if i < graph_initializers and length > _MAP_BYTES:
            _point_at(tensor, path, offset, length)
            continue
        tensor.raw_data = _read(path, offset, length, f"the external data of tensor "
                                f"'{tensor.name}'", where)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT


_MAP_BYTES = 1 << 20  # smaller tensors (scales, biases, MLP layers) are read in, as onnx does


def _point_at(tensor: onnx.TensorProto, path: Path, offset: int, length: int) -> None:
    del tensor.external_data[:]
    for key, value in (("location", str(path)), ("offset", str(offset)),
                       ("length", str(length))):
        tensor.external_data.add(key=key, value=value)
    _RESOLVED.add(_entry(tensor))


def _read(path: Path, offset: int, length: int, what: str, where: str) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(length)
    except OSError as exc:
        raise PimcError(f"{what} cannot be read ({type(exc).__name__})", where) from None


_RESOLVED: set[tuple[str, str, str]] = set()  # (real path, offset, length) checked here


def _entry(tensor: onnx.TensorProto) -> tuple[str, str, str]:
    info = {entry.key: entry.value for entry in tensor.external_data}
    return info.get("location", ""), info.get("offset", ""), info.get("length", "")


def _resolved(tensor: onnx.TensorProto) -> bool:
    return tensor.data_location == onnx.TensorProto.EXTERNAL and _entry(tensor) in _RESOLVED


def runtime_model(proto: onnx.ModelProto) -> tuple[bytes, str | None]:
    """`proto` serialised for ONNX Runtime, with the tensors `resolve_external_data` left in
    their files located relative to one folder (returned; None when there is none), which
    ONNX Runtime is told to read them from: it maps them, so they are never copied."""
    paths = [_location(t).value for t in _tensors(proto) if _resolved(t)]
    if not paths:
        return proto.SerializeToString(), None
    folder = os.path.commonpath([os.path.dirname(p) for p in paths])
    with _relocated(proto, lambda path: os.path.relpath(path, folder)):
        return proto.SerializeToString(), folder


@contextmanager
def _relocated(proto: onnx.ModelProto, move: Callable[[str], str]) -> Iterator[None]:
    """The resolved external tensors' locations changed by `move` for a while, then restored:
    onnx.checker and ONNX Runtime look for files relative to a folder, never by a real path."""
    entries = [_location(t) for t in _tensors(proto) if _resolved(t)]
    saved = [e.value for e in entries]
    for entry in entries:
        entry.value = move(entry.value)
    try:
        yield
    finally:
        for entry, value in zip(entries, saved):
            entry.value = value


def _location(tensor: onnx.TensorProto) -> onnx.StringStringEntryProto:
    return next(e for e in tensor.external_data if e.key == "location")


def _inside(location: str, folder: Path, what: str, where: str) -> Path:
    """The file `location` names, when it is a relative path that stays inside `folder`."""
    pure = PurePath(location)
    if not location or "\0" in location or pure.is_absolute() or pure.drive or ".." in pure.parts:
        raise PimcError(f"{what} is stored at '{location}'; accepted: a relative path inside "
                        "the model's folder, without '..'", where)
    base = os.path.realpath(folder)
    real = os.path.realpath(folder / pure)
    if os.path.commonpath([base, real]) != base:
        raise PimcError(f"{what} is stored at '{location}', which leads out of the model's "
                        "folder (a symbolic link); accepted: files inside the model's folder",
                        where)
    return Path(real)


def _locate(tensor: onnx.TensorProto, folder: Path, where: str) -> tuple[Path, int, int]:
    """(real path, offset, length) of a tensor's external data, checked against its file."""
    what = f"the external data of tensor '{tensor.name}'"
    info = {entry.key: entry.value for entry in tensor.external_data}
    path = _inside(info.get("location", ""), folder, what, where)
    try:
        offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
    except ValueError:
        raise PimcError(f"{what} has a non-integer offset or length", where) from None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise PimcError(f"{what}: no such file in the model's folder", where) from None
    except OSError as exc:
        raise PimcError(f"{what} cannot be read ({type(exc).__name__})", where) from None
    if not stat.S_ISREG(st.st_mode):
        raise PimcError(f"{what} is not a regular file", where)
    end = st.st_size if length < 0 else offset + length
    if offset < 0 or end > st.st_size:
        raise PimcError(f"{what} asks for bytes {offset} to {end} of a "
                        f"{st.st_size}-byte file", where)
    return path, offset, end - offset


def _mapped(tensor: onnx.TensorProto, where: str) -> np.ndarray:
    """A resolved external tensor as a read-only map of its file: pages are read when used, a
    write raises instead of reaching the file, and a writer of mapped.pir can link the file
    rather than copy the weight (ir/io.py)."""
    path, offset, length = _entry(tensor)
    shape = tuple(int(d) for d in tensor.dims)
    dtype = _MAPPABLE.get(tensor.data_type)
    if dtype is None:  # packed or converted types: read the bytes, let onnx convert them
        inline = onnx.TensorProto()
        inline.CopyFrom(tensor)
        del inline.external_data[:]
        inline.data_location = onnx.TensorProto.DEFAULT
        inline.raw_data = _read(Path(path), int(offset), int(length),
                                f"the external data of tensor '{tensor.name}'", where)
        return tensor_array(inline, where)
    need = math.prod(shape) * dtype.itemsize
    if need != int(length):
        raise PimcError(f"the external data of tensor '{tensor.name}' holds {length} bytes; "
                        f"its shape {list(shape)} and type need {need}", where)
    if need == 0:
        return np.zeros(shape, dtype)
    try:
        return np.memmap(path, dtype, "r", int(offset), shape)
    except (OSError, ValueError) as exc:  # the file changed since it was checked
        raise PimcError(f"the external data of tensor '{tensor.name}' cannot be mapped "
                        f"({type(exc).__name__}: {_one_line(str(exc))})", where) from None


_MAPPABLE = {getattr(onnx.TensorProto, name): np.dtype(code) for name, code in (
    ("FLOAT", "<f4"), ("DOUBLE", "<f8"), ("FLOAT16", "<f2"), ("INT8", "i1"), ("UINT8", "u1"),
    ("INT16", "<i2"), ("UINT16", "<u2"), ("INT32", "<i4"), ("UINT32", "<u4"),
    ("INT64", "<i8"), ("UINT64", "<u8"), ("BOOL", "?"))}


def tensor_array(tensor: onnx.TensorProto, where: str) -> np.ndarray:
    """The numpy value of a tensor: its data in the model, or a read-only map of the external
    file `resolve_external_data` checked (a np.memmap, never a copy)."""
    if _resolved(tensor):
        return _mapped(tensor, where)
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        raise PimcError(f"tensor '{tensor.name}' keeps its data in an external file that was "
                        "not read; accepted: a model loaded from its path", where)
    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError, KeyError) as exc:
        raise PimcError(f"tensor '{tensor.name}' cannot be read ({_one_line(str(exc))})",
                        where) from None
