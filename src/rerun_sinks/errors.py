"""Errors and warnings raised by ``rerun_sinks``.

Rules: bad user data raises the core's typed errors (``rerun_core.errors``) in strict
mode; lenient mode turns them into a :class:`RerunWarning` and a dropped message. Sink
misuse raises :class:`SinkClosedError`::

    RerunWarning (UserWarning)           a dropped message or a call without a recording
    SinkError                            root of the sink errors
    └── SinkClosedError (ValueError)     write or flush after close()
    ForeignDataError (ValueError)        a foreign file's content the core cannot hold
"""

from __future__ import annotations

__all__ = ["ForeignDataError", "RerunWarning", "SinkClosedError", "SinkError"]


class RerunWarning(UserWarning):
    """Something was logged wrongly or not at all; the program keeps running."""


class SinkError(Exception):
    """Root of the errors raised by sinks."""


class SinkClosedError(SinkError, ValueError):
    """A sink was used after ``close()``."""


class ForeignDataError(ValueError):
    """A foreign file (``.mcap``, ``.rrd``) holds data that cannot become a record.

    The message names where (topic or entity, message or row) and what (an encoding, a
    pixel format, a dtype) the core does not support.
    """
