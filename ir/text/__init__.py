"""The text form: `parse` and `print_module` (see pir.lark for the grammar)."""

from ir.text.parser import parse
from ir.text.printer import print_module, print_module_with_weights

__all__ = ["parse", "print_module", "print_module_with_weights"]
