"""``RecordingEngine``: stamps messages with time and hands them to one sink.

The engine knows sinks only through the ``Sink`` protocol (and the optional
``CountsDrops``); choosing a sink by file name and the process-wide recordings belong to
the facade (``_api.RecordingStream``, ``_state``).

Rules:
- messages are built by ``rerun_core`` builders (all validation happens there); bad user
  data raises the core's error when ``strict``, else the whole message is dropped,
  counted in ``stats.dropped`` and warned about once per call site;
- every record gets the calling thread's timelines (none when ``timeless``), the next
  ``log_tick`` (timeless records included) and ``log_time_ns`` from the clock;
- records are stamped (tick, clock) and handed to the sink under the recording's lock
  (several at once with ``write_many`` when the sink is a ``BatchSink``), so records
  are never lost, duplicated or interleaved, ticks follow the sink's order, and a log
  call returns once its record reached the sink; a sink with ``write_ordered``
  (``FileSink``) takes the record's place under the lock and writes its bytes after
  the lock is released, so threads' writes overlap (a hand-off to one writer thread
  was measured slower: benchmarks/README.md);
- a sink error propagates to the call whose records it failed; those records are not
  counted, and their ticks are not used, except after ``write_ordered`` (the tick
  was taken; the record is not counted);
- ``send_columns`` validates a batch of frames once (``rerun_core.make_column_frames``)
  and writes one ordinary record per frame, with consecutive ticks, each at the
  thread's timelines updated with that frame's ``times`` and its own clock reading;
  all or nothing; frames of one layout go to a ``RecordBatchSink`` as one
  ``RecordBatch`` (no ``Record`` objects), to other sinks as its records;
- a sink whose ``copies_on_write`` is True (``MemorySink``, ``McapSink``, an unbuffered
  ``FileSink``) gets large frames built with ``borrow=True``: no copy before the one
  into the file or memory; other sinks and the backlog get immutable copies;
- without a sink, records wait in a backlog; the first sink gets the backlog first;
  a replaced sink is closed;
"""

from __future__ import annotations

import errno
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence, Sized
from typing import Any

import attrs
import numpy as np

from rerun_core import (
    ColorModel,
    ColumnFrames,
    ImageFormat,
    ImageMsg,
    Message,
    Record,
    RecordBatch,
    RerunCoreError,
    TimeValue,
    make_annotation_context_msg,
    make_column_frames,
    make_depth_msg,
    make_encoded_image_msg,
    make_extension_msg,
    make_image_msg,
    make_segmentation_msg,
    parse_entity_path,
)
from rerun_core.unchecked import (
    NO_TIMELINES,
    TimeKind,
    column_timepoints,
    stamp_record,
)
from rerun_sinks._sinks import (
    BatchSink,
    RecordBatchSink,
    Sink,
    check_sink,
    copies_on_write,
    drop_counts,
    record_nbytes,
)
from rerun_sinks._time import (
    Int64s,
    ThreadTime,
    check_timeline,
    column_times,
    nanos_from_seconds,
    to_int64,
)
from rerun_sinks._warn import warn_once_per_site

__all__ = ["Clock", "PathLike", "RecordingEngine", "RecordingStats", "check_image_source"]

Clock = Callable[[], int]
PathLike = str | os.PathLike[str]


@attrs.frozen
class RecordingStats:
    """Counters of a recording: messages logged and dropped, bytes logged, sink drops.

    ``dropped`` counts bad data dropped in lenient mode; ``sink_dropped_*`` count records a
    sink dropped (a full ``BackgroundSink``) or lost because it failed (a disk full).
    """

    logged: int = 0
    dropped: int = 0
    bytes: int = 0
    sink_dropped_records: int = 0
    sink_dropped_bytes: int = 0


_PATH_CACHE_SIZE = 4096


