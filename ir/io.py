"""Reading and writing .pir files with their .npz weights sidecar, atomically."""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from ir.core import Module
from ir.errors import PimcError
from ir.text import print_module_with_weights

__all__ = ["Sidecar", "atomic_write", "load", "read", "read_npz", "save", "sidecar_path",
           "write_npz"]


def sidecar_path(path: str | Path) -> Path:
    """The weights file beside a .pir file: same stem, .npz suffix."""
    return Path(path).with_suffix(".npz")


def atomic_write(path: str | Path, write) -> None:
    """Call `write(tmp_path)` and move the result into place; nothing half-written stays."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    os.close(fd)
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
    """Write `module` as text to `path` and its large constants to the sidecar."""
    path = Path(path)
    if not path.parent.exists():
        raise PimcError(f"cannot write {path}: folder {path.parent} does not exist")
    text, weights = print_module_with_weights(module)
    npz = sidecar_path(path)
    if weights:
        atomic_write(npz, lambda tmp: write_npz(weights, tmp))
    else:
        npz.unlink(missing_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(text))


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz file; an unreadable one is a one-line PimcError."""
    sidecar = Sidecar(path)
    try:
        return {k: sidecar[k] for k in sidecar}
    finally:
        sidecar.close()


class Sidecar(Mapping):
    """The arrays of a weights sidecar, each read from the file only when it is looked up, so
    an array no `@name` refers to is never loaded."""

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
        self._names = set(self._npz.files)

    def __getitem__(self, name: str) -> np.ndarray:
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
        return iter(self._npz.files)

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
