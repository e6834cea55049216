"""``read_rrd_records``: the images of a Rerun ``.rrd`` file as records, through rerun-sdk.

Rules:
- needs the ``[rerun]`` extra (rerun-sdk's ``rerun.chunk.RrdReader``); without it the call
  raises ``ImportError`` with the install command;
- reads the file's first recording, chunk by chunk (rerun-sdk's lazy stream, in its
  order; memory holds one chunk), each chunk row by row; a row holding an ``Image``,
  ``EncodedImage``, ``DepthImage``, ``SegmentationImage`` or ``AnnotationContext`` (first
  instance of the batch) is one record at the chunk's entity path; rows and components
  of other archetypes are skipped;
- every index column of the row is a timeline: ``int64`` -> ``sequence``, ``timestamp`` and
  ``duration`` (ns) -> ``time``; ``log_time`` (rerun's own timeline) is also the record's
  ``log_time_ns`` (0 without it); ``log_tick`` counts the records yielded, from 0; static
  chunks give timeless records;
- pixels are checked by the core's builders; a row the core cannot hold (a pixel format,
  an unsupported dtype, a missing format) raises :class:`~rerun_sinks.errors.ForeignDataError`
  naming the entity and the row.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from rerun_core import (
    AnnotationInfo,
    ClassDescription,
    Message,
    Record,
    RerunCoreError,
    TimeValue,
    make_annotation_context_msg,
    make_depth_msg,
    make_encoded_image_msg,
    make_image_msg,
    make_record,
    make_segmentation_msg,
)
from rerun_sinks.errors import ForeignDataError

__all__ = ["RrdRecords", "read_rrd_records"]

PathLike = str | os.PathLike[str]

_INSTALL_HINT = "pip install 'rerun-core[rerun]'"
# rerun.datatypes.ChannelDatatype and ColorModel values, as stored in ``*:format``.
_DTYPES = {6: "u1", 7: "i1", 8: "<u2", 9: "<i2", 10: "<u4", 11: "<i4", 12: "<u8", 13: "<i8"}
_DTYPES |= {33: "<f2", 34: "<f4", 35: "<f8"}
_COLOR_MODELS = {1: ("L", 1), 2: ("RGB", 3), 3: ("RGBA", 4), 4: ("BGR", 3), 5: ("BGRA", 4)}
_INDEX = b"index"

Build = Callable[[Any, int], Message | None]


def read_rrd_records(path: PathLike) -> Iterator[Record]:
    """Yield the image, depth, segmentation and annotation records of an ``.rrd`` file.

    Reads chunk by chunk (memory holds one chunk, not the file). Raises ``ImportError``
    (with the install command) at the call when rerun-sdk is missing, and rerun-sdk's own
    error for a file it cannot read.
    """
    stream = _chunk_stream(path)
    return (record for record, _ in _located(stream))


def _chunk_stream(path: PathLike) -> Any:
    """Return rerun-sdk's lazy stream over the chunks of the file's first recording."""
    try:
        from rerun.chunk import RrdReader  # noqa: PLC0415
    except ImportError as err:
        msg = (
            f"read_rrd_records needs the optional 'rerun-sdk' package; install it: {_INSTALL_HINT}"
        )
        raise ImportError(msg) from err
    return RrdReader(os.fspath(path)).stream()


class _Chunk:
    """One chunk as rows are read from it: entity, Arrow batch, builders, index columns."""

    __slots__ = ("batch", "builders", "entity", "static", "times")

    def __init__(self, chunk: Any) -> None:
        self.entity = str(chunk.entity_path)
        self.static = bool(chunk.is_static)
        self.batch = chunk.to_record_batch()
        names = self.batch.schema.names
        self.builders = [build for column, build in _BUILDERS if column in names]
        self.times = _index_columns(self.batch) if self.builders else []

    def record(self, row: int, builder: int, tick: int) -> Record | None:
        """Return the record of ``builders[builder]`` at ``row``, if the row has one."""
        msg = _build(self.builders[builder], self.batch, row, self.entity)
        if msg is None:
            return None
        timepoint = {
            name: TimeValue(kind, values[row])
            for name, kind, values in self.times
            if values[row] is not None
        }
        return make_record(
            self.entity,
            msg,
            timepoint=timepoint or None,
            timeless=self.static,
            log_tick=tick,
            log_time_ns=_log_time(timepoint),
        )


def _located(chunks: Iterable[Any]) -> Iterator[tuple[Record, tuple[int, int, int, int]]]:
    """Yield every record and where it is: (chunk number, row, builder, tick)."""
    tick = 0
    for number, chunk in enumerate(chunks):
        rows = _Chunk(chunk)
        for row in range(rows.batch.num_rows if rows.builders else 0):
            for builder in range(len(rows.builders)):
                record = rows.record(row, builder, tick)
                if record is not None:
                    yield record, (number, row, builder, tick)
                    tick += 1


class RrdRecords:
    """The records of an ``.rrd`` file by position (``open_recording``).

    One pass over rerun-sdk's chunk stream builds the catalog and keeps (chunk number,
    row, builder, tick) per record. rerun-sdk 0.41 offers no random access to one chunk
    (``LazyStore`` only streams), so a record is read again through a forward cursor
    over a fresh stream: reads in file order (iteration, queries) make one more pass;
    going backwards starts a new pass. Memory holds one chunk, never the file.
    """

    def __init__(self, path: PathLike) -> None:
        """Scan the file at ``path``."""
        from rerun_core.catalog import CatalogBuilder  # noqa: PLC0415

        self._path = path
        builder = CatalogBuilder()
        rows: list[int] = []
        for position, (record, where) in enumerate(_located(_chunk_stream(path))):
            builder.add(position, 0, record)
            rows.extend(where)
        self.damaged = False  # rerun-sdk raises on damage rather than skipping it
        self.catalog = builder.build()
        self._rows = np.array(rows, np.int64).reshape(-1, 4)
        self._cursor: tuple[Iterator[Any], int, _Chunk | None] | None = None
        self._lock = threading.Lock()

    def record(self, position: int) -> Record:
        """Return the record of catalog row ``position`` (thread-safe)."""
        number, row, builder, tick = self._rows[position].tolist()
        with self._lock:
            chunk = self._chunk(number)
        record = chunk.record(row, builder, tick)
        if record is None:
            msg = f"{os.fspath(self._path)} changed since it was opened: record {position} is gone"
            raise ForeignDataError(msg)
        return record

    def _chunk(self, number: int) -> _Chunk:
        cursor = self._cursor
        if cursor is None or cursor[1] > number:
            cursor = (iter(_chunk_stream(self._path)), -1, None)
        chunks, at, current = cursor
        while at < number:
            chunk = next(chunks, None)
            if chunk is None:
                msg = f"{os.fspath(self._path)} changed since it was opened: chunk {number} is gone"
                raise ForeignDataError(msg)
            at += 1
            current = _Chunk(chunk) if at == number else None
        assert current is not None
        self._cursor = (chunks, at, current)
        return current

    def close(self) -> None:
        """Drop the cursor."""
        self._cursor = None


def _build(build: Build, batch: Any, row: int, entity: str) -> Message | None:
    try:
        return build(batch, row)
    except (RerunCoreError, KeyError, ValueError) as err:
        msg = f"{entity} row {row}: rerun_core cannot hold this {build.__name__[1:]}: {err}"
        raise ForeignDataError(msg) from err


def _index_columns(batch: Any) -> list[tuple[str, str, list[int | None]]]:
    """Return ``(timeline, kind, int values per row)`` for every index column."""
    columns = []
    for field in batch.schema:
        if (field.metadata or {}).get(b"rerun:kind") != _INDEX:
            continue
        kind = "sequence" if str(field.type) == "int64" else "time"
        values = batch.column(field.name).cast("int64").to_pylist()
        columns.append((field.name, kind, values))
    return columns


def _log_time(timepoint: dict[str, TimeValue]) -> int:
    time = timepoint.get("log_time")
    return time.value if time is not None and time.kind == "time" else 0


def _first(batch: Any, column: str, row: int) -> Any:
    """Return the first instance of ``column`` in ``row`` as a Python value, or ``None``."""
    if column not in batch.schema.names:
        return None
    values = batch.column(column)[row].as_py()
    return values[0] if values else None


def _blob(batch: Any, column: str, row: int) -> np.ndarray[Any, Any] | None:
    """Return the first blob (``list<list<uint8>>``) of ``row`` as a uint8 view, or ``None``."""
    outer = batch.column(column)
    if not outer.is_valid()[row].as_py():
        return None
    start, stop = outer.offsets[row].as_py(), outer.offsets[row + 1].as_py()
    if start == stop:
        return None
    inner = outer.values
    first, last = inner.offsets[start].as_py(), inner.offsets[start + 1].as_py()
    data: np.ndarray[Any, Any] = inner.values.slice(first, last - first).to_numpy(
        zero_copy_only=False
    )
    return data


def _pixels(batch: Any, archetype: str, row: int) -> tuple[np.ndarray[Any, Any], str] | None:
    """Return the pixels (H x W or H x W x C) and colour model name of ``row``."""
    data = _blob(batch, f"{archetype}:buffer", row)
    if data is None:
        return None
    fmt = _first(batch, f"{archetype}:format", row)
    if fmt is None:
        msg = f"the {archetype} has a buffer but no format"
        raise ValueError(msg)
    if fmt["pixel_format"] is not None:
        msg = f"pixel format {fmt['pixel_format']} (YUV, NV12, ...) is not supported"
        raise ValueError(msg)
    dtype = np.dtype(_DTYPES[fmt["channel_datatype"]])
    model, channels = _COLOR_MODELS[fmt["color_model"] or 1]
    shape = (fmt["height"], fmt["width"], channels)
    if data.nbytes != shape[0] * shape[1] * channels * dtype.itemsize:
        msg = f"buffer of {data.nbytes} bytes does not hold {shape} {dtype.name} pixels"
        raise ValueError(msg)
    pixels = data.view(dtype).reshape(shape)
    return (pixels if channels > 1 else pixels[..., 0]), model


def _image(batch: Any, row: int) -> Message | None:
    found = _pixels(batch, "Image", row)
    if found is None:
        return None
    pixels, model = found
    draw_order = _first(batch, "Image:draw_order", row)
    return make_image_msg(pixels, color_model=model, draw_order=draw_order)


def _encoded_image(batch: Any, row: int) -> Message | None:
    data = _blob(batch, "EncodedImage:blob", row)
    if data is None:
        return None
    return make_encoded_image_msg(
        data.tobytes(),
        media_type=_first(batch, "EncodedImage:media_type", row),
        draw_order=_first(batch, "EncodedImage:draw_order", row),
    )


def _depth_image(batch: Any, row: int) -> Message | None:
    found = _pixels(batch, "DepthImage", row)
    if found is None:
        return None
    return make_depth_msg(
        found[0],
        meter=_first(batch, "DepthImage:meter", row),
        draw_order=_first(batch, "DepthImage:draw_order", row),
    )


def _segmentation_image(batch: Any, row: int) -> Message | None:
    found = _pixels(batch, "SegmentationImage", row)
    if found is None:
        return None
    draw_order = _first(batch, "SegmentationImage:draw_order", row)
    return make_segmentation_msg(found[0], draw_order=draw_order)


def _annotation_context(batch: Any, row: int) -> Message | None:
    classes = _first(batch, "AnnotationContext:context", row)
    if classes is None:
        return None
    return make_annotation_context_msg(
        [
            ClassDescription(
                info=_info(item["class_description"]["info"]),
                keypoint_annotations=[
                    _info(k) for k in item["class_description"]["keypoint_annotations"]
                ],
                keypoint_connections=[
                    (c["keypoint0"], c["keypoint1"])
                    for c in item["class_description"]["keypoint_connections"]
                ],
            )
            for item in classes
        ]
    )


def _info(info: dict[str, Any]) -> AnnotationInfo:
    color = info["color"]
    rgba = None if color is None else tuple(int(b) for b in color.to_bytes(4, "big"))
    return AnnotationInfo(info["id"], info["label"], rgba)


_BUILDERS: tuple[tuple[str, Build], ...] = (
    ("Image:buffer", _image),
    ("EncodedImage:blob", _encoded_image),
    ("DepthImage:buffer", _depth_image),
    ("SegmentationImage:buffer", _segmentation_image),
    ("AnnotationContext:context", _annotation_context),
)
