"""Recognising a recording file by its first bytes, never by its name.

Rules: ``.rrc`` starts with the record magic (an empty file is an empty ``.rrc``; a file
whose start is damaged still counts when three of the four magic bytes are there, when
the magic appears in its first MiB, or when it ends with an index tail); ``.mcap``
with MCAP's magic; ``.rrd`` with Rerun's ``RRF`` FourCC. Anything else raises
:class:`ForeignDataError` with one line naming what the file looks like.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Literal, Protocol

from rerun_core import Record
from rerun_core.catalog import INDEX_MAGIC, Catalog
from rerun_sinks.errors import ForeignDataError

__all__ = ["ForeignFile", "RecordingFormat", "foreign_records", "open_foreign", "sniff_format"]

RecordingFormat = Literal["rrc", "mcap", "rrd"]
_RRC = b"\x89RRC"
_MCAP = b"\x89MCAP0\r\n"
_RRD = (b"RRF0", b"RRF1", b"RRF2")
_PROBE = 1 << 20
_OTHERS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"RIFF", "a RIFF file (WebP, WAV or AVI)"),
    (b"BM", "a BMP image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"\x04\x22\x4d\x18", "an lz4-compressed file"),
    (b"PAR1", "a Parquet file"),
    (b"ARROW1", "an Arrow IPC file"),
    (b"\x93NUMPY", "a NumPy .npy file"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
    (b"%PDF", "a PDF document"),
    (b"#ROSBAG", "a ROS 1 bag"),
    (b"SQLite format 3\x00", "an SQLite database (a ROS 2 .db3 bag?)"),
    (b"\x7fELF", "an ELF executable"),
)


def sniff_format(path: str | os.PathLike[str]) -> RecordingFormat:
    """Return the recording format of the file at ``path`` from its first bytes."""
    head, tail = _peek(path, 16)
    if not head or head.startswith(_RRC) or _RRC.startswith(head) or tail == INDEX_MAGIC:
        return "rrc"  # also a file cut inside its first magic, or with a damaged start
    if head.startswith(_MCAP):
        return "mcap"
    if head[:4] in _RRD:
        return "rrd"
    if sum(a == b for a, b in zip(head, _RRC, strict=False)) >= len(_RRC) - 1:
        return "rrc"  # a recording whose first magic is damaged
    head, _ = _peek(path, _PROBE)
    if _RRC in head:
        return "rrc"  # a recording whose first record is damaged
    msg = (
        f"{os.fspath(path)} is {_describe(head)}, not a recording: rerun-core reads .rrc, "
        ".mcap and .rrd files (recognised by their first bytes, not their names)"
    )
    raise ForeignDataError(msg)


def _peek(path: str | os.PathLike[str], count: int) -> tuple[bytes, bytes]:
    """Return the first ``count`` bytes and the 8 bytes 16 before the end, reading no more.

    Readahead is off for these reads, so opening a large file reads a page, not megabytes.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        head = os.pread(fd, count, 0) if hasattr(os, "pread") else os.read(fd, count)
        if not hasattr(os, "pread"):
            os.lseek(fd, max(size - 16, 0), os.SEEK_SET)
        tail = os.pread(fd, 8, max(size - 16, 0)) if hasattr(os, "pread") else os.read(fd, 8)
    finally:
        os.close(fd)
    return head, tail


def _describe(head: bytes) -> str:
    for magic, name in _OTHERS:
        if head.startswith(magic):
            return name
    text = head[:4096].decode("utf-8", errors="replace").rstrip("\ufffd")
    if all(c.isprintable() or c.isspace() for c in text):
        return "a text file"
    return f"unrecognised binary data (first bytes {head[:8].hex(' ')})"


def foreign_records(path: str | os.PathLike[str], kind: RecordingFormat) -> Iterator[Record]:
    """Yield the records of an ``.mcap`` or ``.rrd`` file through its reader."""
    if kind == "mcap":
        from rerun_sinks._mcap import read_mcap_records  # noqa: PLC0415 (needs [mcap])

        yield from read_mcap_records(path)
    else:
        from rerun_sinks._rrd_reader import read_rrd_records  # noqa: PLC0415 (needs [rerun])

        yield from read_rrd_records(path)


class ForeignFile(Protocol):
    """An ``.mcap`` or ``.rrd`` file opened for random access: its catalog and records."""

    catalog: Catalog

    @property
    def damaged(self) -> bool:
        """True if the scan skipped a damaged part or stopped at a torn tail."""
        ...

    def record(self, position: int) -> Record:
        """Return the record of catalog row ``position``."""
        ...

    def close(self) -> None:
        """Release the file."""
        ...


def open_foreign(path: str | os.PathLike[str], kind: RecordingFormat) -> ForeignFile:
    """Scan an ``.mcap`` or ``.rrd`` file once into a catalog; records are read again on demand.

    Memory holds the catalog and a locator per record, not the records' pixels (``.rrd``:
    see ``_rrd_reader.RrdRecords``).
    """
    if kind == "mcap":
        from rerun_sinks._mcap import McapRecords  # noqa: PLC0415 (needs [mcap])

        return McapRecords(path)
    from rerun_sinks._rrd_reader import RrdRecords  # noqa: PLC0415 (needs [rerun])

    return RrdRecords(path)
