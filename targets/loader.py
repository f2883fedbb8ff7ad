"""Find, read and validate target descriptions: shipped presets by name, or any YAML by path.

Presets live in ``targets/presets/<name>.yaml`` (package data). The registry maps each preset
name to a factory that loads it on first use, so importing ``targets`` reads no file.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from targets._schema import build
from targets.errors import TargetError
from targets.hardware import Target
from targets.sources import Sourced, read_sources

__all__ = ["MAX_BYTES", "PRESETS", "list_targets", "load_sources", "load_target", "safe_load"]

MAX_BYTES = 1 << 20  # the presets are about 10 kB; a larger file is not a target description
_QUOTED = re.compile(r"'[^']*'")


def _preset_dir() -> Path:
    return Path(__file__).resolve().parent / "presets"


def _preset_names() -> list[str]:
    return sorted(p.stem for p in _preset_dir().glob("*.yaml"))


def _factory(name: str) -> Callable[[], Target]:
    return lambda: _load_cached(_preset_dir() / f"{name}.yaml")


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
    found = _lookup(str(name_or_path))
    return PRESETS[found]() if isinstance(found, str) else _load_cached(found)


def load_sources(name_or_path: str | Path) -> tuple[Sourced, ...]:
    """Every number of a target file with the source its YAML comment (or its component's
    ``source:`` field) gives, '' where none does; the file is validated first, as by
    `load_target`. A preset registered without a file has no numbers to cite: ()."""
    load_target(name_or_path)
    found = _lookup(str(name_or_path))
    path = _preset_dir() / f"{found}.yaml" if isinstance(found, str) else found
    if not path.is_file():
        return ()
    return read_sources(_read(path), Target)


def _lookup(text: str) -> str | Path:
    """The preset name ``text`` means, or the path of the file it names."""
    if text in PRESETS:
        return text
    path = Path(text)
    if text.lower() in PRESETS and not path.exists():  # preset names are lower-case: ISAAC
        return text.lower()
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    close = difflib.get_close_matches(text.lower(), list_targets(), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise TargetError(f"unknown target {text!r}{hint}; known presets: "
                      f"{', '.join(list_targets())} (or give a path to a .yaml file)")


def safe_load(text: str):
    """YAML text parsed as `yaml.safe_load` does, by libyaml's parser where PyYAML was built
    with it: the pure-Python one took 24 ms of a 0.5 s whole-process compile for one preset."""
    return yaml.load(text, Loader=_SAFE_LOADER)


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_cached(path: Path) -> Target:
    """`load_file` once per version of a file: a search loads the same target for every
    candidate (Targets are frozen, so sharing one is safe); an edited file is read again."""
    try:
        stat = path.stat()
    except OSError:
        return load_file(path)  # which names the problem
    return _load_version(str(path.resolve()), stat.st_mtime_ns, stat.st_size, path)


@functools.lru_cache(maxsize=64)
def _load_version(resolved: str, mtime_ns: int, size: int, path: Path) -> Target:
    return load_file(path)  # `path` as given, so that messages name it as the user wrote it


def _read(path: Path) -> str:
    """The text of a target file: a readable UTF-8 file of at most MAX_BYTES."""
    try:
        if not path.is_file():
            raise TargetError("no such target file", where=str(path))
        if path.stat().st_size > MAX_BYTES:
            raise TargetError(f"larger than {MAX_BYTES} bytes; a target description is a short "
                              "YAML file", where=str(path))
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise TargetError(f"not a UTF-8 text file (byte {err.start}); a target description is "
                          "a YAML file", where=str(path)) from None
    except OSError as err:
        raise TargetError(f"cannot read ({type(err).__name__})", where=str(path)) from None


def _yaml_error(err: yaml.YAMLError, path: Path) -> TargetError:
    """One line with the place and PyYAML's phrase; the quoted text of the file is left out."""
    if isinstance(err, yaml.reader.ReaderError):
        return TargetError(f"not a text file (a control character at offset {err.position}); "
                           "a target description is a YAML file", where=str(path))
    mark = getattr(err, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    problem = getattr(err, "problem", None) or type(err).__name__
    if problem == "exceeded maximum nesting depth":  # libyaml's limit; RecursionError in Python
        return TargetError("nested too deeply; a target description is a few levels deep",
                           where=where)
    return TargetError(f"not valid YAML: {_QUOTED.sub(_redact, problem)}", where=where)


def _redact(match: re.Match) -> str:
    text = match.group(0)
    return text if len(text) <= 3 or text.startswith("'<") else "'...'"


def load_file(path: Path) -> Target:
    """Read and validate one target YAML file."""
    text = _read(path)
    try:
        data = safe_load(text)
        return build(Target, data, file=str(path))
    except yaml.YAMLError as err:
        raise _yaml_error(err, path) from None
    except RecursionError:
        raise TargetError("nested too deeply; a target description is a few levels deep",
                          where=str(path)) from None
