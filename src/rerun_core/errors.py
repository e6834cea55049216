"""Errors raised by ``rerun_core``.

Every bad input raises one of these; each message says what was given, what is
allowed and how to fix it::

    RerunCoreError
    ├── InvalidArgumentError (ValueError)
    │   └── UnsupportedDtypeError (TypeError)
    ├── UnrecognizedImageFormatError (ValueError)
    └── DecodeError (ValueError)          .offset: byte offset of the damage
"""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "InvalidArgumentError",
    "RerunCoreError",
    "UnrecognizedImageFormatError",
    "UnsupportedDtypeError",
]


class RerunCoreError(Exception):
    """Root of every error raised by ``rerun_core``."""


class InvalidArgumentError(RerunCoreError, ValueError):
    """A parameter value is not allowed (shape, range, name, ...).

    ``param`` names the offending parameter when there is one.
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UnsupportedDtypeError(InvalidArgumentError, TypeError):
    """An array's dtype is not in the support table for that message kind."""


class UnrecognizedImageFormatError(RerunCoreError, ValueError):
    """Encoded image bytes are not a supported format (JPEG or PNG)."""


class DecodeError(RerunCoreError, ValueError):
    """Bytes are malformed, truncated or corrupt; ``offset`` is where it was found."""

    def __init__(self, message: str, *, offset: int) -> None:
        super().__init__(f"{message} (at byte offset {offset})")
        self.offset = offset
