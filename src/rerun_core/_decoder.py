"""``RecordDecoder``: ``decode_record`` with the metadata of common records read from templates.

Rules:
- the records and the errors are exactly ``decode_record``'s (property tests compare them
  for every kind of record): every frame's header and record CRCs are checked first, and
  whatever no template matches byte for byte takes ``decode_record``'s path;
- when that path decodes a kind-1 raw image, depth or segmentation record without
  extension components whose layout (``RecordEncoder``'s template key) it has decoded
  before and whose metadata is canonical (``RecordEncoder``'s template pieces around its
  integers), the pieces and the record become a template; a layout is tried once;
- a later record whose metadata is those pieces around other CBOR integers (tick,
  timeline values, wall clock) is the template's record with these integers and its own
  pixels, built with the trusted constructors: no cattrs, no validators; an integer out
  of range, or a payload too short for the pixels, takes the slow path (which raises);
- templates live in the decoder (no global state): a reader keeps one; they form a trie
  of pieces, so finding one costs a dict lookup per piece however many there are; at most
  ``MAX_TEMPLATES`` are kept (then they are dropped and learnt again); a lookup only
  reads the trie, so one decoder may be shared by threads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from rerun_core._arrays import freeze
from rerun_core._codec import (
    _LOG_KINDS,
    KIND_RECORD,
    Buffer,
    RecordSpan,
    _bytes_view,
    _decode_parts,
    _frame,
    _frame_parts,
    _log_frame_at,
    _next_intact,
    _only_frame,
)
from rerun_core._encoder import MAX_TEMPLATES, _cbor_int, _layout, _Template
from rerun_core._messages import DepthMsg, ImageMsg, SegmentationMsg, trusted_constructor
from rerun_core._record import NO_TIMELINES, Record, new_time_value, stamp_record
from rerun_core._scalars import INT64_MAX, INT64_MIN
from rerun_core._wire import CONVERTER, ArraySpec, _msg_meta
from rerun_core.errors import DecodeError

__all__ = ["RecordDecoder", "iter_records", "scan_records"]

_BUILDERS: Mapping[type[Any], Callable[..., Any]] = MappingProxyType(
    {cls: trusted_constructor(cls) for cls in (ImageMsg, DepthMsg, SegmentationMsg)}
)
_MAX_SEEN = 4 * MAX_TEMPLATES
_INT_SIZES: Mapping[int, int] = MappingProxyType(  # CBOR integer heads (major type 0) -> bytes
    {**dict.fromkeys(range(24), 0), 24: 1, 25: 2, 26: 4, 27: 8}
)


class _Shape:
    """A template's record, less its integers and pixels, and how to rebuild it."""

    __slots__ = (
        "build",
        "count",
        "dtype",
        "entity_path",
        "nbytes",
        "shape",
        "slots",
        "ticked",
        "timed",
        "timeless",
    )

    def __init__(self, record: Record, slots: tuple[tuple[str, str], ...]) -> None:
        msg: Any = record.msg
        pixels: np.ndarray[Any, Any] = msg.pixels
        names = [field.name for field in attrs.fields(type(msg)) if field.name != "pixels"]
        fields = {name: getattr(msg, name) for name in names}
        self.build: Callable[..., Any] = functools.partial(_BUILDERS[type(msg)], **fields)
        self.dtype, self.shape, self.count = pixels.dtype, pixels.shape, pixels.size
        self.nbytes = pixels.nbytes
        self.entity_path, self.timeless = record.entity_path, record.timeless
        self.slots = slots
        self.ticked, self.timed = bool(record.log_tick), bool(record.log_time_ns)

    def integers(self, record: Record) -> list[int]:
        """Return ``record``'s integers in the order of the metadata."""
        tick = [record.log_tick] if self.ticked else []
        when = [record.log_time_ns] if self.timed else []
        return tick + [record.timepoint[name].value for name, _ in self.slots] + when

    def record(self, integers: list[int], payload: memoryview) -> Record | None:
        """Return the record with ``integers`` and ``payload``'s pixels; None: the slow path."""
        tick = integers[0] if self.ticked else 0
        when = integers[-1] if self.timed else 0
        if not (
            self.nbytes <= len(payload)
            and 0 <= tick <= INT64_MAX
            and INT64_MIN <= when <= INT64_MAX
        ):
            return None
        timepoint = NO_TIMELINES
        if self.slots:
            times = {}
            values = integers[1:] if self.ticked else integers  # zip stops before ``when``
            for (name, kind), value in zip(self.slots, values, strict=False):
                if not INT64_MIN <= value <= INT64_MAX:
                    return None
                times[name] = new_time_value(kind=kind, value=value)
            timepoint = MappingProxyType(times)
        flat = np.frombuffer(payload, dtype=self.dtype, count=self.count)
        msg = self.build(pixels=freeze(flat.reshape(self.shape)))
        return stamp_record(
            self.entity_path,
            msg,
            timepoint,
            timeless=self.timeless,
            log_tick=tick,
            log_time_ns=when,
        )


class _Node:
    """A trie node: pieces followed by an integer (``links``) or ending the metadata (``ends``)."""

    __slots__ = ("ends", "links", "widths")

    def __init__(self) -> None:
        self.ends: dict[bytes, _Shape] = {}
        self.links: dict[bytes, _Node] = {}
        self.widths: list[int] = []  # the lengths of the keys of ``links``


