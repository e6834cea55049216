"""The catalog of a recording: one row per log record, as column arrays.

Rules: rows are in file order; ``offset``/``length`` locate a record's frame in its
buffer (0 for records that did not come from one); entities, message formats and
timelines are tables the rows point into by id (first-seen order). A timeline keeps the
kind of the first record that carries it. Building a row is cheap (a few dict lookups
and appends of integers), so a writer can keep a catalog as it goes; the rows of a
``RecordBatch`` are added at once (``add_batch``), with the same result as adding its
records one by one.
"""

from __future__ import annotations

import array
import operator
import struct
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from rerun_core._codec import _LOG_KINDS, Buffer, _decode_frame, _frame, _log_frame_at, _next_intact
from rerun_core._decoder import RecordDecoder
from rerun_core._messages import (
    AnnotationContextMsg,
    DepthMsg,
    ExtensionMsg,
    ImageMsg,
    Message,
    SegmentationMsg,
)
from rerun_core._record import NO_TIMELINES, Record, TimeValue
from rerun_core.errors import DecodeError

if TYPE_CHECKING:
    from rerun_core._batch import RecordBatch

__all__ = [
    "LOG_KINDS",
    "MSG_KINDS",
    "Catalog",
    "CatalogBuilder",
    "MsgFormat",
    "decode_record_at",
    "scan_catalog",
]

LOG_KINDS = frozenset(_LOG_KINDS)
"""The record kinds that hold a log record: 1 and 3 (compressed); not the index (2)."""

MSG_KINDS = ("image", "depth", "segmentation", "annotation_context", "extension")
"""The message kinds, as the ``kind`` of the record metadata names them."""

Array = np.ndarray[Any, Any]
_FIXED = 8  # integers per row in CatalogBuilder._fixed
_VALUE = operator.attrgetter("value")
_ROW = struct.Struct(f"={_FIXED}q")  # a row of CatalogBuilder._fixed, as array("q") holds it


@attrs.frozen(kw_only=True)
class MsgFormat:
    """What a message looks like without its pixels: kind, dtype, shape, colour, codec."""

    kind: str
    dtype: str | None = None
    shape: tuple[int, ...] = ()
    color_model: str | None = None
    media_type: str | None = None
    classes: int | None = None
    components: tuple[str, ...] = ()


_FormatKey = tuple[Any, ...]


def _format_key(msg: Message) -> _FormatKey:
    """Return a hashable key of the message's format, cheap to build (objects, not strings)."""
    kind = type(msg)
    if kind is ImageMsg:
        assert isinstance(msg, ImageMsg)
        pixels = msg.pixels
        if pixels is None:
            shape = (msg.height, msg.width, msg.channels)
            return ("image", None, shape, msg.color_model, msg.media_type)
        return ("image", pixels.dtype, pixels.shape, msg.color_model, None)
    if kind is DepthMsg or kind is SegmentationMsg:
        assert isinstance(msg, DepthMsg | SegmentationMsg)
        return (kind, msg.pixels.dtype, msg.pixels.shape)
    if kind is AnnotationContextMsg:
        assert isinstance(msg, AnnotationContextMsg)
        return ("annotation_context", len(msg.class_descriptions))
    assert isinstance(msg, ExtensionMsg)
    return ("extension", tuple(sorted(msg.components)))


def _format_of(key: _FormatKey) -> MsgFormat:
    kind = key[0]
    if kind == "image":
        return MsgFormat(
            kind=kind,
            dtype=None if key[1] is None else key[1].str,
            shape=key[2],
            color_model=key[3].value,
            media_type=None if key[4] is None else key[4].value,
        )
    if kind is DepthMsg or kind is SegmentationMsg:
        name = "depth" if kind is DepthMsg else "segmentation"
        return MsgFormat(kind=name, dtype=key[1].str, shape=key[2])
    if kind == "annotation_context":
        return MsgFormat(kind=kind, classes=key[1])
    return MsgFormat(kind=kind, components=key[1])


