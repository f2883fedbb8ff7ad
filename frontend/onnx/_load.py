"""Reading ONNX models: the one place that opens an .onnx file and the external data it names.

External data is resolved against the model file's folder (never the current directory) and
refused when its location leaves that folder (an absolute path, `..`, or a symlink out); a model
given as a ModelProto has no folder, so external data in it is refused. `onnx.checker` runs
before any conversion, its findings wrapped into one line.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

import numpy as np
import onnx
from onnx import numpy_helper

from ir.errors import PimcError

__all__ = ["check_model", "load_onnx", "resolve_external_data", "tensor_array"]

_PROTOBUF_LIMIT = 2**31 - 1
_MESSAGE_LIMIT = 300  # characters of a checker finding kept in the one-line error


def load_onnx(path: str | Path) -> onnx.ModelProto:
    """The model at `path`, checked, with its external data read from the model's folder."""
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
    if proto.ByteSize() >= _PROTOBUF_LIMIT:
        return  # onnx.checker cannot serialise it; the converters and the IR verifier still check
    try:
        with _typed_outputs(proto.graph):
            onnx.checker.check_model(proto)
        if all(_has_schema(n, proto) for n in proto.graph.node):
            onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise PimcError(f"not a valid ONNX model: {_one_line(str(exc))}", where) from None
    except ValueError as exc:  # an unreadable field
        raise PimcError(f"cannot check the ONNX model ({_one_line(str(exc))})", where) from None


@contextmanager
def _typed_outputs(graph: onnx.GraphProto) -> Iterator[None]:
    """Graph outputs with an element type and a shape field while the checker runs: it demands
    them, the importer never reads them (exporters and hand-built models often leave them out),
    and strict type inference afterwards still sees the outputs as they were."""
    saved = [onnx.ValueInfoProto.FromString(v.SerializeToString()) for v in graph.output]
    for vi in graph.output:
        if vi.type.WhichOneof("value") not in (None, "tensor_type"):
            continue
        tensor = vi.type.tensor_type
        if not tensor.elem_type:
            tensor.elem_type = onnx.TensorProto.FLOAT
        if not tensor.HasField("shape"):
            tensor.shape.SetInParent()
    try:
        yield
    finally:
        del graph.output[:]
        graph.output.extend(saved)


def _has_schema(node: onnx.NodeProto, proto: onnx.ModelProto) -> bool:
    opsets = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    return onnx.defs.has(node.op_type, opsets.get(node.domain or "ai.onnx", 0), node.domain)


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
    """Read every tensor's external data from `folder` into the tensor itself."""
    for tensor in _tensors(proto):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        if folder is None:
            raise PimcError(f"tensor '{tensor.name}' keeps its data in an external file; "
                            "accepted: the model's file path, so the data is read from the "
                            "model's folder", where)
        tensor.raw_data = _read_external(tensor, folder, where)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT


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


def _read_external(tensor: onnx.TensorProto, folder: Path, where: str) -> bytes:
    what = f"the external data of tensor '{tensor.name}'"
    info = {entry.key: entry.value for entry in tensor.external_data}
    path = _inside(info.get("location", ""), folder, what, where)
    try:
        offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
    except ValueError:
        raise PimcError(f"{what} has a non-integer offset or length", where) from None
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise PimcError(f"{what} is not a regular file", where)
            end = st.st_size if length < 0 else offset + length
            if offset < 0 or end > st.st_size:
                raise PimcError(f"{what} asks for bytes {offset} to {end} of a "
                                f"{st.st_size}-byte file", where)
            f.seek(offset)
            return f.read(end - offset)
    except FileNotFoundError:
        raise PimcError(f"{what}: no such file in the model's folder", where) from None
    except OSError as exc:
        raise PimcError(f"{what} cannot be read ({type(exc).__name__})", where) from None


def tensor_array(tensor: onnx.TensorProto, where: str) -> np.ndarray:
    """The numpy value of a tensor whose data is in the model (external data already read)."""
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        raise PimcError(f"tensor '{tensor.name}' keeps its data in an external file that was "
                        "not read; accepted: a model loaded from its path", where)
    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError, KeyError) as exc:
        raise PimcError(f"tensor '{tensor.name}' cannot be read ({_one_line(str(exc))})",
                        where) from None