class RecordingEngine:
    """A recording: per-thread time, a tick counter, counters and one sink (or a backlog)."""

    def __init__(
        self,
        application_id: str,
        *,
        recording_id: str | None = None,
        enabled: bool = True,
        strict: bool = False,
        sink: Sink | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Create a recording (``new_recording`` also applies the legacy defaults)."""
        _check_options(application_id, recording_id, enabled, strict, clock)
        self._application_id = application_id
        self._recording_id = recording_id or str(uuid.uuid4())
        self._enabled = enabled
        self._strict = strict
        self._clock: Clock = time.time_ns if clock is None else clock
        self._lock = threading.Lock()
        self._time = ThreadTime()
        self._sink: Sink | None = None
        self._ordered: Callable[[Record], Callable[[], None]] | None = None  # its write_ordered
        self._borrow = False  # the sink copies a record before its write returns
        self._backlog: list[Record] = []
        self._paths: dict[str, tuple[str, ...]] = {}  # entity path strings already parsed
        self._tick = 0
        self._logged = self._dropped = self._bytes = 0
        self._retired_drops = (0, 0)
        if sink is not None:
            self.set_sink(sink)

    def __repr__(self) -> str:
        """Show the ids, the mode and the sink."""
        sink = type(self._sink).__name__ if self._sink is not None else None
        return (
            f"{type(self).__name__}(application_id={self._application_id!r}, "
            f"recording_id={self._recording_id!r}, strict={self._strict}, sink={sink})"
        )

    @property
    def application_id(self) -> str:
        """The application id given at creation."""
        return self._application_id

    @property
    def recording_id(self) -> str:
        """The recording id (given, or derived like legacy Rerun by ``new_recording``)."""
        return self._recording_id

    @property
    def strict(self) -> bool:
        """True if bad data raises; False if it is dropped with a warning."""
        return self._strict

    @property
    def stats(self) -> RecordingStats:
        """A snapshot of the counters, including the drops of any ``BackgroundSink``."""
        with self._lock:
            records, nbytes = drop_counts(self._sink)
            return RecordingStats(
                logged=self._logged,
                dropped=self._dropped,
                bytes=self._bytes,
                sink_dropped_records=self._retired_drops[0] + records,
                sink_dropped_bytes=self._retired_drops[1] + nbytes,
            )

    def is_enabled(self) -> bool:
        """Return False if the recording was created disabled (its log calls do nothing)."""
        return self._enabled

    def log(
        self, entity_path: str | Sequence[str], msg: Message, *, timeless: bool = False
    ) -> None:
        """Log an already built message (from a ``rerun_core.make_*_msg``) at ``entity_path``."""
        if not isinstance(msg, Message):
            text = (
                f"log() needs a message built by a rerun_core.make_*_msg function; got "
                f"{type(msg).__name__}. Use e.g. rec.log('cam', make_image_msg(array))."
            )
            raise TypeError(text)
        self._log("log", entity_path, lambda _: msg, timeless)

    def log_image(
        self,
        entity_path: str,
        image: Any,
        *,
        draw_order: float | None = None,
        ext: dict[str, Any] | None = None,
        timeless: bool = False,
        jpeg_quality: int | None = None,
        color_model: ColorModel | str | None = None,
        layout: str = "HWC",
    ) -> None:
        """Log a gray or colour image (optionally as JPEG); ``layout="CHW"``: channels first."""
        self._log(
            "log_image",
            entity_path,
            lambda borrow: make_image_msg(
                image,
                color_model=color_model,
                draw_order=draw_order,
                ext=ext,
                jpeg_quality=jpeg_quality,
                layout=layout,
                borrow=borrow,
            ),
            timeless,
        )

    def log_image_file(
        self,
        entity_path: str,
        *,
        img_bytes: bytes | None = None,
        img_path: PathLike | None = None,
        img_format: ImageFormat | str | None = None,
        timeless: bool = False,
    ) -> None:
        """Log JPEG or PNG bytes, given directly or read from ``img_path``."""
        check_image_source(img_bytes, img_path)
        self._log(
            "log_image_file",
            entity_path,
            lambda _: _encoded_image_msg(img_bytes, img_path, img_format),
            timeless,
        )

    def log_depth_image(
        self,
        entity_path: str,
        image: Any,
        *,
        draw_order: float | None = None,
        meter: float | None = None,
        ext: dict[str, Any] | None = None,
        timeless: bool = False,
    ) -> None:
        """Log a depth image; ``meter`` is how many units make one metre."""
        self._log(
            "log_depth_image",
            entity_path,
            lambda borrow: make_depth_msg(
                image, meter=meter, draw_order=draw_order, ext=ext, borrow=borrow
            ),
            timeless,
        )

    def log_segmentation_image(
        self,
        entity_path: str,
        image: Any,
        *,
        draw_order: float | None = None,
        ext: dict[str, Any] | None = None,
        timeless: bool = False,
    ) -> None:
        """Log an image of class ids."""
        self._log(
            "log_segmentation_image",
            entity_path,
            lambda borrow: make_segmentation_msg(
                image, draw_order=draw_order, ext=ext, borrow=borrow
            ),
            timeless,
        )

    def log_annotation_context(
        self, entity_path: str, class_descriptions: Any, *, timeless: bool = True
    ) -> None:
        """Log class labels and colours (timeless by default, like legacy Rerun)."""
        self._log(
            "log_annotation_context",
            entity_path,
            lambda _: make_annotation_context_msg(class_descriptions),
            timeless,
        )

    def log_extension_components(
        self,
        entity_path: str,
        ext: Mapping[str, Any],
        *,
        identifiers: Sequence[int] | None = None,
        timeless: bool = False,
    ) -> None:
        """Log user components on their own, optionally one value per identifier."""
        self._log(
            "log_extension_components",
            entity_path,
            lambda _: make_extension_msg(ext, identifiers=identifiers),
            timeless,
        )

    def _log(
        self, func: str, entity_path: object, build: Callable[[bool], Message], timeless: object
    ) -> None:
        """Build the message (``build``: a closure, cheaper than a partial), stamp, write.

        ``build(borrow)``: with ``borrow`` True (the sink copies a record before its write
        returns) large pixels may stay views of the caller's arrays; were the sink replaced
        meanwhile by one that keeps records, the message is copied before it goes there.
        """
        if not isinstance(timeless, bool):
            msg = f"{func}(timeless=...) must be True or False; got {timeless!r}."
            raise TypeError(msg)
        if not self._enabled:
            return
        try:
            path = self._paths.get(entity_path) if type(entity_path) is str else None
            if path is None:
                path = self._entity_path(entity_path)
            borrow = self._borrow
            message = build(borrow)
        except (RerunCoreError, OSError) as err:
            if self._strict:
                raise
            with self._lock:
                self._dropped += 1
            warn_once_per_site(
                f"rerun_sinks.{func}() dropped the message: {err} (lenient mode warns once "
                "per call site; pass strict=True to init()/new_recording() to raise instead)"
            )
            return
        timepoint = NO_TIMELINES if timeless else self._time.timepoint
        finish = None
        with self._lock:
            if borrow and not self._borrow:  # the sink changed: keep no caller memory
                message = attrs.evolve(message)  # its converters copy the pixels
            record = stamp_record(
                path,
                message,
                timepoint,
                timeless=timeless,
                log_tick=self._tick,
                log_time_ns=self._clock(),
            )
            sink = self._sink
            if sink is None:
                self._backlog.append(record)
            elif self._ordered is not None:
                finish = self._ordered(record)  # its place in the sink now, its bytes below
            else:
                sink.write(record)  # a sink error is not bad data: it propagates
            self._tick += 1
            self._logged += 1
            self._bytes += record_nbytes(record)
        if finish is not None:
            try:
                finish()  # outside the lock: other threads' writes go at the same time
            except BaseException:
                with self._lock:
                    self._logged -= 1
                    self._bytes -= record_nbytes(record)
                raise

    def send_columns(
        self,
        entity_path: str,
        frames: Any,
        *,
        times: Mapping[str, Any],
        kind: str = "image",
        **options: Any,
    ) -> None:
        """Log N frames at once: one record per frame, at that frame's ``times``.

        ``frames`` is an N x H x W (x C) array or a sequence of N frames; ``times`` maps
        each timeline to N values (ints: sequence; float seconds, ``np.datetime64``,
        ``np.timedelta64``: time); ``kind`` is ``"image"``, ``"depth"`` or
        ``"segmentation"`` and ``options`` that builder's keyword arguments (images:
        ``layout="CHW"`` for an N x C x H x W batch, e.g. a torch tensor). The batch is
        validated once and written whole, or not at all.
        """
        columns = column_times(times)
        if not self._enabled:
            return
        try:
            path = self._entity_path(entity_path)
            checked = make_column_frames(frames, kind=kind, **options)
        except RerunCoreError as err:
            if self._strict:
                raise
            count = _frame_count(frames)
            with self._lock:
                self._dropped += count
            warn_once_per_site(
                f"rerun_sinks.send_columns() dropped the whole batch of {count} frames: {err} "
                "(lenient mode warns once per call site; pass strict=True to "
                "init()/new_recording() to raise instead)"
            )
            return
        _check_column_lengths(columns, len(checked))
        if not len(checked):
            return
        timepoint = self._time.timepoint
        if isinstance(checked, ColumnFrames):
            self._write_batch(path, checked, timepoint, columns)
        else:
            self._write_stamped(path, checked, column_timepoints(timepoint, columns, len(checked)))

    def _write_batch(
        self,
        path: tuple[str, ...],
        frames: ColumnFrames,
        timepoint: Mapping[str, TimeValue],
        columns: dict[str, tuple[TimeKind, Int64s]],
    ) -> None:
        """Stamp the frames with consecutive ticks and hand them over as one ``RecordBatch``.

        A ``RecordBatchSink`` takes the batch; other sinks (and the backlog) its records.
        """
        count, clock = len(frames), self._clock
        with self._lock:
            first = self._tick
            last = stamp_record(  # checks the last tick like a per-frame call would
                path,
                frames.template,
                timepoint,
                timeless=False,
                log_tick=first + count - 1,
                log_time_ns=0,
            )
            clocks = _readings([clock() for _ in range(count)], last)
            batch = RecordBatch(path, frames, timepoint, columns, first, clocks)
            if self._sink is None:
                self._backlog.extend(batch.records())
            elif isinstance(self._sink, RecordBatchSink):
                self._sink.write_batch(batch)
            else:
                _write(self._sink, batch.records())
            self._tick += count
            self._logged += count
            self._bytes += count * record_nbytes(last)

    def _write_stamped(
        self,
        path: tuple[str, ...],
        messages: Sequence[Message],
        timepoints: Sequence[Mapping[str, TimeValue]],
    ) -> None:
        """Stamp ``messages`` with consecutive ticks and write them in one go."""
        clock = self._clock
        with self._lock:
            first = self._tick
            records = [
                stamp_record(
                    path, message, timepoint, timeless=False, log_tick=tick, log_time_ns=clock()
                )
                for tick, message, timepoint in zip(
                    range(first, first + len(messages)), messages, timepoints, strict=True
                )
            ]
            if self._sink is None:
                self._backlog.extend(records)
            else:
                _write(self._sink, records)
            self._tick += len(records)
            self._count(records)

    def _count(self, records: Sequence[Record]) -> None:
        self._logged += len(records)
        self._bytes += sum(record_nbytes(record) for record in records)

    def _entity_path(self, entity_path: object) -> tuple[str, ...]:
        """Parse ``entity_path``, remembering up to ``_PATH_CACHE_SIZE`` strings."""
        if type(entity_path) is not str:
            return parse_entity_path(entity_path)
        path = self._paths.get(entity_path)
        if path is None:
            path = parse_entity_path(entity_path)
            if len(self._paths) < _PATH_CACHE_SIZE:
                self._paths[entity_path] = path
        return path

    def set_time_sequence(self, timeline: str, sequence: int | None) -> None:
        """Set (or with ``None`` remove) this thread's sequence ``timeline``."""
        self._time.set(check_timeline(timeline), "sequence", to_int64(sequence, param="sequence"))

    def set_time_seconds(self, timeline: str, seconds: float | None) -> None:
        """Set (or with ``None`` remove) this thread's time ``timeline``, in seconds."""
        self._time.set(check_timeline(timeline), "time", nanos_from_seconds(seconds))

    def set_time_nanos(self, timeline: str, nanos: int | None) -> None:
        """Set (or with ``None`` remove) this thread's time ``timeline``, in nanoseconds."""
        self._time.set(check_timeline(timeline), "time", to_int64(nanos, param="nanos"))

    def reset_time(self) -> None:
        """Remove every timeline of this thread."""
        self._time.clear()

    def set_sink(self, sink: Sink) -> None:
        """Send records to ``sink`` from now on, backlog first; close the previous sink."""
        new = check_sink(sink)
        ordered = getattr(new, "write_ordered", None)
        with self._lock:
            old, self._sink = self._sink, new
            self._ordered = ordered if callable(ordered) else None
            self._borrow = copies_on_write(new)
            backlog, self._backlog = self._backlog, []
            if backlog:
                _write(new, backlog)
        self._retire(old)

    def flush(self) -> None:
        """Return once every record logged so far reached its sink (and was made durable)."""
        with self._lock:
            if self._sink is not None:
                self._sink.flush()

    def disconnect(self) -> None:
        """Close the current sink and go back to keeping records in a backlog."""
        with self._lock:
            old, self._sink, self._ordered = self._sink, None, None
            self._borrow = False
        self._retire(old)

    def _retire(self, sink: Sink | None) -> None:
        if sink is None:
            return
        sink.close()
        records, nbytes = drop_counts(sink)
        with self._lock:
            self._retired_drops = (
                self._retired_drops[0] + records,
                self._retired_drops[1] + nbytes,
            )


