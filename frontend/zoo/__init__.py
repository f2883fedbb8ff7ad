"""The model zoo (PyTorch): DLRM, DCNv2, DeepFM, AutoInt, and ONNX export.

`build(name, table_sizes)` makes a model by name; every model maps (dense, sparse) to a
click probability and exports with both torch exporters (`export_onnx`).
"""

from __future__ import annotations

from ir.errors import PimcError

__all__ = ["MODELS", "build", "export_onnx", "write_model"]

MODELS = ("dlrm", "dcnv2", "deepfm", "autoint", "lr")


def build(name: str, table_sizes: tuple[int, ...], num_dense: int = 13, dim: int = 16,
          seed: int = 0, **options):
    """A zoo model by name, initialised from `seed`."""
    import torch

    from frontend.zoo import models

    classes = {"dlrm": models.DLRM, "dcnv2": models.DCNv2, "deepfm": models.DeepFM,
               "autoint": models.AutoInt, "lr": models.LogisticRegression}
    if name not in classes:
        raise PimcError(f"unknown model '{name}'; accepted: {', '.join(MODELS)}")
    torch.manual_seed(seed)
    return classes[name](tuple(table_sizes), num_dense, dim, **options)


def export_onnx(*args, **kwargs):
    """See `frontend.zoo.export.export_onnx`."""
    from frontend.zoo.export import export_onnx as export

    return export(*args, **kwargs)


def write_model(name: str, tables: tuple[int, ...], path: str, num_dense: int = 13,
                dim: int = 16, seed: int = 0, exporter: str = "legacy") -> None:
    """A zoo model with seeded weights, exported to ONNX at `path` with a symbolic batch."""
    import torch

    model = build(name, tables, num_dense=num_dense, dim=dim, seed=seed)
    example = (torch.zeros(2, num_dense), torch.zeros(2, len(tables), dtype=torch.long))
    export_onnx(model, example, exporter, path)
