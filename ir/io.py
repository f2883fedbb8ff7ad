"""Reading and writing .pir files with their .npz weights sidecar, atomically."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ir.core import Module
from ir.errors import PimcError
from ir.text import parse, print_module_with_weights

__all__ = ["atomic_write", "load", "read", "read_npz", "save", "sidecar_path"]


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


def _write_npz(weights: dict[str, np.ndarray], tmp: Path) -> None:
    with open(tmp, "wb") as f:
        np.savez(f, **weights)


def save(module: Module, path: str | Path) -> None:
    """Write `module` as text to `path` and its large constants to the sidecar."""
    path = Path(path)
    if not path.parent.exists():
        raise PimcError(f"cannot write {path}: folder {path.parent} does not exist")
    text, weights = print_module_with_weights(module)
    npz = sidecar_path(path)
    if weights:
        atomic_write(npz, lambda tmp: _write_npz(weights, tmp))
    else:
        npz.unlink(missing_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(text))


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz file; an unreadable one is a one-line PimcError."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise PimcError(f"weights sidecar is not a readable .npz ({exc})", str(path)) from None


def read(path: str | Path) -> tuple[str, dict[str, np.ndarray] | None]:
    """The IR text of a .pir file and the arrays of its sidecar (None when it has none)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise PimcError("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PimcError(f"cannot read IR text ({exc.__class__.__name__})", str(path)) from None
    npz = sidecar_path(path)
    return text, (read_npz(npz) if npz.exists() else None)


def load(path: str | Path) -> Module:
    """Parse a .pir file, resolving `@name` weights from its sidecar when there is one."""
    text, weights = read(path)
    return parse(text, weights, file=str(path))
