"""The external data an ONNX model names, and the numpy value of any tensor.

External data is resolved against the model file's folder (never the current directory) and
refused when its location leaves that folder (an absolute path, `..`, or a symlink out); a model
given as a ModelProto has no folder, so external data in it is refused. A large initializer is
not read in: it becomes a read-only `np.memmap` of its file, so a production-size table costs
the pages a compile touches, not a copy in the proto plus another in numpy.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

import numpy as np
import onnx
from onnx import numpy_helper

from ir.errors import PimcError

__all__ = ["MAPPABLE", "MESSAGE_LIMIT", "one_line", "relocated", "resolve_external_data",
           "runtime_model", "tensor_array"]

MESSAGE_LIMIT = 300  # characters of a checker finding kept in the one-line error


def one_line(text: str) -> str:
    """An error text from onnx or numpy as one line of at most `MESSAGE_LIMIT` characters."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "no detail given"
    head = lines[0].removeprefix("[ShapeInferenceError] ")
    context = " ".join(lines[1:]).replace("==> Context: ", "").strip()
    out = f"{head} ({context})" if context else head
    return out if len(out) <= MESSAGE_LIMIT else out[:MESSAGE_LIMIT - 3] + "..."


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
    paths = [_location(t).value for t in _left_in_files(proto)]
    if not paths:
        return proto.SerializeToString(), None
    folder = os.path.commonpath([os.path.dirname(p) for p in paths])
    with relocated(proto, lambda path: os.path.relpath(path, folder)):
        return proto.SerializeToString(), folder


@contextmanager
def relocated(proto: onnx.ModelProto, move: Callable[[str], str]) -> Iterator[None]:
    """The resolved external tensors' locations changed by `move` for a while, then restored:
    onnx.checker and ONNX Runtime look for files relative to a folder, never by a real path."""
    entries = [_location(t) for t in _left_in_files(proto)]
    saved = [e.value for e in entries]
    for entry in entries:
        entry.value = move(entry.value)
    try:
        yield
    finally:
        for entry, value in zip(entries, saved):
            entry.value = value


def _left_in_files(proto: onnx.ModelProto) -> list[onnx.TensorProto]:
    """The tensors of `proto` that `resolve_external_data` left in their files: none unless
    this process has left some; then every tensor is looked at (0.8 ms for a 600-node
    search candidate, paid by its ONNX check and again by its functional check)."""
    return [t for t in _tensors(proto) if _resolved(t)] if _RESOLVED else []


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
    dtype = MAPPABLE.get(tensor.data_type)
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
                        f"({type(exc).__name__}: {one_line(str(exc))})", where) from None


# ONNX element types stored a whole number of bytes per element, as numpy dtypes: the ones
# that can be memory-mapped (and whose raw data's length the ONNX check can verify).
MAPPABLE = {getattr(onnx.TensorProto, name): np.dtype(code) for name, code in (
    ("FLOAT", "<f4"), ("DOUBLE", "<f8"), ("FLOAT16", "<f2"), ("INT8", "i1"), ("UINT8", "u1"),
    ("INT16", "<i2"), ("UINT16", "<u2"), ("INT32", "<i4"), ("UINT32", "<u4"),
    ("INT64", "<i8"), ("UINT64", "<u8"), ("BOOL", "?"))}


def tensor_array(tensor: onnx.TensorProto, where: str, raw: bytes | None = None) -> np.ndarray:
    """The numpy value of a tensor: its data in the model, or a read-only map of the external
    file `resolve_external_data` checked (a np.memmap, never a copy). `raw`: its raw data as
    already read (``_load.check_model``'s; its length checked against its shape and type),
    viewed rather than read again."""
    if raw is not None and sys.byteorder == "little":
        return np.frombuffer(raw, MAPPABLE[tensor.data_type]).reshape(tuple(tensor.dims))
    if _resolved(tensor):
        return _mapped(tensor, where)
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        raise PimcError(f"tensor '{tensor.name}' keeps its data in an external file that was "
                        "not read; accepted: a model loaded from its path", where)
    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError, KeyError) as exc:
        raise PimcError(f"tensor '{tensor.name}' cannot be read ({one_line(str(exc))})",
                        where) from None
