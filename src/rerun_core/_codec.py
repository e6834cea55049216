"""The record wire format (``docs/FORMAT.md``): framing, CRC-32, CBOR metadata, raw payload.

Rules:
- one record = 24-byte header, CBOR metadata, zero padding, payload, zero padding,
  CRC-32; the whole record is a multiple of 8 bytes and the payload starts 8-aligned;
- identical records give identical bytes; a stream is records back to back;
- decoding checks the header CRC before trusting any length, the record CRC before
  parsing anything else, and raises only ``DecodeError`` (with the byte offset).
"""

from __future__ import annotations

import math
import mmap
import re
import struct
from typing import Any

import attrs
import numpy as np
from zlib_ng.zlib_ng import crc32  # zlib's CRC-32, about 10x faster than the stdlib's

from rerun_core._decompress import KIND_COMPRESSED, decompress_array
from rerun_core._record import Record
from rerun_core._wire import CONVERTER, ArraySpec, from_meta, load_meta, to_meta
from rerun_core.errors import DecodeError

__all__ = [
    "FORMAT_MAJOR",
    "FORMAT_MINOR",
    "MAGIC",
    "RecordSpan",
    "decode_record",
    "encode_record",
    "encode_record_parts",
]

MAGIC = b"\x89RRC"
FORMAT_MAJOR = 1
FORMAT_MINOR = 0
KIND_RECORD = 1
_LOG_KINDS = (KIND_RECORD, KIND_COMPRESSED)  # kind 3: pixels compressed (format 1.1)
_HEADER = struct.Struct("<4sBBHIQI")  # magic, major, minor, kind, meta_len, payload_len, crc
_CRC = struct.Struct("<I")
_ALIGN = 8
_MAX_META = 1 << 26  # 64 MiB of CBOR is far beyond any real record: treat as damage
_MAX_DIMS = 32  # numpy's limit is 64; messages hold arrays of 1 to 3 dimensions
_DTYPE = re.compile(r"[<|](b1|u1|u2|u4|u8|i1|i2|i4|i8|f2|f4|f8|U[1-9][0-9]{0,5})")

Buffer = bytes | bytearray | memoryview | mmap.mmap


def _pad(size: int) -> int:
    return -size % _ALIGN


class PayloadLayout:
    """Places a record's arrays one after another in its payload, each padded to 8 bytes."""

    def __init__(self) -> None:
        """Start with an empty payload."""
        self.arrays: list[np.ndarray[Any, Any]] = []
        self.length = 0

    def place(self, array: np.ndarray[Any, Any]) -> ArraySpec:
        """Append ``array`` to the payload and return where it lies."""
        spec = ArraySpec(dtype=array.dtype.str, shape=tuple(array.shape), offset=self.length)
        self.arrays.append(array)
        self.length += array.nbytes + _pad(array.nbytes)
        return spec


def encode_record_parts(record: Record) -> tuple[bytes | memoryview, ...]:
    """Encode ``record`` as buffers whose concatenation is ``encode_record(record)``.

    Array payloads are zero-copy views of the message's own memory.
    """
    layout = PayloadLayout()
    record_meta = to_meta(record, layout.place)
    arrays, payload_len = layout.arrays, layout.length
    meta = CONVERTER.dumps(record_meta, canonical=record_meta.msg.has_floats)
    header = _HEADER.pack(MAGIC, FORMAT_MAJOR, FORMAT_MINOR, KIND_RECORD, len(meta), payload_len, 0)
    header = header[:-4] + _CRC.pack(crc32(header[:-4]))
    head = header + meta + bytes(_pad(len(header) + len(meta)))
    parts: list[bytes | memoryview] = [head]
    crc = crc32(head)
    for array in arrays:
        view = array.data.cast("B")
        parts.append(view)
        crc = crc32(view, crc)
        if _pad(array.nbytes):
            gap = bytes(_pad(array.nbytes))
            parts.append(gap)
            crc = crc32(gap, crc)
    tail = bytes(_pad(payload_len + _CRC.size))
    crc = crc32(tail, crc)
    parts.append(tail + _CRC.pack(crc))
    return tuple(parts)


def encode_record(record: Record) -> bytes:
    """Encode ``record`` as one self-framed, CRC-checked byte string."""
    return b"".join(encode_record_parts(record))


@attrs.frozen
class RecordSpan:
    """Where a framed record sits in a buffer, and whether it is intact."""

    offset: int
    length: int
    kind: int
    error: DecodeError | None = None


def _frame(view: memoryview, offset: int) -> RecordSpan:
    """Check the frame starting at ``offset``: header CRC, lengths, record CRC."""
    available = len(view) - offset
    if available < _HEADER.size:
        msg = f"truncated record header: {available} of {_HEADER.size} bytes"
        raise DecodeError(msg, offset=offset)
    magic, major, _minor, kind, meta_len, payload_len, header_crc = _HEADER.unpack_from(
        view, offset
    )
    if magic != MAGIC:
        msg = f"bad record magic {bytes(magic)!r} (expected {MAGIC!r}); not a rerun-core record"
        raise DecodeError(msg, offset=offset)
    if crc32(view[offset : offset + _HEADER.size - 4]) != header_crc:
        msg = "record header CRC mismatch: the header is damaged"
        raise DecodeError(msg, offset=offset)
    if major != FORMAT_MAJOR:
        msg = (
            f"record format major version {major} is not supported (this reader knows "
            f"{FORMAT_MAJOR}); upgrade rerun-core to read it"
        )
        raise DecodeError(msg, offset=offset)
    body = _HEADER.size + meta_len
    length = body + _pad(body) + payload_len + _pad(payload_len + _CRC.size) + _CRC.size
    if meta_len > _MAX_META or length > available:
        msg = f"truncated record: header declares {length} bytes, {available} are present"
        raise DecodeError(msg, offset=offset)
    end = offset + length - _CRC.size
    (record_crc,) = _CRC.unpack_from(view, end)
    if crc32(view[offset:end]) != record_crc:
        msg = "record CRC mismatch: the record is damaged"
        raise DecodeError(msg, offset=offset)
    return RecordSpan(offset, length, kind)


