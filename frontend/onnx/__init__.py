"""The ONNX importer: `import_onnx(path_or_model, batch=..., dims=...) -> ir.core.Module`."""

from frontend.onnx._importer import import_onnx

__all__ = ["import_onnx"]