def _write(sink: Sink, records: list[Record]) -> None:
    """Hand ``records`` to ``sink`` in order: ``write_many`` for several when it has one."""
    if len(records) == 1:
        sink.write(records[0])
    elif isinstance(sink, BatchSink):
        sink.write_many(records)
    else:
        for record in records:
            sink.write(record)


def _readings(readings: list[Any], record: Record) -> Int64s:
    """Return the clock's readings as int64, checked as ``stamp_record`` checks one."""
    if set(map(type, readings)) <= {int}:
        try:
            return np.array(readings, np.int64)
        except OverflowError:
            pass  # the check below names the reading
    return np.array([attrs.evolve(record, log_time_ns=t).log_time_ns for t in readings], np.int64)


def _check_column_lengths(columns: Mapping[str, tuple[TimeKind, Int64s]], count: int) -> None:
    for name, (_, values) in columns.items():
        if len(values) != count:
            msg = (
                f"send_columns(times=...) needs one value per frame: times[{name!r}] has "
                f"{len(values)} values for {count} frames."
            )
            raise ValueError(msg)


def _frame_count(frames: object) -> int:
    """How many frames a (bad) batch held, for the drop counter: at least one."""
    try:
        return max(1, len(frames)) if isinstance(frames, Sized) else 1
    except TypeError:  # a 0-d array
        return 1


