"""The sink protocol, the in-memory sink and the fan-out sink.

Rules:
- a sink receives validated :class:`rerun_core.Record` objects, in logging order, and
  never validates pixels; byte-oriented sinks encode them with ``rerun_core``'s codec;
- ``write``/``flush``/``close`` are thread-safe; ``close()`` is idempotent; ``write`` or
  ``flush`` after ``close()`` raises :class:`SinkClosedError`;
- every sink is a context manager that closes it on exit;
- optional protocols: a :class:`BatchSink` also takes a batch of records at once
  (``write_many``, used by ``BackgroundSink``); a :class:`RecordBatchSink` takes the
  ``rerun_core.RecordBatch`` of ``send_columns`` (``write_batch``: its records, in order,
  as ``write`` would take them, consumed before it returns: the batch's pixels may be
  the caller's memory); a :class:`CountsDrops` sink reports the records it dropped
  (``drop_counts``, summed into ``RecordingStream.stats``); a sink whose
  ``copies_on_write`` is True keeps no memory of a record once its ``write`` (or
  ``write_ordered``'s function) returns, so a recording may hand it records whose large
  pixels are views of the caller's arrays (``rerun_core``'s ``borrow=True``);
- ``MemorySink`` and a ``TeeSink`` of such sinks copy on write (so do an unbuffered
  ``FileSink`` and ``McapSink``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol, Self, cast, runtime_checkable

from rerun_core import (
    AnnotationContextMsg,
    DepthMsg,
    ExtensionMsg,
    ImageMsg,
    Record,
    RecordBatch,
    RecordEncoder,
    SegmentationMsg,
    iter_records,
)
from rerun_sinks.errors import SinkClosedError

__all__ = [
    "BatchSink",
    "CountsDrops",
    "MemorySink",
    "RecordBatchSink",
    "Sink",
    "TeeSink",
    "check_sink",
    "copies_on_write",
    "drop_counts",
    "record_nbytes",
]

_RECORD_OVERHEAD = 256
_ANNOTATION_BYTES = 64


class Sink(Protocol):
    """Where records go: ``write`` each one, ``flush`` to make them durable, ``close``."""

    def write(self, record: Record) -> None:
        """Accept one record (in logging order)."""
        ...

    def flush(self) -> None:
        """Return once every record written so far is delivered."""
        ...

    def close(self) -> None:
        """Flush and release resources; idempotent."""
        ...

    def __enter__(self) -> Self:
        """Return the sink itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the sink."""
        self.close()


@runtime_checkable
class BatchSink(Protocol):
    """A sink that also takes several records at once (e.g. with one system call)."""

    def write_many(self, records: Sequence[Record]) -> None:
        """Accept ``records`` in order, as ``write`` would one by one."""
        ...


@runtime_checkable
class RecordBatchSink(Protocol):
    """A sink that takes a :class:`rerun_core.RecordBatch` (``send_columns``) at once."""

    def write_batch(self, batch: RecordBatch) -> None:
        """Accept the batch's records in order, as ``write`` would one by one.

        The batch's pixel block may be the caller's memory: copy or write what is kept
        before returning.
        """
        ...


@runtime_checkable
class CountsDrops(Protocol):
    """A sink that may drop records (e.g. a bounded queue) and counts what it dropped."""

    def drop_counts(self) -> tuple[int, int]:
        """Return ``(records, bytes)`` dropped so far, the wrapped sinks' included."""
        ...


def drop_counts(sink: object) -> tuple[int, int]:
    """Return ``sink.drop_counts()`` for a :class:`CountsDrops` sink, else ``(0, 0)``."""
    return sink.drop_counts() if isinstance(sink, CountsDrops) else (0, 0)


def copies_on_write(sink: object) -> bool:
    """Tell whether ``sink`` is done with a record's memory when its write returns."""
    return getattr(sink, "copies_on_write", False) is True


def check_sink(sink: object, *, param: str = "sink") -> Sink:
    """Return ``sink`` if it has ``write``, ``flush`` and ``close``, else raise TypeError."""
    if not all(callable(getattr(sink, name, None)) for name in ("write", "flush", "close")):
        msg = (
            f"{param} must be a sink with write(record), flush() and close(); got "
            f"{type(sink).__name__}. Use MemorySink(), FileSink(path) or BackgroundSink(sink)."
        )
        raise TypeError(msg)
    return cast(Sink, sink)


