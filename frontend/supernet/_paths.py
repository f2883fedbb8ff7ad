"""Checkpoint file names, torch-free so that the CLI can check them before any work."""

from __future__ import annotations

from pathlib import Path

from ir.errors import PimcError

__all__ = ["best_path", "check_out"]


def best_path(checkpoint: str | Path) -> Path:
    """Where the best validated state is kept beside the checkpoint: `s.pt` -> `s.best.pt`."""
    path = Path(checkpoint)
    return path.with_name(f"{path.stem}.best{path.suffix}")


def check_out(out: str | Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse a `--out` whose checkpoint (or its best copy) an earlier run left, unless the run
    continues it (`--resume`) or replaces it (`--overwrite`): training writes both files."""
    if resume or overwrite:
        return
    for path in (Path(out), best_path(out)):
        if path.exists():
            raise PimcError("a checkpoint of an earlier run is there; accepted: --resume to "
                            "continue it, --overwrite to replace it, or another --out", str(path))
