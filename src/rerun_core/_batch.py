"""``RecordBatch``: N ordinary records of one layout, stamped and encoded together.

Rules:
- a batch is what ``send_columns`` logs: ``frames`` (a template message and an N-frame
  pixel block, see ``ColumnFrames``) at one entity path, the timelines every record
  shares (``timepoint``), per-record timelines (``columns``: name -> kind and N int64
  values; a column replaces a shared timeline of its name), the ticks ``first_tick``,
  ``first_tick + 1``, ... and one wall-clock reading per record (``log_time_ns``);
- record ``i`` is ``stamp_record`` of frame ``i``'s message at its timepoint; ``records()``
  builds them (the pixels copied once into immutable memory, or views of given frames);
- ``encode()`` gives buffers whose concatenation is ``encode_record`` of every record,
  in order (a property test compares them), without building the records: the message
  metadata and the framing are encoded once per layout; the integers that vary (tick,
  timeline values, clock) are encoded by ``cbor2`` for each run of consecutive records
  whose integers have the same encoded lengths; each record's CRC is computed when its
  chunk of buffers is handed out (``EncodedBatch.chunks``). The pixel buffers are views
  of the block: a caller that keeps them must copy them;
- the block is read twice (CRC, then by whoever consumes the buffers); a block changed
  in between gives records whose CRC fails, never a silently different frame;
- pure, and trusted: a batch holds parts the core already checked (the recording
  builds it from ``make_column_frames`` and checked times).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from types import MappingProxyType
from typing import Any

import attrs
import cbor2
import numpy as np
from zlib_ng.zlib_ng import crc32

from rerun_core._codec import (
    _CRC,
    FORMAT_MAJOR,
    FORMAT_MINOR,
    KIND_RECORD,
    MAGIC,
    PayloadLayout,
    _pad,
)
from rerun_core._columns import ColumnFrames, with_pixels
from rerun_core._messages import Message
from rerun_core._record import Record, TimeKind, TimeValue, new_time_value, stamp_record
from rerun_core._wire import CONVERTER, _msg_meta

__all__ = ["EncodedBatch", "RecordBatch"]

Part = bytes | memoryview | np.ndarray[Any, Any]  # buffers: anything with the buffer protocol
Array = np.ndarray[Any, Any]
_PREFIX = struct.Struct("<4sBBHIQ")  # the record header without its CRC
_KEYS = {name: cbor2.dumps(name) for name in ("msg", "log_tick", "timepoint", "entity_path")}
_CLOCK_KEY = cbor2.dumps("log_time_ns")
_TICK, _CLOCK = 0, 1  # the first two integer slots; timeline columns follow

_CHUNK_BYTES = 4 << 20  # pixels per chunk: they stay in the CPU cache from CRC to write
_CHUNK_RECORDS = 400  # at most 801 buffers per chunk: one os.writev takes 1024


class EncodedBatch:
    """The bytes of a batch's N records, as buffers, and where each record is.

    ``lengths[i]`` is record ``i``'s byte length and ``pixel_offsets[i]`` where its pixels
    start in the stream of the N records. ``chunks()`` gives the buffers a few records at
    a time, each record's CRC computed just before (its pixels are then still in the CPU
    cache when the buffers are written or copied); ``parts`` gives them all. The buffers
    are ``bytes``-like (the buffer protocol: numpy rows, memoryviews).
    """

    __slots__ = (
        "_after",
        "_crc_at",
        "_frames",
        "_glue",
        "_heads",
        "_meta",
        "lengths",
        "pixel_offsets",
    )

    def __init__(
        self, meta: Array, rows: list[tuple[Array, int]], pixels: Array, after: bytes
    ) -> None:
        """Wrap the encoder's buffer: per run, its rows (previous tail, head) and head length.

        ``meta`` ends with the last record's tail; every record's CRC goes at the end of
        the tail that follows its pixels.
        """
        tail = len(after) + _CRC.size
        runs = [np.full(len(run), head, np.int64) for run, head in rows]
        head_lens = np.concatenate(runs) if runs else np.zeros(0, np.int64)
        frame = pixels.nbytes // len(pixels) if len(pixels) else 0
        self.lengths: Array = head_lens + (frame + tail)
        self.pixel_offsets: Array = np.cumsum(self.lengths) - self.lengths + head_lens
        row_ends = np.cumsum(head_lens + tail)
        self._crc_at: Array = (row_ends + tail - _CRC.size)[:, None] + np.arange(_CRC.size)
        self._glue: list[Array] = [row for run, _ in rows for row in run]  # tail, then head
        self._heads: list[Array] = [head for run, _ in rows for head in run[:, tail:]]
        self._glue[:1] = self._heads[:1]  # the first record follows no tail
        self._frames: list[Array] = list(
            pixels.reshape(len(pixels), frame // pixels.itemsize).view(np.uint8)
        )
        self._meta, self._after = meta, after

    @property
    def nbytes(self) -> int:
        """Return the length of the N records."""
        return int(self.lengths.sum())

    @property
    def parts(self) -> list[Part]:
        """Return every buffer, in order (their concatenation is the N records)."""
        return [part for parts, _ in self.chunks(len(self.lengths)) for part in parts]

    def chunks(self, records: int = 0) -> Iterator[tuple[list[Part], int]]:
        """Yield the buffers of ``records`` records at a time (0: about 4 MiB), and their size.

        The chunks must be taken in order (each one writes the CRCs its records need).
        """
        count, after, meta = len(self.lengths), self._after, self._meta
        frame = self._frames[0].nbytes if self._frames else 0
        step = records or max(1, min(_CHUNK_BYTES // max(frame, 1), _CHUNK_RECORDS))
        for start in range(0, count, step):
            stop = min(start + step, count)
            frames, heads = self._frames[start:stop], self._heads[start:stop]
            crcs = list(map(crc32, repeat(after), map(crc32, frames, map(crc32, heads))))
            meta[self._crc_at[start:stop]] = np.array(crcs, "<u4").view(np.uint8).reshape(-1, 4)
            glue = self._glue[start:stop]
            parts: list[Part] = [*glue, *frames]
            parts[0::2], parts[1::2] = glue, frames
            size = sum(map(len, glue)) + len(frames) * frame
            if stop == count:
                parts.append(meta[-len(after) - _CRC.size :])
                size += len(after) + _CRC.size
            yield parts, size


@attrs.frozen(eq=False)
class RecordBatch:
    """N records of one message layout, as columns (see the module rules)."""

    entity_path: tuple[str, ...]
    frames: ColumnFrames
    timepoint: Mapping[str, TimeValue]
    columns: Mapping[str, tuple[TimeKind, Array]]
    first_tick: int
    log_time_ns: Array

    def __len__(self) -> int:
        """Return the number of records."""
        return len(self.frames)

    def records(self, pixels: Sequence[Array] | None = None) -> list[Record]:
        """Return the N records; their pixels are ``pixels`` (N immutable frames) if given.

        Without ``pixels`` the block is copied once into immutable memory.
        """
        template = self.frames.template
        if pixels is None:
            messages: Sequence[Message] = self.frames.messages()
        else:
            messages = [with_pixels(template, frame) for frame in pixels]
        path, first = self.entity_path, self.first_tick
        return [
            stamp_record(
                path,
                messages[index],
                timepoint,
                timeless=False,
                log_tick=first + index,
                log_time_ns=clock,
            )
            for index, (timepoint, clock) in enumerate(
                zip(self._timepoints(), self.log_time_ns.tolist(), strict=True)
            )
        ]

    def _timepoints(self) -> list[Mapping[str, TimeValue]]:
        return column_timepoints(self.timepoint, self.columns, len(self))

    def encode(self) -> EncodedBatch:
        """Return the bytes of the N records (see the module rules)."""
        return _BatchEncoder(self).encode()


class _Run:
    """One run's record layout: a row (head, then the bytes after the pixels) and slots."""

    __slots__ = ("head_len", "row", "slots")

    def __init__(self, row: bytes, head_len: int, slots: list[tuple[int, int, int]]) -> None:
        self.row = np.frombuffer(row, np.uint8)
        self.head_len = head_len
        self.slots = slots  # (integer slot, offset in the row, encoded width)


