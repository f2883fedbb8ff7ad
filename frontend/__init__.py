"""Everything that touches ONNX files or PyTorch: the ONNX importer (`frontend.onnx`).

Nothing here is imported eagerly; the compile path never imports torch.
"""

__all__: list[str] = []
