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


class _SparseOnly(torch.nn.Module):
    """A model of a data set with no numeric feature, seen as a model of `sparse` alone: it
    ignores its empty `dense`, and a [B, 0] graph input is something no compiler wants."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, sparse: torch.Tensor) -> torch.Tensor:
        return self.model(torch.zeros(sparse.shape[0], 0), sparse)


def _names(args: tuple) -> dict:
    inputs = ["dense", "sparse"][-len(args):]
    return {"input_names": inputs, "output_names": ["prob"]}


def _legacy(model: torch.nn.Module, args: tuple, f, fold: bool) -> None:
    axes = {name: {0: "batch"} for name in (*_names(args)["input_names"], "prob")}
    torch.onnx.export(model, args, f, dynamo=False, opset_version=LEGACY_OPSET,
                      dynamic_axes=axes, do_constant_folding=fold, **_names(args))


def _dynamo(model: torch.nn.Module, args: tuple, fold: bool) -> onnx.ModelProto:
    batch = torch.export.Dim("batch", min=2)
    program = torch.onnx.export(model, args, dynamo=True, optimize=fold, verbose=False,
                                dynamic_shapes=tuple({0: batch} for _ in args), **_names(args))
    return program.model_proto


def export_onnx(model: torch.nn.Module, example: tuple[torch.Tensor, torch.Tensor],
                exporter: str = "legacy", path: str | Path | None = None,
                fold: bool = True) -> onnx.ModelProto:
    """Export `model(dense, sparse) -> prob` with a symbolic batch; returns the model and
    writes it to `path` when given. `fold=False` keeps constant sub-graphs as they are.
    When `dense` has no column the graph has one input, `sparse`."""
    if exporter not in EXPORTERS:
        from ir.errors import PimcError

        raise PimcError(f"unknown exporter '{exporter}'; accepted: {', '.join(EXPORTERS)}")
    model = model.eval()
    if example[0].shape[1] == 0:
        model, example = _SparseOnly(model).eval(), (example[1],)
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
