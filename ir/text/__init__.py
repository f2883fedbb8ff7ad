"""The text form: `parse` and `print_module` (see pir.lark for the grammar).

`parse` loads on first use: printing (the pass manager, the artifact writers) does not need
lark and the grammar.
"""

from ir.text.printer import print_module, print_module_with_weights

__all__ = ["parse", "print_module", "print_module_with_weights"]


def __getattr__(name: str):
    if name != "parse":
        raise AttributeError(f"module 'ir.text' has no attribute {name!r}")
    from ir.text.parser import parse

    return parse
