"""The hardware axis of the co-search: a YAML hardware space over a preset's fields.

A hardware space file maps dotted field paths of a target YAML to their choices:

    chip.tile.pe.array.rows: [64, 128, 256]
    chip.tile.pe.adc.resolution: [6, 8]
    chip.tiles: [84, 168]

A path walks mappings by key and lists of named items by their `name` (for example
`chip.tile.buffers.edram.size`). A candidate hardware is one value per field; its target is
the base preset (or target YAML) with those values, validated by the target loader and
written as a YAML file, so that every compile reads a target exactly as `pimc compile` does.
Area and power come from `targets.rollup`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

import targets
from ir.errors import PimcError
from targets import list_targets, load_target, rollup
from targets.loader import safe_load

__all__ = ["HardwareSpace", "Hardware", "base_yaml", "hardware_figures", "load_hw_space",
           "target_file"]

Hardware = dict  # dotted field path -> chosen value; {} is the base target itself


def base_yaml(target: str) -> dict:
    """The parsed YAML of a preset name or a target file (validated by the loader first); a
    fresh copy each time, free to change."""
    load_target(target)  # one-line errors for an unknown preset or a bad file
    path = Path(target)
    if target in list_targets():
        path = Path(targets.__file__).parent / "presets" / f"{target}.yaml"
    return copy.deepcopy(_parsed(path.read_text()))


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> dict:
    """YAML text parsed, once per distinct text: the search names a candidate's target from
    the base for every trial, and parsing (in pure Python where PyYAML lacks libyaml) took
    longer than a small compile."""
    return safe_load(text)


def _child(node, key: str, where: str):
    """`node[key]`: a mapping key, or the item named `key` of a list of named items."""
    if isinstance(node, dict):
        if key not in node:
            raise PimcError(f"{where}: no field '{key}' in the target; accepted here: "
                            f"{', '.join(map(str, node))}")
        return node[key]
    if isinstance(node, list):
        names = [item.get("name") for item in node if isinstance(item, dict)]
        if key not in names:
            raise PimcError(f"{where}: no item named '{key}'; accepted here: "
                            f"{', '.join(map(str, names))}")
        return node[names.index(key)]
    raise PimcError(f"{where}: '{key}' is below a value, not a group of fields")


def _set(data: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    node = data
    for i, key in enumerate(parents):
        node = _child(node, key, ".".join(parents[:i + 1]))
    current = _child(node, last, path)
    if isinstance(current, (dict, list)):
        raise PimcError(f"{path}: is a group of fields; accepted: a path to one value")
    node[last] = value


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HardwareSpace:
    """The base target and, per field path, its choices (in file order)."""

    base: str
    fields: tuple[tuple[str, tuple], ...] = ()

    @property
    def choices(self) -> dict[str, tuple]:
        return dict(self.fields)

    def sample(self, rng: random.Random) -> Hardware:
        return {path: rng.choice(values) for path, values in self.fields}

    def mutate(self, hw: Hardware, rng: random.Random) -> Hardware:
        """`hw` with one field redrawn."""
        if not self.fields:
            return dict(hw)
        path, values = rng.choice(self.fields)
        return {**hw, path: rng.choice(values)}

    def crossover(self, a: Hardware, b: Hardware, rng: random.Random) -> Hardware:
        return {path: (a if rng.random() < 0.5 else b)[path] for path, _ in self.fields}

    def data(self, hw: Hardware) -> dict:
        """The target YAML (parsed) of `hw`: the base with the chosen values."""
        data = base_yaml(self.base)
        for path, value in sorted(hw.items()):
            _set(data, path, value)
        if hw:
            data["name"] = f"{data.get('name', 'target')}-hw{_hash(hw)[:8]}"
        return data

    def digest(self, hw: Hardware) -> str:
        """A stable hash of the target text `hw` gives (the base's content included)."""
        return _hash(self.data(hw))


def target_file(space: HardwareSpace, hw: Hardware, folder: Path) -> Path:
    """The target YAML of `hw` under `folder` (written once), validated by the loader."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{space.digest(hw)}.yaml"
    if not path.is_file():
        tmp = path.with_suffix(f".{random.getrandbits(32):08x}.tmp")
        tmp.write_text(yaml.safe_dump(space.data(hw), sort_keys=False))
        tmp.replace(path)  # atomic: parallel workers may write the same candidate
    load_target(path)
    return path


def hardware_figures(path: Path) -> dict[str, float]:
    """Chip area (mm²), peak power (W) and leakage (W) of a target, rolled up."""
    figures = rollup(load_target(path))
    return {"chip_area_mm2": figures.area, "peak_power_w": figures.power,
            "leakage_w": figures.leakage}


def _parse(text: str, where: str) -> dict:
    try:
        body = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark else where
        raise PimcError(f"{at}: not valid YAML; accepted: field.path: [choice, ...]") from None
    if body is None:
        return {}
    if not isinstance(body, dict) or not all(isinstance(v, list) and v for v in body.values()):
        raise PimcError(f"{where}: a hardware space maps field paths to non-empty lists of "
                        "choices, e.g. 'chip.tile.pe.array.rows: [64, 128]'")
    return body


def load_hw_space(path: str | Path | None, base: str) -> HardwareSpace:
    """Read a hardware space for target `base`; every field and every value is checked (the
    target with that one value must validate), so bad input fails before any training."""
    if path is None:
        return HardwareSpace(base)
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise PimcError(f"{path}: cannot read the hardware space ({type(exc).__name__})") \
            from None
    body = _parse(text, str(path))
    space = HardwareSpace(base, tuple((str(k), tuple(v)) for k, v in body.items()))
    with tempfile.TemporaryDirectory(prefix="pimc-hw-") as tmp:
        for field_path, values in space.fields:
            for value in values:
                try:
                    target_file(space, {field_path: value}, Path(tmp))
                except PimcError as exc:  # the scratch file's name is noise to the user
                    why = str(exc).removeprefix(f"{tmp}/").partition(": ")[2] \
                        if str(exc).startswith(tmp) else str(exc)
                    raise PimcError(f"{path}: {field_path} = {value!r}: {why}") from None
    return space
