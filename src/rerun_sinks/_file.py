"""``FileSink``: records appended to an ``.rrc`` file or a binary stream.

Rules:
- opening a path creates or truncates it (like legacy ``save``); then every record is
  appended as it comes, as exactly its ``encode_record`` bytes;
- pixel payloads go to the file with ``os.writev`` (``os.write`` where there is none, as
  on Windows) straight from the message's memory (no extra copy); partial writes are
  resumed; ``write_many`` (used by ``BackgroundSink``) writes a batch of records with one
  system call;
- a given stream gets ``stream.write`` per part and is never closed by the sink;
- ``flush()`` makes every written record durable (``os.fsync`` for files the sink
  opened, ``stream.flush()`` for streams); ``close()`` is idempotent; ``write`` or
  ``flush`` after ``close()`` raises :class:`SinkClosedError`; an ``OSError`` from
  writing or syncing the file names it (``filename``);
- ``compression`` (``"zstd"``/``"lz4"``) writes records whose pixels are compressed
  (format 1.1, kind 3; see ``encode_compressed_parts``);
- the sink notes each record's offset, length, entity, format and times (a catalog row)
  and ``close()`` appends the index record of format 1.1, unless a write failed (then
  the file has no index and readers scan it).
"""

from __future__ import annotations

import errno
import io
import os
import threading
from collections.abc import Sequence
from typing import BinaryIO, cast

from rerun_core import InvalidArgumentError, Record, encode_compressed_parts, encode_record_parts
from rerun_core.catalog import CatalogBuilder, encode_index
from rerun_sinks._sinks import Sink
from rerun_sinks.errors import SinkClosedError

__all__ = ["FileSink"]

Part = bytes | memoryview
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
_COMPRESSIONS = (None, "zstd", "lz4")
_IOV_MAX = 1024  # buffers per os.writev call: IOV_MAX on Linux and macOS


class FileSink(Sink):
    """Appends encoded records to a file it creates, or to a binary stream it is given."""

    def __init__(
        self, target: str | os.PathLike[str] | BinaryIO, *, compression: str | None = None
    ) -> None:
        """Create or truncate the file at ``target``, or write to the binary stream ``target``.

        ``compression="zstd"`` or ``"lz4"`` compresses pixel arrays of 4 KiB and more
        (format 1.1); the default ``None`` writes raw pixels, read back without copying.
        """
        if compression not in _COMPRESSIONS:
            msg = f"compression must be None, 'zstd' or 'lz4'; got {compression!r}."
            raise InvalidArgumentError(msg, param="compression")
        self.compression = compression
        self._lock = threading.Lock()
        self._closed = False
        self._catalog: CatalogBuilder | None = CatalogBuilder()
        self._offset = 0
        self._target: int | BinaryIO
        if isinstance(target, str | os.PathLike):
            self.path: str | None = os.fspath(target)
            self._target = os.open(self.path, _OPEN_FLAGS, 0o666)
            return
        self.path = None
        self._target = _binary_stream(target)

    def write(self, record: Record) -> None:
        """Append the encoded ``record``."""
        self.write_many((record,))

    def write_many(self, records: Sequence[Record]) -> None:
        """Append the encoded ``records`` in order, with as few system calls as possible."""
        compression = self.compression
        encoded = [
            encode_record_parts(record)
            if compression is None
            else encode_compressed_parts(record, compression)
            for record in records
        ]
        parts = [part for record_parts in encoded for part in record_parts]
        with self._lock:
            self._check_open()
            self._write(parts)
            if self._catalog is not None:
                for record, record_parts in zip(records, encoded, strict=True):
                    length = sum(_nbytes(part) for part in record_parts)
                    self._catalog.add(self._offset, length, record)
                    self._offset += length

    def _write(self, parts: Sequence[Part]) -> None:
        try:
            if isinstance(self._target, int):
                _writev_all(self._target, parts)
            else:
                _write_stream(self._target, parts)
        except BaseException as error:
            self._catalog = None  # the bytes on disk are unknown: no index, readers scan
            self._name(error)
            raise

    def flush(self) -> None:
        """Make every record written so far durable."""
        with self._lock:
            self._check_open()
            if isinstance(self._target, int):
                try:
                    os.fsync(self._target)
                except OSError as error:
                    self._name(error)
                    raise
            else:
                self._target.flush()

    def close(self) -> None:
        """Close the file the sink opened (a given stream is flushed, not closed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._catalog is not None:
                    index, self._catalog = encode_index(self._catalog.build(), self._offset), None
                    self._write((index,))
            finally:
                if isinstance(self._target, int):
                    os.close(self._target)
                else:
                    self._target.flush()

    def _check_open(self) -> None:
        if self._closed:
            target = self.path if self.path is not None else "stream"
            msg = (
                f"FileSink({target!r}) is closed; it accepts no more records. Open a new FileSink."
            )
            raise SinkClosedError(msg)

    def _name(self, error: BaseException) -> None:
        """Name the file in an ``OSError`` that does not (``os.writev`` and ``os.fsync``)."""
        if isinstance(error, OSError) and error.errno is not None and error.filename is None:
            error.filename = self.path


def _binary_stream(target: object) -> BinaryIO:
    if isinstance(target, io.TextIOBase) or not callable(getattr(target, "write", None)):
        msg = (
            f"FileSink needs a path or a binary stream; got {type(target).__name__}. "
            "Pass a path, open(path, 'wb'), io.BytesIO() or sys.stdout.buffer."
        )
        raise TypeError(msg)
    return cast(BinaryIO, target)


def _nbytes(part: Part) -> int:
    return part.nbytes if isinstance(part, memoryview) else len(part)


def _views(parts: Sequence[Part]) -> list[memoryview]:
    return [view for view in (memoryview(part).cast("B") for part in parts) if view.nbytes]


def _writev_all(fd: int, parts: Sequence[Part]) -> None:
    views = _views(parts)
    writev = getattr(os, "writev", None)  # POSIX only: elsewhere one os.write per buffer
    while views:
        written = writev(fd, views[:_IOV_MAX]) if writev else os.write(fd, views[0])
        if not written:
            msg = f"the file took none of {sum(v.nbytes for v in views)} bytes"
            raise OSError(errno.EIO, msg)
        while written:
            head = views[0]
            if written < head.nbytes:
                views[0] = head[written:]
                break
            written -= head.nbytes
            del views[0]


def _write_stream(stream: BinaryIO, parts: Sequence[Part]) -> None:
    for view in _views(parts):
        remaining = view
        while remaining.nbytes:
            written = cast(int | None, stream.write(remaining))  # raw streams may return None
            remaining = remaining[written if isinstance(written, int) else remaining.nbytes :]
