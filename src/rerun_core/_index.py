"""The index record of format 1.1: a recording's catalog at the end of its stream.

Rules (``docs/FORMAT.md`` section 8):
- an index is one framed record of kind 2 (1.0 readers skip it); its CBOR metadata holds
  the tables (entities, message formats, timelines) and an ``ArraySpec`` per column; the
  payload holds the 8-aligned column arrays, then a 24-byte tail: the record's own
  offset and length and ``INDEX_MAGIC``, so the tail sits at a fixed distance from the
  end of the stream (its last 32 bytes);
- a reader trusts an index only when the tail points at an intact index frame that ends
  the stream, every column has its dtype and length, every id points into its table,
  the rows are ordered and disjoint, and the first and last rows point at log record
  headers (header CRC checked) of the stated length; otherwise it reports why
  (``missing``, ``damaged``, ``stale``) and the caller scans. Decoding never raises.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from zlib_ng.zlib_ng import crc32

from rerun_core._catalog import LOG_KINDS, MSG_KINDS, Catalog, MsgFormat
from rerun_core._codec import (
    _CRC,
    _HEADER,
    FORMAT_MAJOR,
    MAGIC,
    Buffer,
    _frame,
    _pad,
)
from rerun_core._paths import parse_entity_path
from rerun_core._wire import CONVERTER, ArraySpec, load_cbor
from rerun_core.errors import DecodeError

__all__ = ["INDEX_MAGIC", "KIND_INDEX", "IndexLookup", "encode_index", "read_index"]

KIND_INDEX = 2
INDEX_MINOR = 1
INDEX_MAGIC = b"RRCINDEX"
_TAIL = struct.Struct("<QQ8s")  # the index record's offset, its length, INDEX_MAGIC
_END = _TAIL.size + 8  # the tail, then pad2 (4 zero bytes) and the record CRC
_TIME_KINDS = ("sequence", "time")
_FIXED_COLUMNS = (
    ("offset", "<u8"),
    ("length", "<u8"),
    ("entity", "<u4"),
    ("format", "<u4"),
    ("log_tick", "<u8"),
    ("log_time", "<i8"),
    ("timeless", "|b1"),
)

Array = np.ndarray[Any, Any]


def _ignore(offset: int, length: int) -> None:
    """Take no prefetch hint."""


@attrs.define(kw_only=True)
class IndexMeta:
    """The CBOR metadata of an index record."""

    count: int
    columns: tuple[tuple[str, ArraySpec], ...]
    entities: tuple[tuple[str, ...], ...]
    formats: tuple[MsgFormat, ...]
    timelines: tuple[tuple[str, str], ...]


@attrs.frozen
class IndexLookup:
    """What a reader found at the end of a stream.

    ``status`` is ``"valid"`` (``catalog`` is set), ``"missing"`` (no index tail),
    ``"damaged"`` (a tail whose index record fails its checks) or ``"stale"`` (an intact
    index that does not describe this stream); ``reason`` says why it was not used.
    """

    status: str
    catalog: Catalog | None = None
    offset: int | None = None
    reason: str = ""


def _columns(catalog: Catalog) -> list[tuple[str, str, Array]]:
    fixed = [(name, dtype, getattr(catalog, name)) for name, dtype in _FIXED_COLUMNS]
    for position in range(len(catalog.timelines)):
        fixed.append((f"time.{position}", "<i8", catalog.times[position]))
        fixed.append((f"has_time.{position}", "|b1", catalog.has_time[position]))
    return fixed


def encode_index(catalog: Catalog, offset: int) -> bytes:
    """Encode ``catalog`` as an index record that will start at byte ``offset``."""
    specs: list[tuple[str, ArraySpec]] = []
    chunks: list[bytes] = []
    payload_len = 0
    for name, dtype, column in _columns(catalog):
        data = np.ascontiguousarray(column, dtype=np.dtype(dtype)).tobytes()
        specs.append((name, ArraySpec(dtype=dtype, shape=(len(column),), offset=payload_len)))
        chunks += [data, bytes(_pad(len(data)))]
        payload_len += len(data) + _pad(len(data))
    meta = CONVERTER.dumps(
        IndexMeta(
            count=len(catalog),
            columns=tuple(sorted(specs)),
            entities=catalog.entities,
            formats=catalog.formats,
            timelines=catalog.timelines,
        ),
        canonical=True,
    )
    payload_len += _TAIL.size
    body = _HEADER.size + len(meta)
    length = body + _pad(body) + payload_len + _pad(payload_len + _CRC.size) + _CRC.size
    header = _HEADER.pack(MAGIC, FORMAT_MAJOR, INDEX_MINOR, KIND_INDEX, len(meta), payload_len, 0)
    header = header[:-4] + _CRC.pack(crc32(header[:-4]))
    tail = _TAIL.pack(offset, length, INDEX_MAGIC) + bytes(_pad(payload_len + _CRC.size))
    record = b"".join([header, meta, bytes(_pad(body)), *chunks, tail])
    return record + _CRC.pack(crc32(record))


def read_index(buf: Buffer, *, will_read: Callable[[int, int], None] | None = None) -> IndexLookup:
    """Find and check the index at the end of ``buf``; never raises.

    ``will_read(offset, length)``, if given, is told each region before it is read (the
    index record, then the first and last rows' records), e.g. to prefetch a file's pages.
    """
    view = memoryview(buf).cast("B")
    will_read = will_read or _ignore
    size = len(view)
    if size < _HEADER.size + _END:
        return IndexLookup("missing", reason="the stream is too short to end with an index")
    offset, length, magic = _TAIL.unpack_from(view, size - _END)
    if magic != INDEX_MAGIC:
        return IndexLookup("missing", reason="the stream does not end with an index record")
    start = size - length if 0 < length <= size else 0
    will_read(start, size - start)
    try:
        span = _frame(view, start)
        if span.kind != KIND_INDEX or span.length != length:
            msg = f"the record at the index tail's offset is of kind {span.kind}"
            raise DecodeError(msg, offset=start)
        catalog = _decode(view, start)
    except (DecodeError, ValueError, TypeError, KeyError, OverflowError) as error:
        return IndexLookup("damaged", offset=start, reason=str(error))
    if offset != start:
        reason = f"the index was written at offset {offset} but sits at {start}"
        return IndexLookup("stale", offset=start, reason=reason)
    reason = _stale_reason(view, catalog, start, will_read)
    if reason:
        return IndexLookup("stale", offset=start, reason=reason)
    return IndexLookup("valid", catalog=catalog, offset=start)


def _decode(view: memoryview, start: int) -> Catalog:
    """Decode the metadata and map the columns of the intact index frame at ``start``."""
    _, _, _, _, meta_len, payload_len, _ = _HEADER.unpack_from(view, start)
    meta_start = start + _HEADER.size
    meta = load_cbor(bytes(view[meta_start : meta_start + meta_len]), IndexMeta)
    payload_start = meta_start + meta_len + _pad(_HEADER.size + meta_len)
    payload = view[payload_start : payload_start + payload_len - _TAIL.size]
    columns = dict(meta.columns)
    expected = [*_FIXED_COLUMNS]
    for position in range(len(meta.timelines)):
        expected += [(f"time.{position}", "<i8"), (f"has_time.{position}", "|b1")]
    arrays = {name: _column(payload, columns[name], dtype, meta.count) for name, dtype in expected}
    _check_tables(meta, arrays)
    timelines = range(len(meta.timelines))
    return Catalog(
        entities=tuple(parse_entity_path(path) for path in meta.entities),
        formats=meta.formats,
        timelines=meta.timelines,
        times=tuple(arrays[f"time.{position}"] for position in timelines),
        has_time=tuple(arrays[f"has_time.{position}"] for position in timelines),
        offset=arrays["offset"],
        length=arrays["length"],
        entity=arrays["entity"],
        format=arrays["format"],
        log_tick=arrays["log_tick"],
        log_time=arrays["log_time"],
        timeless=arrays["timeless"],
    )


def _column(payload: memoryview, spec: ArraySpec, dtype: str, count: int) -> Array:
    if spec.dtype != dtype or spec.shape != (count,) or spec.offset % 8:
        msg = f"index column {spec} is not {dtype} of {count} rows at an 8-aligned offset"
        raise ValueError(msg)
    itemsize = np.dtype(dtype).itemsize
    if not 0 <= spec.offset <= len(payload) - count * itemsize:
        msg = f"index column {spec} runs past the payload"
        raise ValueError(msg)
    column = np.frombuffer(payload, np.dtype(dtype), count, spec.offset)
    if column.dtype == np.bool_ and count and column.view(np.uint8).max() > 1:
        msg = "index bool column holds bytes other than 0 and 1"
        raise ValueError(msg)
    return column


def _check_tables(meta: IndexMeta, arrays: dict[str, Array]) -> None:
    if meta.count and arrays["entity"].max() >= len(meta.entities):
        msg = "index entity ids point past the entity table"
        raise ValueError(msg)
    if meta.count and arrays["format"].max() >= len(meta.formats):
        msg = "index format ids point past the format table"
        raise ValueError(msg)
    if any(form.kind not in MSG_KINDS for form in meta.formats):
        msg = "index format table names an unknown message kind"
        raise ValueError(msg)
    names = [name for name, _ in meta.timelines]
    if len(set(names)) != len(names) or any(
        kind not in _TIME_KINDS or not name for name, kind in meta.timelines
    ):
        msg = "index timeline table is malformed"
        raise ValueError(msg)


def _stale_reason(
    view: memoryview, catalog: Catalog, start: int, will_read: Callable[[int, int], None]
) -> str:
    """Why ``catalog`` does not describe the stream before ``start`` ("" when it does)."""
    if not len(catalog):
        return "" if start == 0 else f"an empty index follows {start} bytes of records"
    offsets = catalog.offset.astype(np.int64)
    ends = offsets + catalog.length.astype(np.int64)
    if offsets[0] < 0 or np.any(ends[:-1] > offsets[1:]) or ends[-1] > start:
        return "the index rows are out of order or overlap the index itself"
    for row in (0, len(catalog) - 1):
        offset = int(offsets[row])
        will_read(offset, _HEADER.size)
        kind, length = _header_at(view, offset)
        if kind not in LOG_KINDS or length != int(catalog.length[row]):
            return f"index row {row} does not match the record header at offset {offset}"
    return ""


def _header_at(view: memoryview, offset: int) -> tuple[int, int]:
    """Kind and length of the frame whose header (CRC checked) is at ``offset``; (0, 0) if none.

    Only the 24 header bytes are read: the records themselves are checked when read.
    """
    if offset + _HEADER.size > len(view):
        return 0, 0
    magic, major, _, kind, meta_len, payload_len, header_crc = _HEADER.unpack_from(view, offset)
    if magic != MAGIC or major != FORMAT_MAJOR:
        return 0, 0
    if crc32(view[offset : offset + _HEADER.size - 4]) != header_crc:
        return 0, 0
    body = _HEADER.size + meta_len
    return kind, body + _pad(body) + payload_len + _pad(payload_len + _CRC.size) + _CRC.size
