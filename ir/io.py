"""Reading and writing .pir files with their .npz weights sidecar, atomically.

A weight that is a read-only map of a file (the loader maps an ONNX model's external data, and
table shards are views of it) is not rewritten into the sidecar: the file is copied as it is
beside the .pir file (same stem, `.data` suffix; a file-to-file copy in the kernel, never
through this process's memory) and the sidecar's `#linked` entry says where in it each such
weight lies. The folder holds every byte it needs (its manifest hashes the copy like any other
file). A copy, not a hard link: the onnx library refuses external data with more than one link
(as a hard-link attack), so a link would break the user's own model, and a later save of the
model into its data file in place would change the output folder with it.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from ir.core import Module
from ir.errors import PimcError
from ir.text import print_module_with_weights

__all__ = ["LINKED", "Sidecar", "atomic_write", "current_umask", "linked_path", "load", "read",
           "read_npz", "save", "sidecar_path", "write_npz"]

LINKED = "#linked"  # the sidecar entry (JSON bytes) locating weights in the linked file; no
# weight is called so (a weight name is an identifier)


def sidecar_path(path: str | Path) -> Path:
    """The weights file beside a .pir file: same stem, .npz suffix."""
    return Path(path).with_suffix(".npz")


def linked_path(path: str | Path) -> Path:
    """The file beside a .pir file that mapped weights are linked as: same stem, .data."""
    return Path(path).with_suffix(".data")


def current_umask() -> int:
    """The process's file-creation mask (reading it means setting it, so it is set back)."""
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _temp_beside(path: Path) -> str:
    """An empty temporary file in `path`'s folder, with the mode a plain new file gets there
    (mkstemp's 0600 is for the unguessable name, not for what is moved into place)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())
    return tmp


def atomic_write(path: str | Path, write) -> None:
    """Call `write(tmp_path)` and move the result into place; nothing half-written stays."""
    path = Path(path)
    tmp = _temp_beside(path)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_npz(weights: Mapping[str, np.ndarray], tmp: str | Path) -> None:
    """What np.savez writes, without passing names as keywords (an array called `file` or
    `allow_pickle` collided with np.savez's own parameters)."""
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in weights.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)


def save(module: Module, path: str | Path) -> None:
    """Write `module` as text to `path` and its large constants to the sidecar (those mapped
    from one file: to a copy of that file, located by the sidecar)."""
    path = Path(path)
    if not path.parent.exists():
        raise PimcError(f"cannot write {path}: folder {path.parent} does not exist")
    text, weights = print_module_with_weights(module)
    npz, data = sidecar_path(path), linked_path(path)
    linked = _link(weights, data)
    if linked:
        weights = {k: v for k, v in weights.items() if k not in linked}
        weights[LINKED] = np.frombuffer(json.dumps(
            {"file": data.name, "arrays": linked}, sort_keys=True).encode(), np.uint8)
    else:
        data.unlink(missing_ok=True)
    if weights:
        atomic_write(npz, lambda tmp: write_npz(weights, tmp))
    else:
        npz.unlink(missing_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(text))


def _mapped_root(array: np.ndarray) -> np.memmap | None:
    """The read-only np.memmap `array` is a view of (its own mapping of a file), if any."""
    base = array
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap) and isinstance(base.base, mmap.mmap):
            return base if base.mode == "r" and base.filename else None
        base = base.base
    return None


def _file_slices(weights: Mapping[str, np.ndarray]) -> dict[str, dict[str, tuple]]:
    """By file: the weights that are C-contiguous views of a read-only map of it, each as
    (byte offset in the file, dtype, shape)."""
    out: dict[str, dict[str, tuple]] = {}
    for name, array in weights.items():
        root = _mapped_root(array) if isinstance(array, np.ndarray) else None
        if root is None or not array.flags.c_contiguous:
            continue
        start = root.offset + array.ctypes.data - root.ctypes.data
        out.setdefault(root.filename, {})[name] = (start, array.dtype.str, list(array.shape))
    return out