@attrs.frozen(kw_only=True, eq=False)
class Catalog:
    """Column arrays, one row per log record in file order, and the tables they point into."""

    entities: tuple[tuple[str, ...], ...]
    formats: tuple[MsgFormat, ...]
    timelines: tuple[tuple[str, str], ...]
    offset: Array
    length: Array
    entity: Array
    format: Array
    log_tick: Array
    log_time: Array
    timeless: Array
    times: tuple[Array, ...]
    has_time: tuple[Array, ...]

    def __len__(self) -> int:
        """Return the number of log records."""
        return len(self.offset)

    @property
    def kind(self) -> Array:
        """Message kind id per row: an index into :data:`MSG_KINDS`."""
        codes = np.array([MSG_KINDS.index(f.kind) for f in self.formats], np.uint8)
        return codes[self.format] if len(codes) else np.zeros(len(self), np.uint8)

    def timeline_index(self, name: str) -> int | None:
        """Position of the timeline ``name`` in :attr:`timelines`, or ``None``."""
        for index, (timeline, _) in enumerate(self.timelines):
            if timeline == name:
                return index
        return None


class CatalogBuilder:
    """Collects catalog rows as records are written or read; :meth:`build` makes the columns.

    A row is kept as plain integers (no Python object per row, so the garbage collector
    has nothing to walk): eight in ``_fixed`` (offset, length, entity id, format id,
    tick, wall clock, timeless flag, names id) and the timeline values in ``_values``,
    in the order of the row's timeline names (a table of name tuples, by id).
    """

    def __init__(self) -> None:
        """Start an empty catalog."""
        self._entities: dict[tuple[str, ...], int] = {}
        self._formats: dict[_FormatKey, int] = {}
        self._timelines: dict[str, str] = {}
        self._names: dict[tuple[str, ...], int] = {}
        self._fixed = array.array("q")
        self._values = array.array("q")
        self._names[()] = 0  # the names of NO_TIMELINES
        self._packers: dict[int, struct.Struct] = {}  # packs N timeline values
        self._last: tuple[Mapping[str, TimeValue], int, bytes] = (NO_TIMELINES, 0, b"")

    def __len__(self) -> int:
        """Return the number of rows so far."""
        return len(self._fixed) // _FIXED

    def add_batch(self, offset: int, lengths: Array, batch: RecordBatch) -> None:
        """Add the rows of ``batch``'s records, framed back to back from ``offset``."""
        entity = self._entities.setdefault(batch.entity_path, len(self._entities))
        form = self._formats.setdefault(_format_key(batch.frames.template), len(self._formats))
        count = len(batch)
        columns: dict[str, tuple[str, Array | int]] = {
            name: (time.kind, time.value) for name, time in batch.timepoint.items()
        }
        columns.update(batch.columns)  # the order of the records' timepoints
        key = tuple(columns)
        names = self._names.get(key)
        if names is None:
            names = self._names[key] = len(self._names)
            for name, (kind, _) in columns.items():
                self._timelines.setdefault(name, kind)
        rows = np.empty((count, _FIXED), np.int64)
        rows[:, 1] = lengths
        rows[:, 0] = offset + np.cumsum(lengths) - lengths
        rows[:, 2:4] = entity, form
        rows[:, 4] = np.arange(batch.first_tick, batch.first_tick + count)
        rows[:, 5] = batch.log_time_ns
        rows[:, 6:8] = 0, names  # never timeless
        self._fixed.frombytes(rows.tobytes())
        if key:
            values = np.empty((count, len(key)), np.int64)
            for slot, (_, value) in enumerate(columns.values()):
                values[:, slot] = value
            self._values.frombytes(values.tobytes())

    def add(self, offset: int, length: int, record: Record) -> None:
        """Add the row of ``record``, framed at ``offset`` with ``length`` bytes."""
        entity = self._entities.get(record.entity_path)
        if entity is None:
            entity = self._entities[record.entity_path] = len(self._entities)
        msg = record.msg
        pixels = msg.pixels if type(msg) is ImageMsg else None
        if pixels is not None:  # the hot path: _format_key's key of a raw image, inline
            key: _FormatKey = ("image", pixels.dtype, pixels.shape, msg.color_model, None)  # type: ignore[union-attr]
        else:
            key = _format_key(msg)
        form = self._formats.get(key)
        if form is None:
            form = self._formats[key] = len(self._formats)
        timepoint = record.timepoint
        last = self._last
        if timepoint is last[0]:  # records of one frame share their timepoint
            names, values = last[1], last[2]
        else:
            names, values = self._timepoint(timepoint)
        tick, when, timeless = record.log_tick, record.log_time_ns, record.timeless
        self._fixed.frombytes(_ROW.pack(offset, length, entity, form, tick, when, timeless, names))
        if values:
            self._values.frombytes(values)

    def _timepoint(self, timepoint: Mapping[str, TimeValue]) -> tuple[int, bytes]:
        """Return the id of the timepoint's names and its values (packed); note new timelines."""
        key = tuple(timepoint)
        names = self._names.get(key)
        if names is None:
            names = self._names[key] = len(self._names)
            for name, time in timepoint.items():
                if name not in self._timelines:
                    self._timelines[name] = time.kind
        packer = self._packers.get(len(key))
        if packer is None:
            packer = self._packers[len(key)] = struct.Struct(f"={len(key)}q")
        values = packer.pack(*map(_VALUE, timepoint.values()))
        self._last = (timepoint, names, values)
        return names, values

    def build(self) -> Catalog:
        """Return the catalog of every row added so far."""
        fixed = np.array(self._fixed, np.int64).reshape(-1, _FIXED)
        rows = len(fixed)
        timelines = list(self._timelines)
        position = {name: index for index, name in enumerate(timelines)}
        times = np.zeros((len(timelines), rows), np.int64)
        has_time = np.zeros((len(timelines), rows), np.bool_)
        keys = list(self._names)
        names = fixed[:, 7]
        counts = np.array([len(key) for key in keys], np.int64)[names] if keys else names
        starts = np.cumsum(counts) - counts
        values = np.array(self._values, np.int64)
        for index, key in enumerate(keys):
            where = np.flatnonzero(names == index)
            for slot, name in enumerate(key):
                times[position[name], where] = values[starts[where] + slot]
                has_time[position[name], where] = True
        return Catalog(
            entities=tuple(self._entities),
            formats=tuple(_format_of(key) for key in self._formats),
            timelines=tuple(self._timelines.items()),
            offset=fixed[:, 0].astype(np.uint64),
            length=fixed[:, 1].astype(np.uint64),
            entity=fixed[:, 2].astype(np.uint32),
            format=fixed[:, 3].astype(np.uint32),
            log_tick=fixed[:, 4].astype(np.uint64),
            log_time=fixed[:, 5].copy(),
            timeless=fixed[:, 6].astype(np.bool_),
            times=tuple(times),
            has_time=tuple(has_time),
        )


def _intact_records(buf: Buffer) -> Iterator[tuple[int, int, Record]]:
    """Yield ``(offset, length, record)`` for every intact log record, skipping damage."""
    view = memoryview(buf).cast("B")
    decoder = RecordDecoder()
    offset = 0
    while offset < len(view):
        try:
            span = _frame(view, offset)
            record = decoder._decode_frame(view, span) if span.kind in LOG_KINDS else None
        except DecodeError:
            offset = _next_intact(view, offset + 1)
            continue
        if record is not None:
            yield span.offset, span.length, record
        offset += span.length


def decode_record_at(buf: Buffer, offset: int) -> Record:
    """Decode the log record framed at ``offset`` (its CRCs checked); damage raises."""
    return _decode_frame(*_log_frame_at(buf, offset))


def scan_catalog(buf: Buffer) -> Catalog:
    """Catalog every intact log record of a stream by reading it front to back.

    Damaged regions are skipped as ``scan_records`` skips them, so a torn tail leaves
    the complete records before it.
    """
    builder = CatalogBuilder()
    for offset, length, record in _intact_records(buf):
        builder.add(offset, length, record)
    return builder.build()
