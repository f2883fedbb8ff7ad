"""A compile output folder that verifies itself.

A compile writes, besides the mapped program and its schedule, the functional check's inputs
(`inputs.npz`), ONNX Runtime's outputs on them (`reference.npz`) and, last, `manifest.json`:
the sha256 of every file in the folder. `verify_folder` re-checks a folder from its files
alone: the schedule's shape and invariants, the manifest (a changed, missing or extra file),
that schedule.json describes mapped.pir (same ops, kinds, locations, replicas, tiles, shards
and times), and the program's outputs on the stored inputs against the stored reference
within the precision error bound. Each failure is one PimcError naming the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ir.core import Module
from ir.errors import PimcError

__all__ = ["MANIFEST", "check_manifest", "cross_check", "recheck_outputs", "reference_outputs",
           "reference_record", "verify_folder", "write_manifest"]

MANIFEST = "manifest.json"
_SCHEMA, _VERSION = "pimc.manifest", 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path) -> Path:
    """Hash every file of `folder` into its manifest.json (written last by a compile)."""
    files = {p.name: _sha256(p) for p in sorted(folder.iterdir())
             if p.name != MANIFEST and p.is_file()}
    path = folder / MANIFEST
    path.write_text(json.dumps({"schema": _SCHEMA, "version": _VERSION, "files": files},
                               indent=1, sort_keys=True))
    return path


def _read_manifest(folder: Path) -> dict[str, str]:
    path = folder / MANIFEST
    if not path.exists():
        raise PimcError(f"no {MANIFEST}: not a complete `pimc compile` output (a compile "
                        "writes it last); compile again", str(folder))
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PimcError(f"not valid JSON ({exc})", str(path)) from None
    data = data if isinstance(data, dict) else {}
    files = data.get("files")
    if data.get("schema") != _SCHEMA or data.get("version") != _VERSION or \
            not isinstance(files, dict) or \
            not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise PimcError(f"not a pimc manifest (schema '{_SCHEMA}' version {_VERSION} with "
                        "'files': name -> sha256)", str(path))
    return files


def check_manifest(folder: Path) -> None:
    """Every file the manifest lists is there with its hash, and nothing else is."""
    files = _read_manifest(folder)
    for name in sorted(files):
        path = folder / name
        if "/" in name or name in ("", ".", "..") or not path.is_file():
            raise PimcError(f"{name} is listed in {MANIFEST} but missing", str(folder))
        if _sha256(path) != files[name]:
            raise PimcError(f"{name} changed since the compile (its sha256 differs from "
                            f"{MANIFEST})", str(folder))
    extra = sorted(p.name for p in folder.iterdir() if p.name not in files and
                   p.name != MANIFEST)
    if extra:
        raise PimcError(f"{extra[0]} is not listed in {MANIFEST} (a file the compile did not "
                        "write)", str(folder))


def reference_outputs(proto, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """ONNX Runtime's outputs of the original model on `feed`, in graph output order (the
    functional check's session, so the model is loaded once and its tables are not copied)."""
    from compiler.functional import onnx_outputs

    return onnx_outputs(proto, feed)


