"""Reading ``.rrc`` files: zero-copy records, verification and recovery.

Rules: files are memory-mapped read-only, so decoded pixels are views of the file that no
one can write; ``verify`` and ``recover`` never raise on damaged content, they report it.
Index records (format 1.1) are never yielded or counted as log records: ``verify``
reports the index's state and ``recover`` writes a fresh one.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import numpy as np

from rerun_core import Record, RecordDecoder, RecordSpan, iter_records, scan_records
from rerun_core.catalog import KIND_INDEX, LOG_KINDS, CatalogBuilder, encode_index, read_index
from rerun_sinks._formats import foreign_records, sniff_format
from rerun_sinks.errors import ForeignDataError

__all__ = ["VerifyReport", "read_records", "recover", "verify"]

PathLike = str | os.PathLike[str]


def _map(path: PathLike) -> mmap.mmap | bytes:
    with Path(path).open("rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def read_records(path: PathLike) -> Iterator[Record]:
    """Yield the records of a recording file; ``.rrc`` payloads are views of the mapped file.

    The first bytes pick the reader: ``.rrc``, ``.mcap`` or ``.rrd`` (anything else raises
    ``ForeignDataError``). Damage raises ``rerun_core.DecodeError`` with its byte offset;
    use ``verify`` and ``recover`` for damaged ``.rrc`` files.
    """
    kind = sniff_format(path)
    if kind != "rrc":
        yield from foreign_records(path, kind)
        return
    yield from iter_records(_map(path))


@attrs.frozen
class VerifyReport:
    """What ``verify`` found: intact log record count, where damage starts, the index.

    ``index`` is ``"valid"`` (it lists exactly the intact log records), ``"missing"``,
    ``"damaged"`` or ``"stale"`` (intact, but not a list of this file's records).
    ``format`` is ``"rrc"``, ``"mcap"`` or ``"rrd"``; the latter two are read strictly by
    their readers (which raise on damage) and have no index of ours.
    """

    count: int
    first_bad_offset: int | None
    damaged_bytes: int
    size: int
    first_error: str | None = None
    index: str = "missing"
    format: str = "rrc"

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
    kind = sniff_format(path)
    if kind != "rrc":
        count = sum(1 for _ in foreign_records(path, kind))
        size = Path(path).stat().st_size
        if progress is not None:
            progress(size)
        return VerifyReport(count, None, 0, size, index="missing", format=kind)
    data = _map(path)
    damaged = 0
    log_offsets: list[int] = []
    first_bad: RecordSpan | None = None
    for span in _spans(data, progress):
        if span.error is None:
            if span.kind in LOG_KINDS:
                log_offsets.append(span.offset)
            continue
        damaged += span.length
        first_bad = first_bad or span
    index = read_index(data)
    status = index.status
    if index.catalog is not None and not np.array_equal(index.catalog.offset, log_offsets):
        status = "stale"
    return VerifyReport(
        count=len(log_offsets),
        first_bad_offset=None if first_bad is None else first_bad.offset,
        damaged_bytes=damaged,
        size=Path(path).stat().st_size,
        first_error=None if first_bad is None else str(first_bad.error),
        index=status,
    )


def recover(src: PathLike, dst: PathLike, *, progress: Callable[[int], None] | None = None) -> int:
    """Copy every intact record of ``src`` to ``dst`` (created or truncated), then a fresh index.

    Old index records are dropped. Returns the number of log records copied. Only
    ``.rrc`` files are repaired: any other file raises ``ForeignDataError`` and ``dst``
    is not created.
    """
    kind = sniff_format(src)
    if kind != "rrc":
        msg = (
            f"recover repairs .rrc files only; {os.fspath(src)} is an .{kind} file "
            f"(read it with 'rerun-core info', or 'rerun-core convert' it to .rrc)"
        )
        raise ForeignDataError(msg)
    data = _map(src)
    catalog = CatalogBuilder()
    decoder = RecordDecoder()
    offset = 0
    with Path(dst).open("wb") as out:
        for span in _spans(data, progress):
            if span.error is not None or span.kind == KIND_INDEX:
                continue
            out.write(memoryview(data)[span.offset : span.offset + span.length])
            if span.kind in LOG_KINDS:
                catalog.add(offset, span.length, decoder.decode_at(data, span.offset))
            offset += span.length
        out.write(encode_index(catalog.build(), offset))
        out.flush()
        if stat.S_ISREG(os.fstat(out.fileno()).st_mode):  # devices and pipes cannot sync
            os.fsync(out.fileno())
    return len(catalog)
