"""The ONNX importer: `import_onnx(path_or_model, batch=..., dims=...) -> ir.core.Module`, and
`load_onnx(path)`, the checked reader of a model file and its external data."""

from frontend.onnx._importer import import_onnx
from frontend.onnx._load import load_onnx

__all__ = ["import_onnx", "load_onnx"]