def _link(weights: Mapping[str, np.ndarray], data: Path) -> dict[str, tuple]:
    """Copy the file most of the mapped weights' bytes come from to `data` (kept as it is when
    `data` already is that file); the weights found in it, by name (empty when there are none
    or the copy cannot be made)."""
    by_file = _file_slices(weights)
    if not by_file:
        return {}
    source = max(by_file, key=lambda f: sum(weights[n].nbytes for n in by_file[f]))
    if data.exists() and os.path.samefile(source, data):  # saved over the file it was read from
        return by_file[source]
    tmp = _temp_beside(data)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, data)
    except OSError:  # e.g. no room for the copy: the weights go into the sidecar instead
        Path(tmp).unlink(missing_ok=True)
        return {}
    return by_file[source]


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz file; an unreadable one is a one-line PimcError."""
    sidecar = Sidecar(path)
    try:
        return {k: sidecar[k] for k in sidecar}
    finally:
        sidecar.close()


class Sidecar(Mapping):
    """The arrays of a weights sidecar, each read from the file only when it is looked up, so
    an array no `@name` refers to is never loaded; a linked weight is mapped read-only from
    the linked file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._npz = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise PimcError(f"weights sidecar is not a readable .npz ({_reason(exc)})",
                            str(path)) from None
        if not isinstance(self._npz, np.lib.npyio.NpzFile):
            raise PimcError("weights sidecar is a single .npy array, not an .npz archive",
                            str(path))
        self._names = set(self._npz.files) - {LINKED}
        self._data, self._linked = self._read_links() if LINKED in self._npz.files \
            else (None, {})
        self._names |= set(self._linked)

    def _read_links(self) -> tuple[Path, dict[str, tuple]]:
        """The linked file and where each weight lies in it, checked against the file."""
        bad = PimcError(f"the sidecar's {LINKED} entry is not a pimc link table (JSON: 'file', "
                        "a name beside the sidecar, and 'arrays': name -> [offset, dtype, "
                        "shape])", str(self.path))
        try:
            table = json.loads(self._npz[LINKED].tobytes())
            data = self.path.parent / table["file"]
            arrays = {str(k): (int(o), np.dtype(d), tuple(int(n) for n in s))
                      for k, (o, d, s) in table["arrays"].items()}
        except (ValueError, TypeError, KeyError, AttributeError, OSError, EOFError,
                zipfile.BadZipFile, zlib.error):
            raise bad from None
        if not isinstance(table["file"], str) or Path(table["file"]).name != table["file"] \
                or arrays.keys() & set(self._npz.files):
            raise bad
        if not data.is_file():
            raise PimcError(f"the linked weights file {data.name} is missing", str(self.path))
        size = data.stat().st_size
        for name, (offset, dtype, shape) in arrays.items():
            end = offset + dtype.itemsize * math.prod(shape)  # exact: an int cannot wrap
            if offset < 0 or end > size or dtype.hasobject or min(shape, default=0) < 0:
                raise PimcError(f"array '{name}' lies at bytes {offset} to {end} of "
                                f"{data.name}, a {size}-byte file", str(self.path))
        return data, arrays

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self._linked:
            offset, dtype, shape = self._linked[name]
            if 0 in shape:
                return np.zeros(shape, dtype)
            return np.memmap(str(self._data), dtype, "r", offset, shape)
        if name not in self._names:
            raise KeyError(name)
        try:
            return self._npz[name]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise PimcError(f"array '{name}' of the weights sidecar cannot be read "
                            f"({_reason(exc)})", str(self.path)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter([*(n for n in self._npz.files if n != LINKED), *self._linked])

    def __len__(self) -> int:
        return len(self._names)

    def close(self) -> None:
        self._npz.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def read(path: str | Path) -> tuple[str, Sidecar | None]:
    """The IR text of a .pir file and its sidecar's arrays, read on lookup (None when it has
    no sidecar)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise PimcError("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PimcError(f"cannot read IR text ({exc.__class__.__name__})", str(path)) from None
    npz = sidecar_path(path)
    return text, (Sidecar(npz) if npz.exists() else None)


def load(path: str | Path) -> Module:
    """Parse a .pir file, resolving `@name` weights from its sidecar when there is one."""
    from ir.text import parse  # here: writing IR (every compile) needs no parser

    text, weights = read(path)
    try:
        return parse(text, weights, file=str(path))
    finally:
        if weights is not None:
            weights.close()
