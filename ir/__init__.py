"""The pimc intermediate representation: SSA graphs of declarative ops in dialects.

The names below load on first use, so that importing `ir.errors` (as the command line does
for `pimc --version`) does not import numpy and the IR core.
"""

from __future__ import annotations

import importlib

__all__ = ["Attr", "Graph", "Module", "Op", "PimcError", "TensorType", "Value"]

_HOME = {"Attr": "ir.core", "Graph": "ir.core", "Module": "ir.core", "Op": "ir.core",
         "Value": "ir.core", "PimcError": "ir.errors", "TensorType": "ir.types"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'ir' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
