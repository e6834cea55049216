"""Reading ``.rrc`` files: zero-copy records, verification and recovery.

Rules: files are memory-mapped read-only, so decoded pixels are views of the file that no
one can write; ``verify`` and ``recover`` never raise on damaged content, they report it.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from rerun_core import Record, RecordSpan, iter_records, scan_records

__all__ = ["VerifyReport", "read_records", "recover", "verify"]

PathLike = str | os.PathLike[str]


def _map(path: PathLike) -> mmap.mmap | bytes:
    with Path(path).open("rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def read_records(path: PathLike) -> Iterator[Record]:
    """Yield the records of an ``.rrc`` file; payload arrays are views of the mapped file.

    Damage raises ``rerun_core.DecodeError`` with its byte offset; use ``verify`` and
    ``recover`` for damaged files.
    """
    yield from iter_records(_map(path))


@attrs.frozen
class VerifyReport:
    """What ``verify`` found: intact record count and where damage starts."""

    count: int
    first_bad_offset: int | None
    damaged_bytes: int
    size: int
    first_error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every byte of the file belongs to an intact record."""
        return self.first_bad_offset is None


def _spans(data: mmap.mmap | bytes, progress: Callable[[int], None] | None) -> Iterator[RecordSpan]:
    for span in scan_records(data):
        if progress is not None:
            progress(span.length)
        yield span


def verify(path: PathLike, *, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check every record's framing and CRCs; ``progress`` gets the bytes scanned."""
    count = damaged = 0
    first_bad: RecordSpan | None = None
    for span in _spans(_map(path), progress):
        if span.error is None:
            count += 1
            continue
        damaged += span.length
        first_bad = first_bad or span
    return VerifyReport(
        count=count,
        first_bad_offset=None if first_bad is None else first_bad.offset,
        damaged_bytes=damaged,
        size=Path(path).stat().st_size,
        first_error=None if first_bad is None else str(first_bad.error),
    )


def recover(src: PathLike, dst: PathLike, *, progress: Callable[[int], None] | None = None) -> int:
    """Copy every intact record of ``src`` to ``dst`` (created or truncated); return the count."""
    data = _map(src)
    copied = 0
    with Path(dst).open("wb") as out:
        for span in _spans(data, progress):
            if span.error is None:
                out.write(memoryview(data)[span.offset : span.offset + span.length])
                copied += 1
        out.flush()
        os.fsync(out.fileno())
    return copied