class RecordDecoder:
    """Decodes records exactly like ``decode_record``, reusing per-layout templates."""

    def __init__(self) -> None:
        """Start with no templates."""
        self._root = _Node()
        self._count = 0
        self._seen: dict[tuple[Any, ...], bool] = {}  # layout -> a template was tried

    def decode(self, buf: Buffer) -> Record:
        """Decode exactly one record, as ``decode_record`` does."""
        return self._decode_frame(*_only_frame(buf))

    def decode_at(self, buf: Buffer, offset: int) -> Record:
        """Decode the log record framed at ``offset``, as ``catalog.decode_record_at`` does."""
        return self._decode_frame(*_log_frame_at(buf, offset))

    def iter_records(self, buf: Buffer) -> Iterator[Record]:
        """Decode back-to-back records, as ``iter_records`` does."""
        view = _bytes_view(buf)
        offset = 0
        while offset < len(view):
            span = _frame(view, offset)
            if span.kind in _LOG_KINDS:
                yield self._decode_frame(view, span)
            offset += span.length

    def _decode_frame(self, view: memoryview, span: RecordSpan) -> Record:
        """Decode an intact frame (``_frame`` checked its CRCs)."""
        meta, payload = _frame_parts(view, span)
        found = self._match(meta)
        if found is not None:
            record = found[0].record(found[1], payload)
            if record is not None:
                return record
        record = _decode_parts(meta, payload, span)
        if found is None and span.kind == KIND_RECORD:
            self._learn(meta, record)
        return record

    def _match(self, meta: bytes) -> tuple[_Shape, list[int]] | None:
        """Find the template whose pieces ``meta`` is, and the integers between them."""
        node, position = self._root, 0
        integers: list[int] = []
        while True:
            if node.ends:
                shape = node.ends.get(meta[position:])
                if shape is not None:
                    return shape, integers
            for width in node.widths:
                child = node.links.get(meta[position : position + width])
                if child is not None:
                    break
            else:
                return None
            position += width
            head = meta[position] if position < len(meta) else 0xFF
            size = _INT_SIZES.get(head & 0xDF)  # major type 0 or 1, any length
            end = position + 1 + (0 if size is None else size)
            if size is None or end > len(meta):
                return None
            value = int.from_bytes(meta[position + 1 : end], "big") if size else head & 0x1F
            integers.append(~value if head & 0x20 else value)
            position, node = end, child

    def _learn(self, meta: bytes, record: Record) -> None:
        """Keep ``record`` as a template the second time the slow path decodes its layout.

        Only if its metadata is canonical pieces around integers; the first time, and
        after a failed try, nothing more is done (a stream of ever new layouts costs
        a key per record, not a template).
        """
        msg: Any = record.msg
        layout = _layout(msg)
        if layout is None:
            return
        key = (
            layout,
            record.entity_path,
            tuple(record.timepoint),
            record.timeless,
            not record.log_tick,
            not record.log_time_ns,
        )
        tried = self._seen.get(key)
        if tried is None:
            if len(self._seen) >= _MAX_SEEN:
                self._seen.clear()
            self._seen[key] = False
        if tried is not False:
            return
        self._seen[key] = True

        def place(array: np.ndarray[Any, Any]) -> ArraySpec:
            return ArraySpec(dtype=array.dtype.str, shape=tuple(array.shape), offset=0)

        msg_meta = _msg_meta(msg, place)
        cbor = CONVERTER.dumps(msg_meta, canonical=msg_meta.has_floats)
        template = _Template(cbor, msg.pixels.nbytes, record)
        shape = _Shape(record, template.slots)
        pieces = template.pieces
        integers = shape.integers(record)
        joined = [pieces[0]]
        for value, piece in zip(integers, pieces[1:], strict=True):
            joined += (_cbor_int(value), piece)
        if b"".join(joined) != meta:
            return
        if self._count >= MAX_TEMPLATES:
            self._root, self._count, self._seen = _Node(), 0, {key: True}
        node = self._root
        for piece in pieces[:-1]:
            child = node.links.get(piece)
            if child is None:
                child = node.links[piece] = _Node()
                if len(piece) not in node.widths:
                    node.widths.append(len(piece))
            node = child
        node.ends[pieces[-1]] = shape
        self._count += 1


def iter_records(buf: Buffer) -> Iterator[Record]:
    """Decode back-to-back records, skipping unknown kinds; damage raises ``DecodeError``."""
    return RecordDecoder().iter_records(buf)


def scan_records(buf: Buffer) -> Iterator[RecordSpan]:
    """Yield every frame, intact or not, resynchronising on the magic after damage.

    A damaged region yields one span with ``error`` set, covering the bytes up to the
    next intact record (or the end).
    """
    view = _bytes_view(buf)
    decoder = RecordDecoder()
    offset = 0
    while offset < len(view):
        try:
            span = _frame(view, offset)
            if span.kind in _LOG_KINDS:
                decoder._decode_frame(view, span)
        except DecodeError as error:
            resume = _next_intact(view, offset + 1)
            yield RecordSpan(offset, resume - offset, 0, error)
            offset = resume
        else:
            yield span
            offset += span.length
