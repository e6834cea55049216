"""``RecordEncoder``: ``encode_record_parts`` with the message metadata encoded once per layout.

Rules:
- the bytes are exactly ``encode_record_parts(record)``'s (a property test compares them
  for every kind of record);
- a raw image, depth or segmentation message without extension components is described
  by its layout (kind, dtype, shape, colour model, meter, draw order); the CBOR of such
  a message (``msg``) and the record's payload framing are built once per layout by the
  canonical encoder and kept as a template; per record only the varying fields (tick,
  timeless flag, timepoint, entity path, wall clock) are encoded by ``cbor2``;
- the record's top-level metadata map lists ``msg`` first (CBOR canonical order: shorter
  keys first), so a record's metadata is the map header, ``"msg"``, the template and the
  other fields' encoding; every other message goes through ``encode_record_parts``;
- templates live in the encoder (no global state): a sink keeps one encoder; at most
  ``MAX_TEMPLATES`` are kept (then they are dropped and rebuilt as needed); the dict
  operations are atomic, so one encoder may be shared by threads.
"""

from __future__ import annotations

import struct
from typing import Any, cast

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
Part = bytes | memoryview


class _Template:
    """What every record of one message layout shares: its ``msg`` CBOR and framing."""

    __slots__ = ("msg", "payload_len", "pixel_gap", "tail_pad")

    def __init__(self, msg: bytes, nbytes: int) -> None:
        self.msg = msg
        self.payload_len = nbytes + _pad(nbytes)
        self.pixel_gap = _ZEROS[: _pad(nbytes)]
        self.tail_pad = _ZEROS[: _pad(self.payload_len + _CRC.size)]


class RecordEncoder:
    """Encodes records exactly like ``encode_record_parts``, reusing per-layout templates."""

    def __init__(self) -> None:
        """Start with no templates."""
        self._templates: dict[tuple[Any, ...], _Template] = {}

    def encode_parts(self, record: Record) -> tuple[Part, ...]:
        """Return buffers whose concatenation is ``encode_record(record)``.

        The pixels are a zero-copy view of the message's own memory.
        """
        msg = record.msg
        key = _layout(msg)
        if key is None:
            return encode_record_parts(record)
        template = self._templates.get(key)
        if template is None:
            template = self._template(key, msg)
        pixels = cast(np.ndarray[Any, Any], msg.pixels)  # type: ignore[union-attr]
        fields: dict[str, Any] = {}
        if record.log_tick:
            fields["log_tick"] = record.log_tick
        if record.timeless:
            fields["timeless"] = True
        timepoint = record.timepoint
        if timepoint:
            fields["timepoint"] = [
                {"kind": time.kind, "value": time.value, "timeline": name}
                for name, time in sorted(timepoint.items())
            ]
        fields["entity_path"] = record.entity_path
        if record.log_time_ns:
            fields["log_time_ns"] = record.log_time_ns
        rest = cbor2.dumps(fields)  # insertion order is canonical order; no floats here
        meta_len = 1 + len(_MSG_KEY) + len(template.msg) + len(rest) - 1
        header = _PREFIX_STRUCT.pack(
            MAGIC, FORMAT_MAJOR, FORMAT_MINOR, KIND_RECORD, meta_len, template.payload_len
        )
        head = b"".join(
            (
                header,
                _CRC.pack(crc32(header)),
                _MAP_HEADERS[len(fields) + 1],
                _MSG_KEY,
                template.msg,
                memoryview(rest)[1:],
                _ZEROS[: _pad(24 + meta_len)],
            )
        )
        view = pixels.data.cast("B")
        crc = crc32(view, crc32(head))
        gap = template.pixel_gap
        if gap:
            crc = crc32(gap, crc)
        tail = template.tail_pad
        end = tail + _CRC.pack(crc32(tail, crc))
        return (head, view, gap, end) if gap else (head, view, end)

    def _template(self, key: tuple[Any, ...], msg: Any) -> _Template:
        pixels: np.ndarray[Any, Any] = msg.pixels

        def place(array: np.ndarray[Any, Any]) -> ArraySpec:
            return ArraySpec(dtype=array.dtype.str, shape=tuple(array.shape), offset=0)

        meta = _msg_meta(msg, place)
        template = _Template(CONVERTER.dumps(meta, canonical=meta.has_floats), pixels.nbytes)
        if len(self._templates) >= MAX_TEMPLATES:
            self._templates.clear()
        self._templates[key] = template
        return template


def _layout(msg: Message) -> tuple[Any, ...] | None:
    """Return the key of ``msg``'s template, or None when it has none (the slow path)."""
    key: tuple[Any, ...] | None = None
    if type(msg) is ImageMsg:
        if msg.pixels is not None and not msg.ext:
            pixels, model = msg.pixels, id(msg.color_model)  # members are singletons
            key = (ImageMsg, pixels.dtype.str, pixels.shape, model, _float_key(msg.draw_order))
    elif type(msg) is DepthMsg:
        if not msg.ext:
            pixels, meter = msg.pixels, _float_key(msg.meter)
            key = (DepthMsg, pixels.dtype.str, pixels.shape, meter, _float_key(msg.draw_order))
    elif type(msg) is SegmentationMsg and not msg.ext:
        pixels, order = msg.pixels, _float_key(msg.draw_order)
        key = (SegmentationMsg, pixels.dtype.str, pixels.shape, order)
    return key


def _float_key(value: float | None) -> str | None:
    """Tell apart what CBOR tells apart (-0.0 and 0.0 compare equal)."""
    return None if value is None else repr(value)
