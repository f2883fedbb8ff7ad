"""The one exception type users see; the CLI prints it as one line and exits with 2."""

from __future__ import annotations

__all__ = ["PimcError"]


class PimcError(Exception):
    """A user-facing error: what was wrong, where, and what is accepted, in one line."""

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
