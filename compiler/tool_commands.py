"""Handlers of the helper commands: `pimc inputs`, `pimc profile`, `pimc zoo list|export` and
`pimc export-subnet`. The last two hand the model work to `frontend` (where torch is imported,
only when they run); nothing here imports torch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compiler.cli_checks import check_dims, check_output, need_kind, parse_dims
from ir.errors import PimcError

__all__ = ["cmd_export_subnet", "cmd_inputs", "cmd_profile", "cmd_zoo_export", "cmd_zoo_list",
           "parse_dims"]


def _graph(path: str, batch: int | None, dims: dict[str, int]):
    """The main graph of an ONNX model (imported with the dims bound) or of IR text."""
    return _module(path, batch, dims).main


def _module(path: str, batch: int | None, dims: dict[str, int]):
    """An ONNX model (imported with the dims bound) or IR text, as a module."""
    from compiler.cli_checks import file_kind

    if not Path(path).is_file():
        raise PimcError("no such file", path)
    if file_kind(path) == "onnx":
        from frontend.onnx import import_onnx, load_onnx

        proto = load_onnx(path)
        check_dims(proto, dims)
        return import_onnx(proto, batch=batch, dims=dims, name=Path(path).stem)
    need_kind(path, "ir")
    from ir.io import load

    return load(path)


def cmd_inputs(args: argparse.Namespace) -> int:
    """Seeded random inputs that respect every index range (ir.sample_inputs)."""
    from ir.io import atomic_write, write_npz
    from ir.sample_inputs import sample_inputs

    check_output(args.output, ".npz")
    graph = _graph(args.model, args.batch, parse_dims(args.dim))
    feed = sample_inputs(graph, seed=args.seed)
    atomic_write(args.output, lambda tmp: write_npz(feed, tmp))
    shapes = ", ".join(f"{k} {v.dtype}{list(v.shape)}" for k, v in feed.items())
    print(f"wrote {args.output}: {shapes}", file=sys.stderr)
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Per embedding bag (by its tile name), how often each row is looked up on the inputs:
    the model's front end (canonicalize, fuse-interactions) interpreted on them."""
    from compiler._feed_check import check_feed
    from compiler.commands import load_inputs
    from ir.io import atomic_write, write_npz
    from passes._lowering.embedding import lookup_counts
    from passes.manager import PassManager
    from passes.pipeline import parse_pipeline

    check_output(args.output, ".npz")
    need_kind(args.inputs, "npz")
    module = _module(args.model, args.batch, parse_dims(args.dim))
    feed = load_inputs(args.inputs)
    check_feed(module.main, feed, "inputs")
    PassManager(parse_pipeline("canonicalize,fuse-interactions")).run(module)
    counts = lookup_counts(module.main, feed)
    if not counts:
        raise PimcError("has no embedding bag with a constant table to profile", args.model)
    atomic_write(args.output, lambda tmp: write_npz(counts, tmp))
    for name, c in counts.items():
        top = float(c.max()) / max(1, int(c.sum()))
        print(f"{name}: {int(c.sum())} lookups over {c.size} rows, hottest row {top:.1%}",
              file=sys.stderr)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


_ABOUT = {
    "dlrm": "DLRM (Naumov et al. 2019): bottom MLP, embeddings, dot interaction, top MLP",
    "dcnv2": "DCN-V2 (Wang et al. 2021): cross network beside a deep MLP",
    "deepfm": "DeepFM (Guo et al. 2017): factorisation machine beside a deep MLP",
    "autoint": "AutoInt (Song et al. 2019): self-attention over field embeddings",
    "lr": "logistic regression over one-hot features (the baseline)",
}


def cmd_zoo_list(args: argparse.Namespace) -> int:
    from frontend.zoo import MODELS

    for name in MODELS:
        print(f"{name:10s} {_ABOUT.get(name, '')}")
    return 0


def _tables(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x) for x in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise PimcError(f"--tables '{text}' is not a comma-separated list of positive row "
                        "counts (e.g. 1000,500,20)")
    return sizes


def cmd_zoo_export(args: argparse.Namespace) -> int:
    """A zoo model with seeded weights, exported to ONNX with a symbolic batch."""
    from frontend.zoo import MODELS

    if args.model not in MODELS:
        import difflib

        close = difflib.get_close_matches(args.model, MODELS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PimcError(f"unknown zoo model '{args.model}'{hint}; accepted: {', '.join(MODELS)}")
    check_output(args.output, ".onnx")
    tables = _tables(args.tables)
    from frontend.zoo import write_model  # the model code (and torch) loads only here

    write_model(args.model, tables, args.output, num_dense=args.dense, dim=args.embed_dim,
                seed=args.seed, exporter=args.exporter)
    print(f"wrote {args.output}: {args.model}, {len(tables)} tables, {args.dense} dense "
          "features, symbolic batch (bind it with --batch N)", file=sys.stderr)
    return 0


def _arch(args: argparse.Namespace, space):
    from frontend.space import Arch

    if args.arch:
        if not Path(args.arch).is_file():
            raise PimcError("no such architecture file", args.arch)
        arch = Arch.from_json(Path(args.arch).read_text())
    else:
        arch = space.sample(args.sample)
    space.validate(arch)
    return arch


def cmd_export_subnet(args: argparse.Namespace) -> int:
    """One architecture of a trained supernet as ONNX, with the supernet's weights."""
    if (args.arch is None) == (args.sample is None):
        raise PimcError("give exactly one of --arch FILE (an architecture JSON) and "
                        "--sample SEED (one drawn from the checkpoint's space)")
    check_output(args.output, ".onnx")
    from frontend.supernet import export, load_checkpoint

    net = load_checkpoint(args.checkpoint)
    arch = _arch(args, net.space)
    export(arch, args.output, supernet=net, exporter=args.exporter, num_dense=net.num_dense)
    saved = Path(args.output).with_suffix(".arch.json")
    saved.write_text(arch.to_json() + "\n")
    print(f"wrote {args.output} (architecture {arch.hash()[:12]}, its JSON in {saved})",
          file=sys.stderr)
    return 0