def _frame_parts(view: memoryview, span: RecordSpan) -> tuple[bytes, memoryview]:
    """Return the metadata bytes and the payload of an intact record frame."""
    _, _, _, _, meta_len, payload_len, _ = _HEADER.unpack_from(view, span.offset)
    meta_start = span.offset + _HEADER.size
    payload_start = meta_start + meta_len + _pad(_HEADER.size + meta_len)
    meta = bytes(view[meta_start : meta_start + meta_len])
    return meta, view[payload_start : payload_start + payload_len]


def _decode_parts(meta_bytes: bytes, payload: memoryview, span: RecordSpan) -> Record:
    """Parse the metadata and payload of an intact record frame (``_frame_parts``)."""

    def fetch(spec: ArraySpec) -> np.ndarray[Any, Any]:
        if (
            not _DTYPE.fullmatch(spec.dtype)
            or len(spec.shape) > _MAX_DIMS
            or any(d < 0 for d in spec.shape)
        ):
            msg = f"unsupported array dtype {spec.dtype!r} or shape {spec.shape}"
            raise ValueError(msg)
        if spec.codec is not None or spec.stored is not None or spec.shuffle:
            if span.kind != KIND_COMPRESSED:
                msg = f"array {spec} is compressed in a record of kind {span.kind}"
                raise ValueError(msg)
            return decompress_array(spec, payload)
        dtype = np.dtype(spec.dtype)
        count = math.prod(spec.shape)
        if spec.offset < 0 or spec.offset + count * dtype.itemsize > len(payload):
            msg = f"array of shape {spec.shape} runs past the payload"
            raise ValueError(msg)
        flat = np.frombuffer(payload, dtype=dtype, count=count, offset=spec.offset)
        return flat.reshape(spec.shape)

    try:
        meta = load_meta(meta_bytes)
        return from_meta(meta, fetch)
    except ImportError:  # a codec library is missing: the bytes may well be fine
        raise
    except Exception as exc:  # the decoding boundary: every failure becomes a DecodeError
        msg = f"record metadata is invalid: {type(exc).__name__}: {exc}"
        raise DecodeError(msg, offset=span.offset) from None


def _decode_frame(view: memoryview, span: RecordSpan) -> Record:
    """Parse the metadata and payload of an intact record frame."""
    return _decode_parts(*_frame_parts(view, span), span)


def _bytes_view(buf: Buffer) -> memoryview:
    """``buf`` as a flat byte view; anything that is not a contiguous buffer raises."""
    try:
        return memoryview(buf).cast("B")
    except (TypeError, ValueError):
        msg = (
            f"expected the bytes of records (bytes, bytearray, memoryview or mmap), got "
            f"{type(buf).__name__}; read files in binary mode ('rb')"
        )
        raise DecodeError(msg, offset=0) from None


def _only_frame(buf: Buffer) -> tuple[memoryview, RecordSpan]:
    """Check that ``buf`` is exactly one intact log record; return its view and span."""
    view = _bytes_view(buf)
    span = _frame(view, 0)
    if span.length != len(view):
        msg = f"{len(view) - span.length} trailing bytes after one record of {span.length}"
        raise DecodeError(msg, offset=span.length)
    if span.kind not in _LOG_KINDS:
        msg = f"record kind {span.kind} is unknown to this reader (it knows {_LOG_KINDS})"
        raise DecodeError(msg, offset=0)
    return view, span


def _log_frame_at(buf: Buffer, offset: int) -> tuple[memoryview, RecordSpan]:
    """Check the log record framed at ``offset`` (its CRCs); return the view and its span."""
    view = memoryview(buf).cast("B")
    span = _frame(view, offset)
    if span.kind not in _LOG_KINDS:
        msg = f"the frame at offset {offset} is of kind {span.kind}, not a log record"
        raise DecodeError(msg, offset=offset)
    return view, span


def decode_record(buf: Buffer) -> Record:
    """Decode exactly one record; trailing bytes raise ``DecodeError``."""
    return _decode_frame(*_only_frame(buf))


def _next_intact(view: memoryview, start: int) -> int:
    """Offset of the next frame whose header and record CRCs verify, or the end."""
    position = start
    while (position := _find_magic(view, position)) < len(view):
        try:
            _frame(view, position)
        except DecodeError:
            position += 1
        else:
            return position
    return len(view)


def _find_magic(view: memoryview, start: int, chunk: int = 1 << 20) -> int:
    """Offset of the next ``MAGIC`` at or after ``start``, or ``len(view)``."""
    while start < len(view):
        found = bytes(view[start : start + chunk + len(MAGIC) - 1]).find(MAGIC)
        if found >= 0:
            return start + found
        start += chunk
    return len(view)