class _BatchEncoder:
    """Encodes one batch: the per-layout parts once, then the runs and the CRCs."""

    def __init__(self, batch: RecordBatch) -> None:
        self.batch = batch
        count = len(batch)
        self.msg, self.payload_len, self.after = _message_layout(batch.frames.template)
        shared = {n: t for n, t in batch.timepoint.items() if n not in batch.columns}
        self.names = sorted({*shared, *batch.columns})
        self.shared = shared
        column_names = [name for name in self.names if name in batch.columns]
        self.slot_of = {name: 2 + index for index, name in enumerate(column_names)}
        ticks = np.arange(batch.first_tick, batch.first_tick + count, dtype=np.int64)
        self.values: list[Array] = [
            ticks,
            batch.log_time_ns.astype(np.int64, copy=False),
            *(batch.columns[name][1].astype(np.int64, copy=False) for name in column_names),
        ]
        widths = np.stack([_cbor_widths(values) for values in self.values])
        widths[_TICK][ticks == 0] = 0  # a zero tick or clock is omitted from the record
        widths[_CLOCK][self.values[_CLOCK] == 0] = 0
        self.widths = widths

    def encode(self) -> EncodedBatch:
        batch, widths = self.batch, self.widths
        count = len(batch)
        changes = (np.flatnonzero((widths[:, 1:] != widths[:, :-1]).any(axis=0)) + 1).tolist()
        layouts: dict[tuple[int, ...], _Run] = {}
        runs: list[tuple[int, int, _Run]] = []
        for start, stop in zip([0, *changes], [*changes, count], strict=True):
            if start == stop:  # no records
                break
            key = tuple(widths[:, start].tolist())
            layout = layouts.get(key)
            if layout is None:
                layout = layouts[key] = self._run_layout(key)
            runs.append((start, stop, layout))
        tail = len(self.after) + _CRC.size
        meta = np.empty(sum((b - a) * r.row.size for a, b, r in runs) + tail, np.uint8)
        rows: list[tuple[Array, int]] = []
        position = 0
        for start, stop, layout in runs:
            run = meta[position : position + (stop - start) * layout.row.size]
            run = run.reshape(stop - start, layout.row.size)
            run[:] = layout.row
            for slot, offset, width in layout.slots:
                run[:, offset : offset + width] = _encoded(self.values[slot][start:stop], width)
            rows.append((run, layout.head_len))
            position += run.size
        meta[position:] = np.frombuffer(self.after + bytes(_CRC.size), np.uint8)
        return EncodedBatch(meta, rows, batch.frames.pixels, self.after)

    def _run_layout(self, widths: tuple[int, ...]) -> _Run:
        """Build the row of records whose integers have encoded ``widths`` (0: omitted)."""
        pieces: list[bytes | int] = [_KEYS["msg"], self.msg]  # int: an integer slot
        if widths[_TICK]:
            pieces += [_KEYS["log_tick"], _TICK]
        if self.names:
            pieces += [_KEYS["timepoint"], _array_header(len(self.names))]
            for name in self.names:
                slot = self.slot_of.get(name)
                if slot is None:
                    time = self.shared[name]
                    pieces.append(_timeline(time.kind, time.value, name))
                else:
                    prefix, suffix = _timeline_around(self.batch.columns[name][0], name)
                    pieces += [prefix, slot, suffix]
        pieces += [_KEYS["entity_path"], cbor2.dumps(self.batch.entity_path)]
        if widths[_CLOCK]:
            pieces += [_CLOCK_KEY, _CLOCK]
        fields = 2 + bool(widths[_TICK]) + bool(self.names) + bool(widths[_CLOCK])
        pieces.insert(0, _map_header(fields))
        meta = bytearray()
        slots: list[tuple[int, int, int]] = []
        for piece in pieces:
            if isinstance(piece, int):
                slots.append((piece, _PREFIX.size + _CRC.size + len(meta), widths[piece]))
                meta += bytes(widths[piece])
            else:
                meta += piece
        header = _PREFIX.pack(
            MAGIC, FORMAT_MAJOR, FORMAT_MINOR, KIND_RECORD, len(meta), self.payload_len
        )
        head = header + _CRC.pack(crc32(header)) + meta
        head += bytes(_pad(len(head)))
        tail = self.after + bytes(_CRC.size)  # the previous record's tail comes first
        moved = [(slot, len(tail) + offset, width) for slot, offset, width in slots]
        return _Run(tail + head, len(head), moved)


