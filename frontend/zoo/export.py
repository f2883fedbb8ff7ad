"""Exporting a model that takes (dense, sparse) to ONNX with either torch exporter."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import onnx
import torch

__all__ = ["export_onnx", "EXPORTERS", "LEGACY_OPSET"]

EXPORTERS = ("legacy", "dynamo")
LEGACY_OPSET = 17
_NAMES = {"input_names": ["dense", "sparse"], "output_names": ["prob"]}


def _legacy(model: torch.nn.Module, args: tuple, f, fold: bool) -> None:
    axes = {"dense": {0: "batch"}, "sparse": {0: "batch"}, "prob": {0: "batch"}}
    torch.onnx.export(model, args, f, dynamo=False, opset_version=LEGACY_OPSET,
                      dynamic_axes=axes, do_constant_folding=fold, **_NAMES)


def _dynamo(model: torch.nn.Module, args: tuple, fold: bool) -> onnx.ModelProto:
    batch = torch.export.Dim("batch", min=2)
    program = torch.onnx.export(model, args, dynamo=True, optimize=fold, verbose=False,
                                dynamic_shapes=({0: batch}, {0: batch}), **_NAMES)
    return program.model_proto


def export_onnx(model: torch.nn.Module, example: tuple[torch.Tensor, torch.Tensor],
                exporter: str = "legacy", path: str | Path | None = None,
                fold: bool = True) -> onnx.ModelProto:
    """Export `model(dense, sparse) -> prob` with a symbolic batch; returns the model and
    writes it to `path` when given. `fold=False` keeps constant sub-graphs as they are."""
    if exporter not in EXPORTERS:
        from ir.errors import PimcError

        raise PimcError(f"unknown exporter '{exporter}'; accepted: {', '.join(EXPORTERS)}")
    model = model.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if exporter == "legacy":
            buf = io.BytesIO()
            _legacy(model, example, buf, fold)
            proto = onnx.load_from_string(buf.getvalue())
        else:
            proto = _dynamo(model, example, fold)
    if path is not None:
        onnx.save(proto, str(path))
    return proto
