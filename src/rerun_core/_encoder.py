"""``RecordEncoder``: ``encode_record_parts`` with the message metadata encoded once per layout.

Rules:
- the bytes are exactly ``encode_record_parts(record)``'s (a property test compares them
  for every kind of record);
- a raw image, depth or segmentation message without extension components is described
  by its layout (kind, dtype, shape, colour model, meter, draw order); the CBOR of such
  a message (``msg``) and the record's payload framing are built once per layout by the
  canonical encoder and kept as a template;
- the record's other fields (timeless flag, timepoint, entity path, and which of tick
  and wall clock are 0) are templated too, per entity path, timeline names (in the
  timepoint's order), timeless flag and zero tick/clock: the CBOR around the integers is
  built once by ``cbor2``; per record only the integers (tick, each timeline's value,
  wall clock) are encoded, in CBOR's shortest form; a timeline whose kind differs from
  the template's takes the slow path;
- the record's top-level metadata map lists ``msg`` first (CBOR canonical order: shorter
  keys first), so a record's metadata is the map header, ``"msg"``, the template and the
  other fields' encoding; every other message goes through ``encode_record_parts``;
- templates live in the encoder (no global state): a sink keeps one encoder; at most
  ``MAX_TEMPLATES`` of each sort are kept (then they are dropped and rebuilt as needed); the dict
  operations are atomic, so one encoder may be shared by threads.
"""

from __future__ import annotations

import struct
from typing import Any

import cbor2
import numpy as np
from zlib_ng.zlib_ng import crc32

from rerun_core._codec import (
    _CRC,
    FORMAT_MAJOR,
    FORMAT_MINOR,
    KIND_RECORD,
    MAGIC,
    _pad,
    encode_record_parts,
)
from rerun_core._messages import DepthMsg, ImageMsg, Message, SegmentationMsg
from rerun_core._record import Record
from rerun_core._wire import CONVERTER, ArraySpec, _msg_meta

__all__ = ["MAX_TEMPLATES", "RecordEncoder"]

MAX_TEMPLATES = 1024
_PREFIX_STRUCT = struct.Struct("<4sBBHIQ")  # the record header without its CRC
_MSG_KEY = cbor2.dumps("msg")
_MAP_HEADERS = tuple(bytes((0xA0 + count,)) for count in range(7))  # maps of 0..6 entries
_ZEROS = bytes(8)
_UINT8 = tuple(cbor2.dumps(value) for value in range(256))
_NINT8 = tuple(cbor2.dumps(-1 - value) for value in range(256))
_INT16, _INT32, _INT64 = (struct.Struct(f">B{code}") for code in "HIQ")
_HEADER_SIZE = _PREFIX_STRUCT.size + _CRC.size
_HEADS_PER_TEMPLATE = 64
Part = bytes | memoryview


class _Template:
    """What every record of one layout and one set of fields shares.

    ``pieces`` are the metadata's CBOR around its integers: ``pieces[0]`` (the map
    header, ``"msg"`` and the message's CBOR, then the fields before the first
    integer), then after each integer the next piece; the integers are the tick (if
    not 0), each timeline's value (``slots``: name and kind, sorted by name) and the
    wall clock (if not 0). ``heads`` caches the record header (with its CRC) and the
    padding after the metadata, per metadata length.
    """

    __slots__ = ("heads", "nbytes", "payload_len", "pieces", "pixel_gap", "slots", "tail_pad")

    def __init__(self, msg: bytes, nbytes: int, record: Record) -> None:
        dumps = cbor2.dumps
        slots = tuple((name, time.kind) for name, time in sorted(record.timepoint.items()))
        pieces: list[bytes] = []
        piece = _MSG_KEY + msg
        count = 1  # msg
        if record.log_tick:
            pieces.append(piece + dumps("log_tick"))
            piece = b""
            count += 1
        if record.timeless:
            piece += dumps("timeless") + dumps(True)
            count += 1
        if slots:
            piece += dumps("timepoint") + _array_header(len(slots))
            count += 1
            for name, kind in slots:
                entry = _MAP_HEADERS[3] + dumps("kind") + dumps(kind) + dumps("value")
                pieces.append(piece + entry)
                piece = dumps("timeline") + dumps(name)
        piece += dumps("entity_path") + dumps(list(record.entity_path))
        count += 1
        if record.log_time_ns:
            pieces.append(piece + dumps("log_time_ns"))
            piece = b""
            count += 1
        pieces.append(piece)
        pieces[0] = _MAP_HEADERS[count] + pieces[0]
        self.pieces = tuple(pieces)
        self.slots = slots
        self.nbytes = nbytes
        self.payload_len = nbytes + _pad(nbytes)
        self.pixel_gap = _ZEROS[: _pad(nbytes)]
        self.tail_pad = _ZEROS[: _pad(self.payload_len + _CRC.size)]
        self.heads: dict[int, tuple[bytes, bytes]] = {}

    def head(self, meta_len: int) -> tuple[bytes, bytes]:
        """Return the record header (CRC included) and the padding after the metadata."""
        header = _PREFIX_STRUCT.pack(
            MAGIC, FORMAT_MAJOR, FORMAT_MINOR, KIND_RECORD, meta_len, self.payload_len
        )
        head = header + _CRC.pack(crc32(header)), _ZEROS[: _pad(_HEADER_SIZE + meta_len)]
        if len(self.heads) < _HEADS_PER_TEMPLATE:
            self.heads[meta_len] = head
        return head


