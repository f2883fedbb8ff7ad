"""Checks the CLI makes before any work: what kind of file an input is (and which command
takes it), whether an output path can receive what the command writes, which symbolic
dimensions a model has. Each failure is one line that says the fix."""

from __future__ import annotations

import difflib
from pathlib import Path

from ir.errors import PimcError

__all__ = ["check_dims", "check_output", "check_precision", "file_kind", "need_kind",
           "no_schedule_reason", "parse_dims", "precheck_compile", "preset_name",
           "compare_specs"]

_ZIP = b"PK\x03\x04"
_COMMAND = {  # what to run on a file of each kind, by the kind the command wanted
    ("onnx", "ir"): "this is an ONNX model; run `pimc import {path} --batch N -o model.pir` "
                    "first (or `pimc compile {path} --target T --batch N -o out/`)",
    ("npz", "ir"): "this is an .npz archive (weights or inputs), not IR text; give the .pir file "
                   "beside it",
    ("ir", "onnx"): "this is pimc IR text, not an ONNX model; run passes on it with "
                    "`pimc opt {path} -p PIPELINE`, or compile the .onnx it came from",
    ("npz", "onnx"): "this is an .npz archive (weights or inputs), not an ONNX model",
    ("onnx", "npz"): "this is an ONNX model, not an .npz of inputs; make inputs with "
                     "`pimc inputs {path} --batch N -o batch.npz`",
    ("ir", "npz"): "this is pimc IR text, not an .npz of inputs; make inputs with "
                   "`pimc inputs {path} -o batch.npz`",
}


def file_kind(path: str | Path) -> str:
    """"onnx", "npz", "ir" or "other", from the first bytes (the suffix can lie)."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return "missing"
    if head.startswith(_ZIP):
        return "npz"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and _looks_like_ir(text):
        return "ir"
    # An ONNX ModelProto opens with field 1 (ir_version, varint: 0x08) or field 8 (opset, 0x42)
    if head[:1] in (b"\x08", b"\x42", b"\x12", b"\x1a", b"\x3a"):
        return "onnx"
    return "other"


def _looks_like_ir(text: str) -> bool:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("//"):
            return line.startswith("module")
    return not text.strip()


def need_kind(path: str, want: str) -> None:
    """Refuse `path` when its contents are of another kind than `want`, naming the command
    that takes it. A missing file is left to the reader, whose message names it."""
    if path == "-" or not Path(path).is_file():
        return
    kind = file_kind(path)
    if kind in (want, "other", "missing"):
        return
    hint = _COMMAND.get((kind, want))
    if hint:
        raise PimcError(hint.format(path=path), path)


_WRITES = {".pir": "IR text", ".npz": "an .npz archive", ".onnx": "an ONNX model",
           "folder": "a folder of artifacts"}


def check_output(path: str | None, kind: str) -> None:
    """Refuse an output path that cannot receive `kind` (".pir", ".npz", ".onnx" or
    "folder") before any work is done."""
    if not path or path == "-":
        return
    p = Path(path)
    if kind == "folder":
        if p.exists() and not p.is_dir():
            raise PimcError(f"-o {path}: exists and is a file; `pimc compile` writes a folder "
                            "of artifacts, give a folder name (e.g. out/)")
        _parent_ok(p, path)
        return
    if p.is_dir():
        raise PimcError(f"-o {path}: is a folder; give a file name ending in {kind}")
    if p.suffix != kind:
        other = _WRITES.get(p.suffix.lower())
        what = f"this command writes {_WRITES[kind]}"
        clash = f", not {other}" if other else ""
        raise PimcError(f"-o {path}: {what}{clash}; name the output *{kind}")
    _parent_ok(p.parent, path)


def _parent_ok(p: Path, path: str) -> None:
    for up in (p, *p.parents):
        if up.exists():
            if not up.is_dir():
                raise PimcError(f"-o {path}: {up} is a file, so nothing can be written under it")
            return


def check_dims(proto, dims: dict[str, int]) -> None:
    """Refuse --dim names the model's inputs do not have, suggesting the closest."""
    known = sorted({d.dim_param for vi in proto.graph.input
                    for d in vi.type.tensor_type.shape.dim if d.dim_param})
    for name in dims:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            listed = ", ".join(known) or "none (every input dimension is fixed)"
            raise PimcError(f"--dim {name}: the model has no symbolic dimension '{name}'{hint}; "
                            f"its symbolic dimensions: {listed}")


