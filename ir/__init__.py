"""The pimc intermediate representation: SSA graphs of declarative ops in dialects."""

from ir.core import Attr, Graph, Module, Op, Value
from ir.errors import PimcError
from ir.types import TensorType

__all__ = ["Attr", "Graph", "Module", "Op", "PimcError", "TensorType", "Value"]