def record_nbytes(record: Record) -> int:
    """Estimate the memory a record holds: its pixel, encoded and component bytes."""
    msg = record.msg
    if type(msg) is ImageMsg and msg.pixels is not None and not msg.ext:  # the hot path
        return _RECORD_OVERHEAD + msg.pixels.nbytes
    size = _RECORD_OVERHEAD
    if isinstance(msg, ImageMsg):
        size += msg.pixels.nbytes if msg.pixels is not None else len(msg.jpeg)
    elif isinstance(msg, DepthMsg | SegmentationMsg):
        size += msg.pixels.nbytes
    elif isinstance(msg, AnnotationContextMsg):
        size += _ANNOTATION_BYTES * len(msg.class_descriptions)
    if isinstance(msg, ExtensionMsg):
        size += sum(array.nbytes for array in msg.components.values())
    elif not isinstance(msg, AnnotationContextMsg):
        size += sum(array.nbytes for array in msg.ext.values())
    return size


class MemorySink(Sink):
    """Keeps every record in memory, encoded; ``getvalue()`` is a complete decodable stream.

    Each record is encoded as it is written (``RecordEncoder``: the bytes of
    ``encode_record``) and appended to an in-memory stream, so ``getvalue()`` costs no
    encoding and no copy; ``records`` decodes the stream (equal records, their arrays
    read-only views of it).
    """

    def __init__(self) -> None:
        """Start empty and open."""
        self._lock = threading.Lock()
        self._encoder = RecordEncoder()
        self._stream = io.BytesIO()
        self._closed = False

    @property
    def copies_on_write(self) -> bool:
        """True: ``write`` copies the record's bytes into the stream before it returns."""
        return True

    @property
    def records(self) -> list[Record]:
        """The records written so far, in order, decoded from :meth:`getvalue`."""
        return list(iter_records(self.getvalue()))

    def getvalue(self) -> bytes:
        """Return the records as one stream: the concatenation of ``encode_record``."""
        with self._lock:
            return self._stream.getvalue()

    def reset_data(self) -> None:
        """Forget the records written so far (legacy ``MemoryRecording.reset_data``)."""
        with self._lock:
            self._stream = io.BytesIO()

    def write(self, record: Record) -> None:
        """Encode ``record`` and append it."""
        parts = self._encoder.encode_sized(record)[0]
        with self._lock:
            if self._closed:
                raise SinkClosedError(_closed_message(self))
            self._stream.writelines(parts)

    def write_batch(self, batch: RecordBatch) -> None:
        """Encode the batch's records (``batch.encode()``, no ``Record`` objects); append them."""
        encoded = batch.encode()
        with self._lock:
            if self._closed:
                raise SinkClosedError(_closed_message(self))
            for parts, _ in encoded.chunks():  # each chunk copied while it is in the cache
                self._stream.writelines(cast(list[bytes], parts))  # buffers of any kind

    def flush(self) -> None:
        """Nothing to do: records are in memory as soon as they are written."""
        with self._lock:
            if self._closed:
                raise SinkClosedError(_closed_message(self))

    def close(self) -> None:
        """Refuse further writes; the records stay readable."""
        with self._lock:
            self._closed = True


class TeeSink(Sink):
    """Sends every record to several sinks, in the order they were given."""

    def __init__(self, *sinks: Sink) -> None:
        """Fan out to ``sinks`` (at least one)."""
        if not sinks:
            msg = "TeeSink needs at least one sink; got none. Pass e.g. TeeSink(MemorySink(), ...)."
            raise TypeError(msg)
        self.sinks: tuple[Sink, ...] = tuple(check_sink(s, param="TeeSink sink") for s in sinks)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def copies_on_write(self) -> bool:
        """True if every sink it fans out to copies a record before its write returns."""
        return all(map(copies_on_write, self.sinks))

    def write(self, record: Record) -> None:
        """Write ``record`` to every sink; the first error is raised after trying all."""
        with self._lock:
            if self._closed:
                raise SinkClosedError(_closed_message(self))
            _each(self.sinks, lambda sink: sink.write(record))

    def flush(self) -> None:
        """Flush every sink."""
        with self._lock:
            if self._closed:
                raise SinkClosedError(_closed_message(self))
            _each(self.sinks, lambda sink: sink.flush())

    def drop_counts(self) -> tuple[int, int]:
        """Return ``(records, bytes)`` dropped by the sinks fanned out to."""
        pairs = [drop_counts(sink) for sink in self.sinks]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)

    def close(self) -> None:
        """Close every sink (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            _each(self.sinks, lambda sink: sink.close())


def _each(sinks: tuple[Sink, ...], action: Callable[[Sink], None]) -> None:
    errors: list[Exception] = []
    for sink in sinks:
        try:
            action(sink)
        except Exception as err:
            errors.append(err)
    if errors:
        raise errors[0]


def _closed_message(sink: object) -> str:
    return (
        f"this {type(sink).__name__} is closed; it accepts no more records. "
        "Create a new sink (or call save()/memory_recording() again)."
    )
