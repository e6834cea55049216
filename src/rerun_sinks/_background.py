"""``BackgroundSink``: a bounded queue and one writer thread in front of another sink.

Rules:
- the writer hands queued records to the inner sink in batches (``write_many`` when it
  is a ``BatchSink``, e.g. ``FileSink``: one system call per batch);
- the queue holds at most ``max_bytes`` of records (sizes from ``record_nbytes``),
  counting the records being written; a single record bigger than ``max_bytes`` is
  accepted when nothing is pending, so memory stays below ``max_bytes`` + one record;
- when full, ``policy`` decides: ``"block"`` waits for room, ``"drop_newest"`` drops the
  incoming record, ``"drop_oldest"`` drops queued records (never those being written);
  drops are counted (``dropped_records``, ``dropped_bytes``, ``drop_counts()`` with the
  inner sink's) and warned about once;
- records lost because the inner sink failed (a disk full: a failed ``write`` loses its
  record, a failed ``write_many`` its batch) are counted too (``failed_records``,
  ``failed_bytes``, included in ``drop_counts()``, so in ``RecordingStream.stats``);
- ``flush()`` returns after every accepted record reached the inner sink and the inner
  sink was flushed; ``close()`` flushes, stops the thread and closes the inner sink
  (idempotent); an error raised by the inner sink is re-raised by the next ``flush()``
  or ``close()`` (a failed ``write`` loses its record, a failed ``write_many`` its batch);
- open background sinks are flushed at interpreter exit (``_state``).
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Sequence
from typing import Literal

from rerun_core import Record
from rerun_sinks._sinks import BatchSink, Sink, check_sink, drop_counts, record_nbytes
from rerun_sinks._state import flush_at_exit, stop_flushing_at_exit
from rerun_sinks._warn import warn_user
from rerun_sinks.errors import SinkClosedError

__all__ = ["BackgroundSink", "Policy"]

Policy = Literal["block", "drop_newest", "drop_oldest"]
_POLICIES: tuple[Policy, ...] = ("block", "drop_newest", "drop_oldest")
_DEFAULT_MAX_BYTES = 256 * 2**20
_BATCH_RECORDS = 256  # records handed to the inner sink at once (``write_many`` if it has one)


class BackgroundSink(Sink):
    """Writes records to ``sink`` from a daemon thread, through a bounded queue."""

    def __init__(
        self, sink: Sink, *, max_bytes: int = _DEFAULT_MAX_BYTES, policy: Policy = "block"
    ) -> None:
        """Start the writer thread in front of ``sink``."""
        self.sink = check_sink(sink)
        if policy not in _POLICIES:
            msg = f"policy must be one of {', '.join(_POLICIES)}; got {policy!r}."
            raise ValueError(msg)
        self.max_bytes = _positive_int(max_bytes)
        self.policy: Policy = policy
        self.dropped_records = 0
        self.dropped_bytes = 0
        self.failed_records = 0
        self.failed_bytes = 0
        self.peak_queued_bytes = 0
        self._queue: deque[tuple[Record, int]] = deque()
        self._pending_bytes = 0  # queued + being written
        self._accepted = 0
        self._finished = 0  # written or dropped after being accepted
        self._flush_ticket = 0
        self._flush_target = 0
        self._flushed_ticket = 0
        self._error: Exception | None = None
        self._warned = False
        self._close_started = False
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, name=f"rerun_sinks.BackgroundSink({type(sink).__name__})", daemon=True
        )
        self._thread.start()
        flush_at_exit(self)

    @property
    def queued_bytes(self) -> int:
        """Bytes of records accepted but not yet written (including those being written)."""
        with self._cond:
            return self._pending_bytes

    def write(self, record: Record) -> None:
        """Queue ``record``; when full, block or drop according to ``policy``."""
        size = record_nbytes(record)
        with self._cond:
            self._check_open()
            if self.policy == "drop_newest" and self._is_full(size):
                self._count_drop(size)
            else:
                self._make_room(size)
                self._queue.append((record, size))
                self._accepted += 1
                self._pending_bytes += size
                self.peak_queued_bytes = max(self.peak_queued_bytes, self._pending_bytes)
                if len(self._queue) == 1:  # the writer may be waiting for work
                    self._cond.notify_all()
            warn = self.dropped_records > 0 and not self._warned
            self._warned = self._warned or warn
        if warn:
            warn_user(
                f"BackgroundSink(policy={self.policy!r}, max_bytes={self.max_bytes}) was full "
                "and dropped records; see its dropped_records and dropped_bytes. Raise "
                "max_bytes, use policy='block', or log less."
            )

    def flush(self) -> None:
        """Return once every accepted record reached the inner sink and it was flushed."""
        with self._cond:
            self._check_open()
            self._wait_flushed()

    def close(self) -> None:
        """Flush, stop the writer thread and close the inner sink (idempotent)."""
        error: Exception | None = None
        with self._cond:
            if self._close_started:
                return
            self._close_started = True
            try:
                self._wait_flushed()
            except Exception as err:  # raised once the thread is stopped and the sink closed
                error = err
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        stop_flushing_at_exit(self)
        self.sink.close()
        error = error or self._error  # from records accepted while close() was flushing
        if error is not None:
            raise error

    def drop_counts(self) -> tuple[int, int]:
        """Return ``(records, bytes)`` dropped or lost to sink failures here or further in."""
        records, nbytes = drop_counts(self.sink)
        with self._cond:
            return (
                self.dropped_records + self.failed_records + records,
                self.dropped_bytes + self.failed_bytes + nbytes,
            )

    def _is_full(self, size: int) -> bool:
        return self._pending_bytes > 0 and self._pending_bytes + size > self.max_bytes

    def _make_room(self, size: int) -> None:
        if self.policy == "block":
            while self._is_full(size):
                self._cond.wait()
                self._check_open()
            return
        while self._queue and self._is_full(size):
            _, old_size = self._queue.popleft()
            self._pending_bytes -= old_size
            self._finished += 1
            self._count_drop(old_size)

    def _count_drop(self, size: int) -> None:
        self.dropped_records += 1
        self.dropped_bytes += size

    def _check_open(self) -> None:
        if self._closing:
            msg = (
                f"this BackgroundSink({type(self.sink).__name__}) is closed; it accepts no more "
                "records. Create a new sink."
            )
            raise SinkClosedError(msg)

    def _wait_flushed(self) -> None:
        """Ask the writer to flush after the records accepted so far; re-raise its error."""
        self._flush_ticket += 1
        ticket = self._flush_ticket
        self._flush_target = self._accepted
        self._cond.notify_all()
        while self._flushed_ticket < ticket:
            self._cond.wait()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._has_work():
                    self._cond.wait()
                flush_ticket = self._flush_ticket if self._flush_due() else 0
                if not flush_ticket and not self._queue:
                    return
                batch = [] if flush_ticket else self._take_batch()
            try:
                if flush_ticket:
                    self.sink.flush()
                else:
                    self._write(batch)
            except Exception as err:  # re-raised by the next flush() or close()
                self._keep_error(err)
            written_bytes, written = sum(size for _, size in batch), len(batch)
            batch.clear()  # let the records go before their bytes leave the count
            with self._cond:
                if flush_ticket:
                    self._flushed_ticket = flush_ticket
                else:
                    self._pending_bytes -= written_bytes
                    self._finished += written
                self._cond.notify_all()

    def _write(self, batch: list[tuple[Record, int]]) -> None:
        """Hand ``batch`` to the inner sink: ``write_many`` if it has one, else one by one."""
        if isinstance(self.sink, BatchSink):
            try:
                self.sink.write_many([record for record, _ in batch])
            except Exception as err:  # the whole batch is lost
                self._keep_error(err, lost=batch)
            return
        for item in batch:
            try:
                self.sink.write(item[0])
            except Exception as err:  # the other records of the batch are still written
                self._keep_error(err, lost=[item])

    def _keep_error(self, err: Exception, lost: Sequence[tuple[Record, int]] = ()) -> None:
        """Remember the first error for the next ``flush()``/``close()``, without its locals.

        ``lost`` are the records the failure lost: they are counted.
        """
        traceback.clear_frames(err.__traceback__)  # they may hold written records
        with self._cond:
            self._error = self._error or err
            self.failed_records += len(lost)
            self.failed_bytes += sum(size for _, size in lost)

    def _take_batch(self) -> list[tuple[Record, int]]:
        """Pop up to ``_BATCH_RECORDS`` queued records, oldest first."""
        return [self._queue.popleft() for _ in range(min(len(self._queue), _BATCH_RECORDS))]

    def _flush_due(self) -> bool:
        return self._flush_ticket > self._flushed_ticket and self._finished >= self._flush_target

    def _has_work(self) -> bool:
        return bool(self._queue) or self._flush_due() or self._closing


def _positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"max_bytes must be a positive int; got {value!r}. Pass e.g. 64 * 2**20."
        raise ValueError(msg)
    return value