def check_image_source(img_bytes: object, img_path: object) -> None:
    """Raise ``TypeError`` unless exactly one of ``img_bytes`` and ``img_path`` is given.

    ``img_path`` must be a ``str`` or ``os.PathLike`` (an int is never a file descriptor).
    """
    if (img_bytes is None) == (img_path is None):
        given = "both" if img_bytes is not None else "neither"
        msg = (
            f"log_image_file needs exactly one of img_bytes= and img_path=; got {given}. "
            "Pass img_path='photo.jpg' or img_bytes=open('photo.jpg', 'rb').read()."
        )
        raise TypeError(msg)
    if img_path is not None and not isinstance(img_path, str | os.PathLike):
        msg = (
            f"log_image_file(img_path=...) must be a str or os.PathLike such as 'photo.jpg'; "
            f"got {type(img_path).__name__} {img_path!r:.40}. Pass file contents as img_bytes=."
        )
        raise TypeError(msg)


def _encoded_image_msg(
    img_bytes: Any, img_path: PathLike | None, img_format: ImageFormat | str | None
) -> ImageMsg:
    """Read ``img_path`` (here, in the sink layer) or take ``img_bytes``; build the message.

    A path no file can have (a NUL byte) raises ``OSError`` like a missing file.
    """
    if img_path is not None:
        if "\x00" in os.fsdecode(img_path):
            msg = "file name contains a NUL byte, which no file name can"
            raise OSError(errno.EINVAL, msg, img_path)
        with open(img_path, "rb") as file:
            img_bytes = file.read()
    return make_encoded_image_msg(img_bytes, media_type=img_format)


def _check_options(
    application_id: object,
    recording_id: object,
    enabled: object,
    strict: object,
    clock: object,
) -> None:
    if not isinstance(application_id, str) or not application_id:
        msg = f"application_id must be a non-empty str such as 'my_app'; got {application_id!r}."
        raise TypeError(msg)
    if recording_id is not None and not isinstance(recording_id, str):
        msg = f"recording_id must be a str or None; got {type(recording_id).__name__}."
        raise TypeError(msg)
    for name, flag in (("enabled", enabled), ("strict", strict)):
        if not isinstance(flag, bool):
            msg = f"{name} must be True or False; got {flag!r}."
            raise TypeError(msg)
    if clock is not None and not callable(clock):
        msg = f"clock must be a function returning int nanoseconds; got {clock!r}."
        raise TypeError(msg)
