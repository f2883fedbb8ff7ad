"""Find, read and validate target descriptions: shipped presets by name, or any YAML by path.

Presets live in ``targets/presets/<name>.yaml`` (package data). The registry maps each preset
name to a factory that loads it on first use, so importing ``targets`` reads no file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import yaml

from targets._schema import build
from targets.errors import TargetError
from targets.hardware import Target

__all__ = ["PRESETS", "list_targets", "load_target"]


def _preset_dir() -> Path:
    return Path(__file__).resolve().parent / "presets"


def _preset_names() -> list[str]:
    return sorted(p.stem for p in _preset_dir().glob("*.yaml"))


def _factory(name: str) -> Callable[[], Target]:
    return functools.cache(lambda: load_file(_preset_dir() / f"{name}.yaml"))


class _Registry(dict):
    """name -> factory; filled on first lookup so that import has no side effects."""

    def _fill(self) -> None:
        if not super().__len__():
            self.update({name: _factory(name) for name in _preset_names()})

    def __getitem__(self, key: str) -> Callable[[], Target]:
        self._fill()
        return super().__getitem__(key)

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __len__(self) -> int:
        self._fill()
        return super().__len__()

    def __contains__(self, key: object) -> bool:
        self._fill()
        return super().__contains__(key)

    def keys(self):
        self._fill()
        return super().keys()


PRESETS: dict[str, Callable[[], Target]] = _Registry()


def list_targets() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(PRESETS)


def load_target(name_or_path: str | Path) -> Target:
    """Return the preset called ``name_or_path``, or validate the YAML file at that path."""
    text = str(name_or_path)
    if text in PRESETS:
        return PRESETS[text]()
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_file(path)
    raise TargetError(f"unknown target {text!r}; known presets: {', '.join(list_targets())} "
                      "(or give a path to a .yaml file)")


def load_file(path: Path) -> Target:
    """Read and validate one target YAML file."""
    if not path.is_file():
        raise TargetError("no such target file", where=str(path))
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise TargetError(f"not valid YAML: {getattr(err, 'problem', err)}", where=where) from None
    return build(Target, data, file=str(path))