def _bounds(module: Module, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    from passes.error_bound import error_bound

    with np.errstate(all="ignore"):  # non-finite bounds are judged by compare_output
        return [np.asarray(b, np.float64) for b in error_bound(module, feed)]


def reference_record(module: Module, proto, feed: Mapping[str, np.ndarray]
                     ) -> dict[str, np.ndarray]:
    """What reference.npz holds: per output (by position i) ONNX Runtime's values `output.i`
    and the error bound `bound.i` the compiled program was held to. The bound is stored, not
    recomputed on re-check: a tampered program (weights scaled) would widen its own bound."""
    record = {f"output.{i}": np.asarray(w) for i, w in enumerate(reference_outputs(proto, feed))}
    record.update({f"bound.{i}": b for i, b in enumerate(_bounds(module, feed))})
    return record


def recheck_outputs(module: Module, feed: Mapping[str, np.ndarray],
                    record: Mapping[str, np.ndarray], where: str) -> float:
    """The program's outputs on `feed` against the stored reference within the stored bound
    (the compile's comparison), and its error bound against the stored one; returns max
    error / bound, raises on a failure."""
    from compiler.functional import compare_output
    from ir import interp

    names = module.main.output_names
    missing = [i for i in range(len(names)) if f"output.{i}" not in record or
               f"bound.{i}" not in record]
    if missing or len(record) != 2 * len(names):
        raise PimcError(f"reference.npz does not hold the {len(names)} outputs of mapped.pir "
                        "(output.I and bound.I for each)", where)
    with np.errstate(all="ignore"):  # non-finite values are judged by compare_output
        got = interp.run(module.main, feed)
    worst = 0.0
    for i, (name, g) in enumerate(zip(names, got)):
        ratio, why = compare_output(name, g, record[f"output.{i}"], record[f"bound.{i}"])
        if why:
            raise PimcError(f"functional check on the stored inputs failed: {why}", where)
        worst = max(worst, ratio)
    for i, (name, b) in enumerate(zip(names, _bounds(module, feed))):
        stored = np.broadcast_to(record[f"bound.{i}"], b.shape)
        if not np.allclose(b, stored, rtol=1e-6, atol=0.0, equal_nan=True):
            raise PimcError(f"the error bound of output {name} is {np.max(b):.6g} from mapped.pir"
                            f", {np.max(stored):.6g} stored at compile time", where)
    return worst


def _placed(module: Module) -> dict[int, object]:
    """Graph position -> op, for the ops schedule.json lists (placed on a unit, no transfers)."""
    from ir.dialects import pim
    from ir.dialects.pim_attrs import UNIT

    return {i: op for i, op in enumerate(module.main.ops)
            if UNIT.of(op, None) in ("crossbar", "digital", "bank")
            and not isinstance(op, pim.Transfer)}


def _ints(value) -> list[int]:
    return [int(x) for x in (value if isinstance(value, (tuple, list)) else (value,))]


def _op_view(op) -> dict:
    """What schedule.json says of one op, read back from the module's facts."""
    from ir.dialects import pim
    from ir.dialects.pim_attrs import END, LOC, REPLICAS, START, UNIT

    named = isinstance(op, (pim.MVM, pim.Gather))
    view = {"name": op.attrs.get("op", op.name) if named else op.name, "kind": op.name,
            "unit": UNIT.of(op), "loc": _ints(LOC.of(op, ())), "start": int(START.of(op, 0)),
            "end": int(END.of(op, 0))}
    if isinstance(op, pim.MVM):
        view.update(tile=list(op.attrs["tile"]), replicas=int(REPLICAS.of(op, 1)))
        if op.crossbars > 1:
            view["crossbars"] = op.crossbars
    return view


def _layout(module: Module, placed: dict) -> tuple[set, set]:
    from compiler.schedule_json import crossbar_tiles
    from ir.dialects import pim
    from ir.dialects.pim_attrs import LOC

    tiles = {(op.attrs["op"], tuple(tile), r, xbar) for op in placed.values()
             if isinstance(op, pim.MVM)
             for tile, r, xbar in crossbar_tiles(op, _ints(LOC.of(op, ())))}
    shards = {(op.attrs["op"], op.attrs["shard"], (_ints(LOC.of(op, ())) or [-1])[0])
              for op in placed.values() if isinstance(op, pim.Gather)}
    return tiles, shards


def _module_facts(schedule: dict, module: Module) -> str | None:
    from ir.dialects.pim_attrs import BATCH, INTERVAL, LATENCY

    for key, fact in (("batch", BATCH), ("interval", INTERVAL), ("latency", LATENCY)):
        if schedule[key] != int(fact.of(module, 0)):
            return f"{key} is {schedule[key]} in schedule.json, {fact.of(module, None)} in " \
                   "mapped.pir"
    return None


def _ops_problem(schedule: dict, placed: dict) -> str | None:
    listed = {op["id"]: op for op in schedule["ops"]}
    if set(listed) != set(placed):
        odd = sorted(set(listed) ^ set(placed))[0]
        where = "schedule.json" if odd in listed else "mapped.pir"
        return f"op {odd} is placed only in {where} ({len(listed)} ops in schedule.json, " \
               f"{len(placed)} in mapped.pir)"
    for i in sorted(listed):
        view = _op_view(placed[i])
        for key, value in view.items():
            if listed[i].get(key) != value:
                return f"op {i} ({view['kind']}) has {key} {listed[i].get(key)!r} in " \
                       f"schedule.json, {value!r} in mapped.pir"
    return None


def cross_check(schedule: dict, module: Module, where: str) -> None:
    """schedule.json describes mapped.pir: the same placed ops (kinds, names, units,
    locations, replicas, times), tiles, shards, batch, interval and latency."""
    placed = _placed(module)
    problem = _module_facts(schedule, module) or _ops_problem(schedule, placed)
    if not problem:
        tiles, shards = _layout(module, placed)
        got = {(t["op"], tuple(t["tile"]), t["replica"], t["crossbar"])
               for t in schedule["tiles"]}
        if got != tiles:
            odd = sorted(got ^ tiles)[0]
            problem = f"tile {odd[0]}{list(odd[1])} replica {odd[2]} on crossbar {odd[3]} is " \
                      f"in {'schedule.json' if odd in got else 'mapped.pir'} only"
        elif {(s["op"], s["shard"], s["bank"]) for s in schedule["shards"]} != shards:
            problem = "the embedding shards' banks differ"
    if problem:
        raise PimcError(f"schedule.json does not describe mapped.pir: {problem}", where)


def verify_folder(folder: Path, module: Module, schedule: dict) -> str:
    """Re-check a compile output folder whose mapped.pir and (shape-checked) schedule.json
    are loaded: the manifest, the schedule against the program, and the program's outputs
    on the stored inputs. Returns one line saying what was verified."""
    from ir.io import read_npz

    check_manifest(folder)
    cross_check(schedule, module, str(folder / "schedule.json"))
    if not (folder / "reference.npz").exists():
        return "manifest and schedule verified; no reference.npz (compiled without the " \
               "functional check), outputs not re-checked"
    if not (folder / "inputs.npz").exists():
        raise PimcError("reference.npz is there but inputs.npz is missing", str(folder))
    feed = read_npz(folder / "inputs.npz")
    worst = recheck_outputs(module, feed, read_npz(folder / "reference.npz"),
                            str(folder / "mapped.pir"))
    return f"manifest, schedule and outputs verified (max error / bound {worst:.3g} on the " \
           "stored inputs)"