class RecordEncoder:
    """Encodes records exactly like ``encode_record_parts``, reusing per-layout templates."""

    def __init__(self) -> None:
        """Start with no templates."""
        self._templates: dict[tuple[Any, ...], _Template] = {}

    def encode_parts(self, record: Record) -> tuple[Part, ...]:
        """Return buffers whose concatenation is ``encode_record(record)``.

        The pixels are a zero-copy view of the message's own memory.
        """
        return self.encode_sized(record)[0]

    def encode_sized(self, record: Record) -> tuple[tuple[Part, ...], int]:
        """Return ``encode_parts(record)`` and the number of bytes they hold."""
        msg = record.msg
        if type(msg) is ImageMsg and msg.pixels is not None and not msg.ext:  # the hot path
            pixels = msg.pixels
            order = msg.draw_order
            layout: tuple[Any, ...] | None = (
                ImageMsg,
                pixels.dtype,
                pixels.shape,
                id(msg.color_model),  # members are singletons
                order if order is None else repr(order),
            )
        else:
            layout = _layout(msg)
            if layout is None:
                return _sized(encode_record_parts(record))
            pixels = msg.pixels  # type: ignore[union-attr,assignment]
        tick, when, timepoint = record.log_tick, record.log_time_ns, record.timepoint
        key = (layout, record.entity_path, tuple(timepoint), record.timeless, not tick, not when)
        template = self._templates.get(key)
        if template is None:
            template = self._template(key, record)
        pieces = template.pieces
        if tick:
            out = [pieces[0], _cbor_int(tick), pieces[1]]
            index = 2
        else:
            out = [pieces[0]]
            index = 1
        for name, kind in template.slots:
            time = timepoint[name]
            if time.kind != kind:  # the same names with other kinds: rare
                return _sized(encode_record_parts(record))
            out += (_cbor_int(time.value), pieces[index])
            index += 1
        if when:
            out += (_cbor_int(when), pieces[index])
        meta = b"".join(out)
        header, pad = template.heads.get(len(meta)) or template.head(len(meta))
        head = b"".join((header, meta, pad))
        base: object = pixels.base  # frozen pixels view bytes of their own: no view needed
        view: Part = base if type(base) is bytes and len(base) == template.nbytes else b""
        if not view:
            view = pixels.data.cast("B")
        crc = crc32(view, crc32(head))
        gap = template.pixel_gap
        if gap:
            crc = crc32(gap, crc)
        end = template.tail_pad + _CRC.pack(crc32(template.tail_pad, crc))
        size = len(head) + template.payload_len + len(end)
        return ((head, view, gap, end) if gap else (head, view, end)), size

    def _template(self, key: tuple[Any, ...], record: Record) -> _Template:
        msg: Any = record.msg
        pixels: np.ndarray[Any, Any] = msg.pixels

        def place(array: np.ndarray[Any, Any]) -> ArraySpec:
            return ArraySpec(dtype=array.dtype.str, shape=tuple(array.shape), offset=0)

        meta = _msg_meta(msg, place)
        cbor = CONVERTER.dumps(meta, canonical=meta.has_floats)
        template = _Template(cbor, pixels.nbytes, record)
        if len(self._templates) >= MAX_TEMPLATES:
            self._templates.clear()
        self._templates[key] = template
        return template


def _sized(parts: tuple[Part, ...]) -> tuple[tuple[Part, ...], int]:
    return parts, sum(part.nbytes if isinstance(part, memoryview) else len(part) for part in parts)


def _cbor_int(value: int) -> bytes:
    """Return the CBOR (shortest form) of an int64, as ``cbor2.dumps`` gives it."""
    if value >= 0:
        if value < 256:
            return _UINT8[value]
        major = 0x00
    else:
        value = ~value  # -1 - value
        if value < 256:
            return _NINT8[value]
        major = 0x20
    if value < 0x10000:
        return _INT16.pack(major | 0x19, value)
    if value < 0x100000000:
        return _INT32.pack(major | 0x1A, value)
    return _INT64.pack(major | 0x1B, value)


def _array_header(count: int) -> bytes:
    """Return the CBOR header of an array of ``count`` items."""
    return cbor2.dumps([None] * count)[:-count]


def _layout(msg: Message) -> tuple[Any, ...] | None:
    """Return the key of ``msg``'s template, or None when it has none (the slow path)."""
    key: tuple[Any, ...] | None = None
    if type(msg) is ImageMsg:
        if msg.pixels is not None and not msg.ext:
            pixels, model = msg.pixels, id(msg.color_model)  # members are singletons
            key = (ImageMsg, pixels.dtype, pixels.shape, model, _float_key(msg.draw_order))
    elif type(msg) is DepthMsg:
        if not msg.ext:
            pixels, meter = msg.pixels, _float_key(msg.meter)
            key = (DepthMsg, pixels.dtype, pixels.shape, meter, _float_key(msg.draw_order))
    elif type(msg) is SegmentationMsg and not msg.ext:
        pixels, order = msg.pixels, _float_key(msg.draw_order)
        key = (SegmentationMsg, pixels.dtype, pixels.shape, order)
    return key


def _float_key(value: float | None) -> str | None:
    """Tell apart what CBOR tells apart (-0.0 and 0.0 compare equal)."""
    return None if value is None else repr(value)