def _message_layout(template: Any) -> tuple[bytes, int, bytes]:
    """Return the message's CBOR, the payload length and the payload bytes after the pixels.

    The pixels are the first array placed in the payload; what follows them (their
    padding, extension arrays) and the record's tail padding is the same for every frame.
    """
    layout = PayloadLayout()
    meta = _msg_meta(template, layout.place)
    arrays, payload_len = layout.arrays, layout.length
    msg = CONVERTER.dumps(meta, canonical=meta.has_floats)
    if not arrays or arrays[0] is not template.pixels:
        text = "the pixels must be the first array of the payload"
        raise AssertionError(text)
    after = bytearray(_pad(template.pixels.nbytes))
    for array in arrays[1:]:
        after += array.tobytes() + bytes(_pad(array.nbytes))
    after += bytes(_pad(payload_len + _CRC.size))
    return msg, payload_len, bytes(after)


def _cbor_widths(values: Array) -> Array:
    """Return the encoded length of each int64 as a CBOR integer: 1, 2, 3, 5 or 9 bytes."""
    magnitude = np.where(values < 0, ~values, values)  # CBOR encodes -1 - v for v < 0
    widths: Array = (
        1
        + (magnitude >= 24)
        + (magnitude >= 1 << 8)
        + 2 * (magnitude >= 1 << 16)
        + 4 * (magnitude >= 1 << 32)
    ).astype(np.int64)
    return widths


