"""The error raised for a bad target file or a bad cost-model request."""

from __future__ import annotations

from ir.errors import PimcError

__all__ = ["TargetError"]


class TargetError(PimcError):
    """A target file or primitive was invalid: names the file, the field and what is accepted."""