def preset_name(target: str) -> str:
    """A shipped preset's own (lower-case) name for `target` given in any case; paths and
    unknown names are left to the target loader."""
    from targets import list_targets

    if not Path(target).exists() and target.lower() in list_targets():
        return target.lower()
    return target


def check_precision(options: str | None) -> None:
    """`--precision` is the option list of assign-precision (default=8, rec.dense=4 ...);
    checked alone, so its errors never show the calibration options added to it."""
    if not options:
        return
    from passes.pipeline import parse_pipeline

    bare = [x for x in options.split(",") if x and "=" not in x]
    if bare:
        raise PimcError(f"--precision '{options}': '{bare[0]}' has no option name; the fix is "
                        f"--precision default={bare[0]} (KEY=VALUE pairs, e.g. "
                        "default=8,rec.dense=4)")
    try:
        parse_pipeline(f"assign-precision{{{options}}}")
    except PimcError as exc:
        raise PimcError(f"--precision '{options}': {exc.message}") from None


def precheck_compile(args) -> dict[str, int]:
    """Everything `pimc compile` can refuse before it starts; returns the bound --dim names."""
    need_kind(args.model, "onnx")
    if getattr(args, "profile", None):
        if not Path(args.profile).is_file():
            raise PimcError("no such file (--profile: an .npz written by pimc profile)",
                            args.profile)
        need_kind(args.profile, "npz")
    check_output(args.output, "folder")
    args.target = preset_name(args.target)
    check_precision(args.precision)
    compare_specs(getattr(args, "compare", "none"))
    dims = parse_dims(args.dim)
    if dims and Path(args.model).is_file():
        from frontend.onnx import load_onnx

        check_dims(load_onnx(args.model), dims)
    return dims


# The last fact each stage writes, latest first (docs/mapping.md): how far a compile got.
def _stage_facts() -> tuple[tuple[str, str], ...]:
    from ir.dialects import pim
    from ir.dialects.pim_attrs import LATENCY, LOC, TARGET, W_BITS

    return ((LATENCY.name, "scheduled"), (LOC.name, "placed"), (pim.MVM.name, "tiled"),
            (TARGET.name, "partitioned"), (W_BITS.name, "precision"))


def no_schedule_reason(folder: Path) -> None:
    """Refuse a compile output folder without schedule.json, saying why it has none."""
    if not folder.is_dir() or (folder / "schedule.json").exists():
        return
    pir = folder / "mapped.pir"
    if not pir.is_file():
        raise PimcError("holds no mapped.pir or schedule.json; give the -o folder of a "
                        "`pimc compile` run", str(folder))
    text = pir.read_text(errors="replace")
    stage = next((s for fact, s in _stage_facts() if fact in text), "fused or earlier")
    raise PimcError(f"holds no schedule.json: the compile that wrote it stopped at '{stage}' "
                    "(--emit); run `pimc compile` again without --emit (or --emit scheduled) "
                    "to simulate", str(folder))


def compare_specs(text: str) -> list[str]:
    """`--compare` items: "naive" and target preset names ("none" for nothing)."""
    from targets import list_targets

    items = [x.strip() for x in text.split(",") if x.strip()]
    if items == ["none"]:
        return []
    out = []
    for item in items:
        name = item if item == "naive" else preset_name(item)
        if name != "naive" and name not in list_targets() and not Path(name).is_file():
            raise PimcError(f"--compare '{item}': not 'naive', 'none' or a target; accepted: "
                            f"naive, {', '.join(list_targets())}, a target .yaml")
        out.append(name)
    return out


def parse_dims(pairs: list[str]) -> dict[str, int]:
    """`--dim NAME=N` pairs as a dict; a malformed pair names the accepted form."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value.isdigit() or int(value) < 1:
            raise PimcError(f"--dim '{pair}' is not NAME=N with N a positive integer "
                            "(e.g. --dim batch=64)")
        out[name] = int(value)
    return out