def _encoded(values: Array, width: int) -> Array:
    """Return the CBOR encodings of ``values`` (all ``width`` bytes long), one row each."""
    encoded = cbor2.dumps(values.tolist())
    size = len(values) * width
    return np.frombuffer(encoded, np.uint8, size, len(encoded) - size).reshape(len(values), width)


def _map_header(count: int) -> bytes:
    return cbor2.dumps(dict.fromkeys(range(count), 0))[: -2 * count]


def _array_header(count: int) -> bytes:
    return cbor2.dumps([0] * count)[:-count]


def _timeline(kind: str, value: int, name: str) -> bytes:
    """One timepoint entry, as the record encoder writes it."""
    return cbor2.dumps({"kind": kind, "value": value, "timeline": name})


def _timeline_around(kind: str, name: str) -> tuple[bytes, bytes]:
    """Return the bytes of a timepoint entry before and after its value."""
    entry = _timeline(kind, 0, name)  # the value 0 is one byte
    value_at = len(entry) - len(cbor2.dumps({"timeline": name}))  # the suffix has no header
    return entry[:value_at], entry[value_at + 1 :]


def column_timepoints(
    base: Mapping[str, TimeValue], columns: Mapping[str, tuple[TimeKind, Array]], count: int
) -> list[Mapping[str, TimeValue]]:
    """Each of ``count`` frames' timepoint: ``base`` updated with that frame's column values.

    ``columns`` maps a timeline to its kind and ``count`` int64 values (checked by the caller).
    """
    if not columns:
        return [base] * count
    lists = [(name, kind, values.tolist()) for name, (kind, values) in columns.items()]
    timepoints: list[Mapping[str, TimeValue]] = []
    for index in range(count):
        timepoint = dict(base)
        for name, kind, values in lists:
            timepoint[name] = new_time_value(kind=kind, value=values[index])
        timepoints.append(MappingProxyType(timepoint))
    return timepoints
