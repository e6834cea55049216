"""``FileSink``: records appended to an ``.rrc`` file or a binary stream.

Rules:
- opening a path creates or truncates it (like legacy ``save``; an old regular file is
  replaced, see ``_rewrite``); then every record is appended as it comes, as exactly
  its ``encode_record`` bytes;
- records are encoded by the sink's ``RecordEncoder`` (metadata from per-layout
  templates; the same bytes as ``encode_record``), outside the sink's lock;
- pixel payloads go to the file with ``os.pwritev`` at their offset (``os.writev``
  where there is none, ``os.write`` where neither is, as on Windows) straight from the
  message's memory (no extra copy): one system call per ``write`` and per
  ``write_many`` batch (used by ``BackgroundSink``), one per chunk of about
  4 MiB of a ``write_batch`` (``send_columns``: straight from the caller's frames, never
  buffered); partial writes are resumed; by default nothing is buffered in user space,
  so a killed process loses at most the records of the system calls in flight;
- ``write_ordered(record)`` (what a recording calls under its lock) reserves the
  record's offset and catalog row, and returns a function that writes its bytes there
  (the recording calls it after releasing its lock), so threads logging to one file
  write at the same time, in tick order on disk; a killed process then loses at most
  one record per logging thread, and a later record may be complete after an earlier
  torn one (``verify`` reports the damaged region, ``recover`` copies the rest);
  ``flush()`` and ``close()`` wait for the writes in flight;
- ``copies_on_write`` is True for an unbuffered file (not a stream): a record's bytes
  are in the file when its write returns, so the recording may hand it records whose
  large pixels are views of the caller's arrays (read twice: for the CRC, then by the
  system call; changed by another thread in between, the record fails its CRC);
- ``buffer_bytes=N`` (N > 0) keeps the encoded records (buffers of the messages' own
  memory: no copy) until they add up to N bytes or more (or ``_IOV_MAX`` buffers), then
  writes them with one system call; ``write_many``, ``flush()`` and ``close()`` write
  what is buffered first, and interpreter exit flushes an open buffered sink. A killed
  process (SIGKILL, ``os._exit``, power loss) loses the buffered records too: fewer than
  N bytes of records, plus the system call in flight; every record before them is
  intact (``verify`` counts them, ``recover`` copies them). A failed write raises from
  the call that wrote, and the buffered records are lost with it;
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
from collections import deque
from collections.abc import Callable, Sequence
from itertools import islice
from typing import BinaryIO, cast

from rerun_core import (
    InvalidArgumentError,
    Record,
    RecordBatch,
    RecordEncoder,
    encode_compressed_parts,
)
from rerun_core.catalog import CatalogBuilder, encode_index
from rerun_sinks._rewrite import rewrite
from rerun_sinks._sinks import Sink
from rerun_sinks._state import flush_at_exit, stop_flushing_at_exit
from rerun_sinks.errors import SinkClosedError

__all__ = ["FileSink"]

Part = bytes | memoryview
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
_COMPRESSIONS = (None, "zstd", "lz4")
_IOV_MAX = 1024  # buffers per os.writev call: IOV_MAX on Linux and macOS


class FileSink(Sink):
    """Appends encoded records to a file it creates, or to a binary stream it is given."""

    def __init__(
        self,
        target: str | os.PathLike[str] | BinaryIO,
        *,
        compression: str | None = None,
        buffer_bytes: int = 0,
    ) -> None:
        """Create or truncate the file at ``target``, or write to the binary stream ``target``.

        ``compression="zstd"`` or ``"lz4"`` compresses pixel arrays of 4 KiB and more
        (format 1.1); the default ``None`` writes raw pixels, read back without copying.
        ``buffer_bytes=N`` writes records N bytes at a time (fewer system calls; e.g.
        ``1 << 20``); a killed process then loses the buffered records (fewer than N
        bytes of them) besides the write in flight. The default 0 writes each record
        as it comes, so a killed process loses at most the record in flight.
        """
        if compression not in _COMPRESSIONS:
            msg = f"compression must be None, 'zstd' or 'lz4'; got {compression!r}."
            raise InvalidArgumentError(msg, param="compression")
        self.buffer_bytes = _check_buffer_bytes(buffer_bytes)
        self.compression = compression
        self._pending: list[Part] = []  # encoded records not written yet (buffer_bytes > 0)
        self._pending_bytes = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when no write is in flight
        self._in_flight = 0
        self._closed = False
        self._catalog: CatalogBuilder | None = CatalogBuilder()
        self._encoder = RecordEncoder()
        self._offset = 0  # where the next record goes (buffered records included)
        self._end = 0  # where the next system call writes: the offset minus the buffer
        self._target: int | BinaryIO
        if isinstance(target, str | os.PathLike):
            self.path: str | None = os.fspath(target)
            path = self.path
            self._target = rewrite(path, lambda: os.open(path, _OPEN_FLAGS, 0o666))
        else:
            self.path = None
            self._target = _binary_stream(target)
        if self.buffer_bytes:
            flush_at_exit(self)

    @property
    def copies_on_write(self) -> bool:
        """True for an unbuffered file: a record's bytes are in it when its write returns.

        (A stream may keep what it is given; a buffer keeps records until it is full.)
        """
        return self.buffer_bytes == 0 and type(self._target) is int

    def write(self, record: Record) -> None:
        """Append the encoded ``record`` (one system call, or to the buffer)."""
        self.write_ordered(record)()

    def write_ordered(self, record: Record) -> Callable[[], None]:
        """Give ``record`` its place in the file now; the returned function writes it.

        A recording calls this under its lock, so records take the order of their ticks,
        and calls the function after releasing the lock, so several threads' writes go
        to the file at once (``os.pwritev`` at the reserved offset). Buffered records,
        streams and systems without ``pwritev`` are written here (the function does
        nothing). An error of the write is raised by the function.
        """
        if self.compression is None:
            parts, length = self._encoder.encode_sized(record)
        else:
            parts = encode_compressed_parts(record, self.compression)
            length = sum(map(_nbytes, parts))
        with self._lock:
            if self._closed:
                self._check_open()
            pending = self._pending
            finish = _written
            if (
                self._pending_bytes + length < self.buffer_bytes
                and len(pending) + len(parts) <= _IOV_MAX
            ):
                pending += parts
                self._pending_bytes += length
            elif type(self._target) is int and not pending and hasattr(os, "pwritev"):
                finish = self._reserve(parts, length)
            else:
                self._write(parts, length)
            if self._catalog is not None:
                self._catalog.add(self._offset, length, record)
            self._offset += length
        return finish

    def _reserve(self, parts: Sequence[Part], length: int) -> Callable[[], None]:
        """Take ``length`` bytes at the file's end for a write in flight (lock held).

        Return the function that writes ``parts`` there.
        """
        offset, self._end = self._end, self._end + length
        self._in_flight += 1

        def finish() -> None:
            try:
                _pwritev_all(cast(int, self._target), parts, length, offset)
            except BaseException as error:
                with self._lock:
                    self._catalog = None  # the bytes on disk are unknown: no index
                self._name(error)
                raise
            finally:
                with self._lock:
                    self._in_flight -= 1
                    if not self._in_flight:
                        self._idle.notify_all()

        return finish

    def write_many(self, records: Sequence[Record]) -> None:
        """Append the encoded ``records`` in order, with as few system calls as possible."""
        encode = self._encode
        encoded = [encode(record) for record in records]
        lengths = [sum(map(_nbytes, parts)) for parts in encoded]
        with self._lock:
            self._check_open()
            self._write([part for parts in encoded for part in parts], sum(lengths))
            for record, length in zip(records, lengths, strict=True):
                self._note(record, length)

    def write_batch(self, batch: RecordBatch) -> None:
        """Append the batch's records (``batch.encode()``: no copy of the pixels).

        One ``os.pwritev`` per chunk of about 4 MiB (the CRCs of a chunk computed just
        before it is written); the catalog takes the batch's rows at once. With
        ``compression``, the batch's records go through ``write_many``.
        """
        if self.compression is not None:
            self.write_many(batch.records())
            return
        encoded = batch.encode()
        with self._lock:
            self._check_open()
            for parts, size in encoded.chunks():  # about 4 MiB each, at most _IOV_MAX buffers
                self._write(cast(list[Part], parts), size)  # buffers of any kind
            if self._catalog is not None:
                self._catalog.add_batch(self._offset, encoded.lengths, batch)
            self._offset += encoded.nbytes

    def _encode(self, record: Record) -> tuple[Part, ...]:
        """Return the record's bytes: from the sink's encoder (templates), or compressed."""
        if self.compression is None:
            return self._encoder.encode_parts(record)
        return encode_compressed_parts(record, self.compression)

    def _note(self, record: Record, length: int) -> None:
        """Add the written record to the catalog of the index (lock held)."""
        if self._catalog is not None:
            self._catalog.add(self._offset, length, record)
        self._offset += length

    def _write(self, parts: Sequence[Part], total: int) -> None:
        """Write the buffered records, then ``parts`` (``total`` bytes) (lock held)."""
        if self._pending:
            parts, total = [*self._pending, *parts], total + self._pending_bytes
            self._pending, self._pending_bytes = [], 0
        if not parts:
            return
        at, self._end = self._end, self._end + total
        try:
            if type(self._target) is not int:
                _write_stream(cast(BinaryIO, self._target), parts)
            elif hasattr(os, "pwritev"):  # POSIX: writes at an offset, threads at once
                _pwritev_all(self._target, parts, total, at)
            else:
                _writev_all(self._target, parts, total)
        except BaseException as error:
            self._catalog = None  # the bytes on disk are unknown: no index, readers scan
            self._name(error)
            raise

    def flush(self) -> None:
        """Write the buffered records, then make every record written so far durable."""
        with self._lock:
            self._check_open()
            while self._in_flight:  # other threads' writes (write_ordered)
                self._idle.wait()
            self._write((), 0)
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
            stop_flushing_at_exit(self)
            while self._in_flight:
                self._idle.wait()
            try:
                self._write((), 0)
                if self._catalog is not None:
                    index, self._catalog = encode_index(self._catalog.build(), self._offset), None
                    self._write((index,), len(index))
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


def _check_buffer_bytes(value: object) -> int:
    if type(value) is not int or value < 0:
        msg = (
            f"buffer_bytes must be an int >= 0 (0: no buffer); got {value!r}. "
            "Pass e.g. buffer_bytes=1 << 20 to write 1 MiB at a time."
        )
        raise InvalidArgumentError(msg, param="buffer_bytes")
    return value


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


def _written() -> None:
    """Do nothing: what ``write_ordered`` returns for a record written (or buffered) already."""


def _pwritev_all(fd: int, parts: Sequence[Part], total: int, offset: int) -> None:
    """Write ``parts`` (``total`` bytes) at ``offset``, resuming partial writes."""
    written = os.pwritev(fd, parts, offset) if len(parts) <= _IOV_MAX else 0
    if written != total:
        _resume(parts, written, lambda views, done: os.pwritev(fd, views, offset + done))


def _writev_all(fd: int, parts: Sequence[Part], total: int) -> None:
    writev = getattr(os, "writev", None)  # POSIX only: elsewhere one os.write per buffer
    written = 0
    if writev is not None and 0 < len(parts) <= _IOV_MAX:  # the common case: one call
        written = writev(fd, parts)
        if written == total:
            return
    if writev is None:
        _resume(parts, written, lambda views, _: os.write(fd, views[0]))
    else:
        _resume(parts, written, lambda views, _: writev(fd, views))


def _resume(
    parts: Sequence[Part], written: int, write_some: Callable[[list[memoryview], int], int]
) -> None:
    """Write what is left of ``parts`` after ``written`` bytes, ``_IOV_MAX`` buffers a call.

    ``write_some(views, done)`` writes from the first of ``views`` (``done`` bytes are
    already written) and returns how many bytes it took; taking none is an ``OSError``.
    """
    views = deque(_views(parts))
    done = 0
    while True:
        done += written
        while written:  # drop what the last call took
            head = views[0]
            if written < head.nbytes:
                views[0] = head[written:]
                break
            written -= head.nbytes
            views.popleft()
        if not views:
            return
        written = write_some(list(islice(views, _IOV_MAX)), done)
        if not written:
            msg = f"the file took none of {sum(v.nbytes for v in views)} bytes"
            raise OSError(errno.EIO, msg)


def _write_stream(stream: BinaryIO, parts: Sequence[Part]) -> None:
    for view in _views(parts):
        remaining = view
        while remaining.nbytes:
            written = cast(int | None, stream.write(remaining))  # raw streams may return None
            remaining = remaining[written if isinstance(written, int) else remaining.nbytes :]
