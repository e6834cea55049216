"""Recordings as Arrow: the SPEC §5 columns, records to record batches and back.

Rules:
- one row per log record; columns in this order: ``entity_path`` (dictionary string),
  ``kind``, ``log_tick`` (uint64), ``log_time`` (timestamp[ns, UTC]), ``timeless``, one
  column per timeline (int64 for sequences, timestamp[ns] for time, null where a record
  lacks it; sorted by name), ``height``/``width``/``channels`` (int32), ``dtype``,
  ``color_model``, ``media_type``, ``meter``, ``draw_order``, ``pixels`` (large_binary: raw
  C-order little-endian bytes, or the JPEG), ``image`` (struct<bytes, path>: PNG or the JPEG,
  filled with ``images=True``), ``ext`` and ``annotation_context`` (JSON strings);
- a timeline named like a fixed column is written as ``timeline:<name>``; the schema
  metadata key ``rerun_core`` holds the schema version and maps every timeline to its
  kind and column;
- batches are cut by bytes, so memory stays bounded whatever the recording's size;
- ``from_arrow`` is the exact inverse: it rebuilds validated messages from the columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from rerun_core import (
    AnnotationContextMsg,
    AnnotationInfo,
    ClassDescription,
    ColorModel,
    DepthMsg,
    ExtensionMsg,
    ImageMsg,
    Message,
    Record,
    SegmentationMsg,
    TimeValue,
    format_entity_path,
    parse_entity_path,
)
from rerun_core.errors import InvalidArgumentError
from rerun_sinks._png_writer import encode_png

__all__ = [
    "BORROW_BYTES",
    "DEFAULT_BATCH_BYTES",
    "KINDS",
    "METADATA_KEY",
    "SCHEMA_VERSION",
    "arrow_schema",
    "from_arrow",
    "iter_arrow",
    "record_batches",
    "record_tables",
    "records_to_arrow",
    "schema_timelines",
    "timeline_columns",
    "timelines_of",
]

DEFAULT_BATCH_BYTES = 8 << 20
SCHEMA_VERSION = 1
"""Version of the columns below (docs/DATAFRAMES.md); bumped on any change to them."""
METADATA_KEY = b"rerun_core"
KINDS = ("image", "depth", "segmentation", "annotation_context", "extension")
_ROW_OVERHEAD = 64  # bytes per row for the fixed-width columns, for batch sizing
_TIMELINE_TYPES = {"sequence": pa.int64(), "time": pa.timestamp("ns")}
_IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
_HEAD = (
    ("entity_path", pa.dictionary(pa.int32(), pa.string())),
    ("kind", pa.string()),
    ("log_tick", pa.uint64()),
    ("log_time", pa.timestamp("ns", tz="UTC")),
    ("timeless", pa.bool_()),
)
_TAIL = (
    ("height", pa.int32()),
    ("width", pa.int32()),
    ("channels", pa.int32()),
    ("dtype", pa.string()),
    ("color_model", pa.string()),
    ("media_type", pa.string()),
    ("meter", pa.float64()),
    ("draw_order", pa.float64()),
    ("pixels", pa.large_binary()),
    ("image", _IMAGE_TYPE),
    ("ext", pa.string()),
    ("annotation_context", pa.string()),
)
_FIXED = dict(_HEAD + _TAIL)
_JPEG = "image/jpeg"
_BGR_ORDER = {ColorModel.BGR: [2, 1, 0], ColorModel.BGRA: [2, 1, 0, 3]}
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

Timelines = Mapping[str, str]


def timelines_of(records: Iterable[Record]) -> dict[str, str]:
    """Return timeline name -> kind over ``records`` (sorted by name).

    Raises ``InvalidArgumentError`` when one timeline name has both kinds.
    """
    kinds: dict[str, str] = {}
    for record in records:
        for name, time in record.timepoint.items():
            if kinds.setdefault(name, time.kind) != time.kind:
                _conflict(name, kinds[name], time.kind)
    return dict(sorted(kinds.items()))


def _conflict(name: str, declared: str, found: str) -> None:
    msg = (
        f"timeline {name!r} is a {declared} timeline but a record has it as {found}; "
        "one column cannot hold both. Rename one of the timelines."
    )
    raise InvalidArgumentError(msg, param="timelines")


def timeline_columns(timelines: Timelines) -> dict[str, str]:
    """Return timeline name -> column name: the name, or ``timeline:<name>`` on a clash."""
    _check_timelines(timelines)
    taken = set(_FIXED)
    columns: dict[str, str] = {}
    for name in sorted(timelines):
        column = name
        while column in taken:
            column = f"timeline:{column}"
        taken.add(column)
        columns[name] = column
    return columns


def _check_timelines(timelines: object) -> None:
    if not isinstance(timelines, Mapping) or not all(
        isinstance(name, str) and kind in _TIMELINE_TYPES for name, kind in timelines.items()
    ):
        msg = (
            "timelines must map timeline names to 'sequence' or 'time' "
            f"(e.g. RecordingFile.timelines); got {timelines!r}."
        )
        raise InvalidArgumentError(msg, param="timelines")


def arrow_schema(timelines: Timelines, *, huggingface: bool = False) -> pa.Schema:
    """Return the Arrow schema of a recording with ``timelines`` (SPEC §5).

    ``huggingface=True`` adds the ``huggingface`` metadata key, so HF ``datasets`` reads
    ``image`` as an ``Image`` feature.
    """
    columns = timeline_columns(timelines)
    fields = [
        *(pa.field(name, kind) for name, kind in _HEAD),
        *(pa.field(columns[name], _TIMELINE_TYPES[timelines[name]]) for name in columns),
        *(pa.field(name, kind) for name, kind in _TAIL),
    ]
    meta = {
        "version": SCHEMA_VERSION,
        "timelines": {
            name: {"kind": timelines[name], "column": column} for name, column in columns.items()
        },
    }
    metadata = {METADATA_KEY: json.dumps(meta).encode()}
    if huggingface:
        metadata[b"huggingface"] = json.dumps(_hf_features(fields)).encode()
    return pa.schema(fields, metadata=metadata)


def _hf_features(fields: list[pa.Field]) -> dict[str, Any]:
    """Return the ``datasets`` features of ``fields``: plain values, ``image`` an Image."""
    features: dict[str, Any] = {}
    for field in fields:
        if field.name == "image":
            features[field.name] = {"_type": "Image"}
            continue
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        dtype = "bool" if pa.types.is_boolean(kind) else str(kind)
        if pa.types.is_timestamp(kind):
            dtype = f"timestamp[ns, tz={kind.tz}]" if kind.tz else "timestamp[ns]"
        features[field.name] = {"dtype": dtype, "_type": "Value"}
    return {"info": {"features": features}}


# -- records to Arrow -------------------------------------------------------------------------


def records_to_arrow(
    records: Iterable[Record],
    *,
    timelines: Timelines,
    images: bool = False,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> pa.RecordBatchReader:
    """Stream ``records`` as Arrow record batches of about ``batch_bytes`` each.

    ``timelines`` (name -> ``"sequence"``/``"time"``) names the timeline columns, e.g.
    ``RecordingFile.timelines`` or ``timelines_of(records)``; ``images=True`` fills the
    ``image`` column. Records are read lazily, as the reader is consumed.
    """
    _check_flag(images, "images")
    schema = arrow_schema(timelines, huggingface=images)
    batches = record_batches(records, schema=schema, images=images, batch_bytes=batch_bytes)
    return pa.RecordBatchReader.from_batches(schema, batches)


def _check_flag(value: object, name: str) -> None:
    if not isinstance(value, bool):
        msg = f"{name} must be True or False; got {value!r}."
        raise InvalidArgumentError(msg, param=name)


def check_batch_bytes(value: object, name: str) -> int:
    """Return ``value`` if it is a positive int (a batch or row-group size in bytes)."""
    if type(value) is not int or value <= 0:
        msg = f"{name} must be a positive int (bytes), e.g. 32 << 20; got {value!r}."
        raise InvalidArgumentError(msg, param=name)
    return value


def record_batches(
    records: Iterable[Record],
    *,
    schema: pa.Schema,
    images: bool,
    batch_bytes: int,
    cut: Callable[[Record], object] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield batches of ``records`` cut at ``batch_bytes`` and wherever ``cut(record)`` changes."""
    builder = _BatchBuilder(schema, images=images)
    for _ in _filled(records, builder, batch_bytes, cut):
        yield builder.finish()


def record_tables(
    records: Iterable[Record],
    *,
    schema: pa.Schema,
    images: bool,
    batch_bytes: int,
    cut: Callable[[Record], object] | None = None,
) -> Iterator[pa.Table]:
    """Like :func:`record_batches`, as tables whose ``pixels`` column borrows large arrays.

    A record of at least ``BORROW_BYTES`` pixel bytes is a chunk of its own over the
    record's own array (for a ``RecordingFile``, the memory map): no copy. Smaller ones are
    copied together into shared chunks. For writers (Parquet) that take chunked columns.
    """
    builder = _BatchBuilder(schema, images=images, borrow=True)
    for _ in _filled(records, builder, batch_bytes, cut):
        yield builder.finish_table()


def _filled(
    records: Iterable[Record],
    builder: _BatchBuilder,
    batch_bytes: int,
    cut: Callable[[Record], object] | None,
) -> Iterator[None]:
    """Add ``records`` to ``builder``; yield whenever its rows make a group to finish."""
    check_batch_bytes(batch_bytes, "batch_bytes")
    size = 0
    last: object = None
    for record in records:
        if cut is not None:
            key = cut(record)
            if builder.rows and key != last:
                yield
                size = 0
            last = key
        size += builder.add(record)
        if size >= batch_bytes:
            yield
            size = 0
    if builder.rows:
        yield


BORROW_BYTES = 64 << 10
"""Pixel arrays this large are borrowed, not copied, by :func:`record_tables`."""


class _BatchBuilder:
    """Columns of one batch as Python lists, and the pixel arrays to join (or borrow)."""

    def __init__(self, schema: pa.Schema, *, images: bool, borrow: bool = False) -> None:
        self.schema = schema
        self.images = images
        self.borrow = borrow
        meta = json.loads(schema.metadata[METADATA_KEY])["timelines"]
        self.timelines = {name: (t["kind"], t["column"]) for name, t in meta.items()}
        self._reset()

    def _reset(self) -> None:
        self.rows = 0
        self.columns: dict[str, list[Any]] = {field.name: [] for field in self.schema}
        self.pixels: list[Any] = []  # the run of pixel arrays to copy into one chunk
        self.offsets = [0]
        self.chunks: list[pa.Array] = []  # finished chunks of the pixel column (borrow)

    def add(self, record: Record) -> int:
        """Append one record; return the bytes it adds to the batch."""
        columns = self.columns
        columns["entity_path"].append(format_entity_path(record.entity_path))
        columns["log_tick"].append(record.log_tick)
        columns["log_time"].append(record.log_time_ns)
        columns["timeless"].append(record.timeless)
        timepoint = record.timepoint
        for name, time in timepoint.items():
            kind, _ = self.timelines.get(name, (None, None))
            if kind != time.kind:
                _unknown_timeline(name, time.kind, kind)
        for name, (_, column) in self.timelines.items():
            value = timepoint.get(name)
            columns[column].append(None if value is None else value.value)
        row = _message_row(record.msg)
        for name, value in zip(_ROW_FIELDS, row, strict=True):
            columns[name].append(value)
        data = _pixel_bytes(record.msg)
        nbytes = 0 if data is None else data.nbytes if isinstance(data, np.ndarray) else len(data)
        if self.borrow and nbytes >= BORROW_BYTES:
            self._flush_run()
            self.chunks.append(_borrowed(data, nbytes))
        else:
            self.pixels.append(data)
            self.offsets.append(self.offsets[-1] + nbytes)
        image = _image_file(record.msg) if self.images else None
        columns["image"].append(None if image is None else {"bytes": image, "path": None})
        self.rows += 1
        text = len(row[-1] or "") + len(row[-2] or "")
        return _ROW_OVERHEAD + nbytes + len(image or b"") + text

    def _arrays(self) -> list[pa.Array]:
        """Every column but ``pixels`` (``None`` in its place) as one array each."""
        arrays: list[pa.Array] = []
        for field in self.schema:
            if field.name == "pixels":
                arrays.append(None)
            elif field.name == "entity_path":
                arrays.append(
                    pa.array(self.columns["entity_path"], pa.string()).dictionary_encode()
                )
            else:
                arrays.append(pa.array(self.columns[field.name], field.type))
        return arrays

    def finish(self) -> pa.RecordBatch:
        """Return the batch built so far (pixels copied into one buffer); start a new one."""
        arrays = self._arrays()
        arrays[self.schema.get_field_index("pixels")] = self._pixel_array()
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self._reset()
        return batch

    def finish_table(self) -> pa.Table:
        """Return the rows built so far as a table with a chunked ``pixels`` column."""
        self._flush_run()
        arrays: list[Any] = self._arrays()
        arrays[self.schema.get_field_index("pixels")] = pa.chunked_array(
            self.chunks, pa.large_binary()
        )
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        self._reset()
        return table

    def _flush_run(self) -> None:
        if len(self.pixels):
            self.chunks.append(self._pixel_array())
            self.pixels, self.offsets = [], [0]

    def _pixel_array(self) -> pa.Array:
        valid = [data is not None for data in self.pixels]
        mask = None if all(valid) else pa.array(valid, pa.bool_()).buffers()[1]
        offsets = np.asarray(self.offsets, dtype=np.int64)
        return pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(self.pixels), [mask, pa.py_buffer(offsets), self._pixel_data()]
        )

    def _pixel_data(self) -> pa.Buffer:
        """Copy every pixel buffer into one buffer of Arrow's pool (it reuses its pages)."""
        data = pa.allocate_buffer(self.offsets[-1])
        if not self.offsets[-1]:
            return data
        target = np.frombuffer(data, np.uint8)
        for start, end, item in zip(self.offsets, self.offsets[1:], self.pixels, strict=False):
            if item is not None:
                target[start:end] = np.frombuffer(item, np.uint8)
        return data


def _borrowed(data: Any, nbytes: int) -> pa.Array:
    """Return a one-row ``large_binary`` array over ``data``'s memory; it keeps ``data`` alive.

    Message arrays are C-contiguous, so their memory is their bytes in order.
    """
    offsets = pa.py_buffer(np.array([0, nbytes], np.int64))
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]
    )


_ROW_FIELDS = (
    "kind",
    "height",
    "width",
    "channels",
    "dtype",
    "color_model",
    "media_type",
    "meter",
    "draw_order",
    "ext",
    "annotation_context",
)
_Row = tuple[Any, ...]


def _unknown_timeline(name: str, kind: str, declared: str | None) -> None:
    if declared is None:
        msg = (
            f"a record is on timeline {name!r}, which is not among the given timelines; "
            "pass timelines=timelines_of(records) (or the file's timelines)."
        )
        raise InvalidArgumentError(msg, param="timelines")
    _conflict(name, declared, kind)


def _message_row(msg: Message) -> _Row:
    if isinstance(msg, ImageMsg):
        encoded = msg.pixels is None
        return (
            "image",
            msg.height,
            msg.width,
            msg.channels,
            "|u1" if encoded else msg.pixels.dtype.str,  # type: ignore[union-attr]
            msg.color_model.value,
            _JPEG if encoded else None,
            None,
            msg.draw_order,
            _components_json(msg.ext),
            None,
        )
    if isinstance(msg, DepthMsg | SegmentationMsg):
        height, width = msg.pixels.shape
        return (
            "depth" if isinstance(msg, DepthMsg) else "segmentation",
            height,
            width,
            1,
            msg.pixels.dtype.str,
            None,
            None,
            msg.meter if isinstance(msg, DepthMsg) else None,
            msg.draw_order,
            _components_json(msg.ext),
            None,
        )
    if isinstance(msg, AnnotationContextMsg):
        classes = _dumps([_class_json(c) for c in msg.class_descriptions])
        return ("annotation_context", *(None,) * 9, classes)
    ext = _components_json(msg.components, msg.identifiers)
    return ("extension", *(None,) * 8, ext, None)


def _pixel_bytes(msg: Message) -> Any:
    if isinstance(msg, ImageMsg):
        return msg.encoded if msg.pixels is None else msg.pixels
    if isinstance(msg, DepthMsg | SegmentationMsg):
        return msg.pixels
    return None


def _image_file(msg: Message) -> bytes | bytearray | None:
    """Return a PNG (8- or 16-bit, lossless) or the original JPEG; ``None`` for floats."""
    if isinstance(msg, ImageMsg) and msg.pixels is None:
        return msg.encoded
    pixels = _pixel_bytes(msg)
    if pixels is None or pixels.dtype.kind != "u":
        return None
    if isinstance(msg, ImageMsg):
        if msg.color_model in _BGR_ORDER:
            pixels = pixels[..., _BGR_ORDER[msg.color_model]]
        if msg.channels == 1:
            pixels = pixels[..., 0]
    return encode_png(pixels, level=1)


# -- JSON for extension components and annotation contexts ------------------------------------

_JSON: dict[str, Any] = {"separators": (",", ":"), "allow_nan": False}


def _dumps(value: Any) -> str:
    """JSON text, readable where it can be: escaped only if it holds a lone surrogate.

    A ``<U`` array may hold one; UTF-8, and so an Arrow string, cannot.
    """
    text = json.dumps(value, ensure_ascii=False, **_JSON)
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **_JSON)
    return text


def _components_json(
    components: Mapping[str, np.ndarray[Any, Any]], identifiers: tuple[int, ...] | None = None
) -> str | None:
    """``{"ext.name": {"dtype": "<f8", "values": [...]}, "identifiers": [...]}`` or ``None``."""
    if not components and identifiers is None:
        return None
    result: dict[str, Any] = {
        name: {"dtype": components[name].dtype.str, "values": _json_values(components[name])}
        for name in sorted(components)
    }
    if identifiers is not None:
        result["identifiers"] = list(identifiers)
    return _dumps(result)


def _json_values(array: np.ndarray[Any, Any]) -> list[Any]:
    values: list[Any] = array.tolist()
    if array.dtype.kind == "f":
        return [v if math.isfinite(v) else _non_finite_name(v) for v in values]
    return values


def _non_finite_name(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _info_json(info: AnnotationInfo) -> dict[str, Any]:
    return {"id": info.id, "label": info.label, "color": info.color}


def _class_json(description: ClassDescription) -> dict[str, Any]:
    return {
        **_info_json(description.info),
        "keypoints": [_info_json(k) for k in description.keypoint_annotations],
        "connections": description.keypoint_connections,
    }


def _components_from_json(text: str | None) -> tuple[dict[str, Any], tuple[int, ...] | None]:
    if text is None:
        return {}, None
    data = json.loads(text)
    identifiers = data.pop("identifiers", None)
    components = {}
    for name, item in data.items():
        dtype = np.dtype(item["dtype"])
        values = item["values"]
        if dtype.kind == "f":
            values = [_NON_FINITE.get(v, v) if isinstance(v, str) else v for v in values]
        components[name] = np.array(values, dtype=dtype)
    return components, None if identifiers is None else tuple(identifiers)


def _info_from_json(item: Mapping[str, Any]) -> AnnotationInfo:
    color = item["color"]
    return AnnotationInfo(item["id"], item["label"], None if color is None else tuple(color))


def _classes_from_json(text: str) -> list[ClassDescription]:
    return [
        ClassDescription(
            info=_info_from_json(item),
            keypoint_annotations=[_info_from_json(k) for k in item["keypoints"]],
            keypoint_connections=[tuple(pair) for pair in item["connections"]],
        )
        for item in json.loads(text)
    ]


# -- Arrow to records -------------------------------------------------------------------------


def from_arrow(data: Any) -> list[Record]:
    """Rebuild the records of a table, batch or reader written by ``records_to_arrow``.

    Accepts a ``pyarrow.Table``, ``RecordBatch``, ``RecordBatchReader`` or any object with
    ``__arrow_c_stream__``. Raises ``InvalidArgumentError`` on missing or unknown columns
    and on rows that do not describe a valid record.
    """
    return list(iter_arrow(data))


def iter_arrow(data: Any) -> Iterator[Record]:
    """Like :func:`from_arrow`, one batch at a time; the columns are checked before it returns.

    A record's raw pixels are a view of its batch's buffer.
    """
    reader = _reader(data)
    return _records(reader, schema_timelines(reader.schema))


def _records(
    batches: Iterable[pa.RecordBatch], timelines: Mapping[str, tuple[str, str]]
) -> Iterator[Record]:
    rows = 0
    for batch in batches:
        yield from _batch_records(batch, timelines, first_row=rows)
        rows += batch.num_rows


def _reader(data: Any) -> pa.RecordBatchReader:
    if isinstance(data, pa.RecordBatchReader):
        return data
    if isinstance(data, pa.Table | pa.RecordBatch):
        return pa.RecordBatchReader.from_batches(data.schema, data.to_batches())
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data)
    msg = (
        "from_arrow takes a pyarrow Table, RecordBatch, RecordBatchReader or an object with "
        f"__arrow_c_stream__ (e.g. RecordingFile.to_arrow()); got {type(data).__name__}."
    )
    raise InvalidArgumentError(msg, param="table")


def schema_timelines(schema: pa.Schema) -> dict[str, tuple[str, str]]:
    """Timeline name -> (kind, column), from our metadata or else from the column types.

    Raises ``InvalidArgumentError`` when ``schema`` is not a recording table's.
    """
    names = schema.names
    missing = [name for name in _FIXED if name not in names]
    extra = [name for name in names if name not in _FIXED]
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is not None:
        meta = json.loads(raw)["timelines"]
        timelines = {name: (t["kind"], t["column"]) for name, t in meta.items()}
        columns = {column for _, column in timelines.values()}
        missing += [column for column in columns if column not in names]
        unknown = [name for name in extra if name not in columns]
    else:
        timelines, unknown = {}, []
        for name in extra:
            kind = schema.field(name).type
            if pa.types.is_integer(kind):
                timelines[name] = ("sequence", name)
            elif pa.types.is_timestamp(kind):
                timelines[name] = ("time", name)
            else:
                unknown.append(name)
    if missing or unknown:
        msg = (
            f"not a recording table: missing columns {missing}, unknown columns {unknown}. "
            "from_arrow reads what to_arrow/to_parquet wrote; drop added columns first."
        )
        raise InvalidArgumentError(msg, param="table")
    return timelines


def _column(batch: pa.RecordBatch, name: str, kind: pa.DataType) -> pa.Array:
    array = batch.column(name)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    try:
        return array.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        msg = f"column {name!r} has type {array.type}, which is not {kind}: {error}"
        raise InvalidArgumentError(msg, param="table") from None


def _batch_records(
    batch: pa.RecordBatch, timelines: Mapping[str, tuple[str, str]], *, first_row: int
) -> Iterator[Record]:
    plain = {
        name: _column(batch, name, kind).to_pylist()
        for name, kind in _FIXED.items()
        if name not in ("pixels", "image", "log_time")
    }
    plain["log_time"] = _column(batch, "log_time", pa.int64()).to_pylist()
    times = {
        name: (kind, _column(batch, column, pa.int64()).to_pylist())
        for name, (kind, column) in timelines.items()
    }
    pixels = _column(batch, "pixels", pa.large_binary())
    for row in range(batch.num_rows):
        values = {name: column[row] for name, column in plain.items()}
        timepoint = {
            name: TimeValue(kind, column[row])
            for name, (kind, column) in times.items()
            if column[row] is not None
        }
        data = pixels[row].as_buffer() if pixels[row].is_valid else None
        try:
            yield Record(
                entity_path=parse_entity_path(values["entity_path"]),
                msg=_message(values, data),
                timepoint=timepoint,
                timeless=values["timeless"],
                log_tick=values["log_tick"],
                log_time_ns=values["log_time"],
            )
        except (InvalidArgumentError, ValueError, TypeError, KeyError) as error:
            msg = f"row {first_row + row} does not describe a valid record: {error}"
            raise InvalidArgumentError(msg, param="table") from error


def _message(row: Mapping[str, Any], data: pa.Buffer | None) -> Message:
    kind = row["kind"]
    if kind in ("image", "depth", "segmentation"):
        ext, _ = _components_from_json(row["ext"])
        if data is None:
            msg = f"a {kind} row needs pixels; got null."
            raise ValueError(msg)
        if kind == "image" and row["media_type"] == _JPEG:
            return ImageMsg(
                height=row["height"],
                width=row["width"],
                channels=row["channels"],
                color_model=row["color_model"],
                encoded=data.to_pybytes(),
                media_type=row["media_type"],
                draw_order=row["draw_order"],
                ext=ext,
            )
        if row["media_type"] is not None:
            msg = f"media_type must be {_JPEG!r} or null; got {row['media_type']!r}."
            raise ValueError(msg)
        shape = (row["height"], row["width"], row["channels"])
        pixels = np.frombuffer(data, dtype=np.dtype(row["dtype"])).reshape(shape)
        if kind == "image":
            return ImageMsg(
                height=row["height"],
                width=row["width"],
                channels=row["channels"],
                color_model=row["color_model"],
                pixels=pixels,
                draw_order=row["draw_order"],
                ext=ext,
            )
        if row["channels"] != 1:
            msg = f"{kind} rows have channels 1; got {row['channels']}."
            raise ValueError(msg)
        if kind == "depth":
            return DepthMsg(
                pixels=pixels[..., 0], meter=row["meter"], draw_order=row["draw_order"], ext=ext
            )
        return SegmentationMsg(pixels=pixels[..., 0], draw_order=row["draw_order"], ext=ext)
    if kind == "annotation_context":
        return AnnotationContextMsg(
            class_descriptions=_classes_from_json(row["annotation_context"])
        )
    if kind == "extension":
        components, identifiers = _components_from_json(row["ext"])
        return ExtensionMsg(components=components, identifiers=identifiers)
    msg = f"kind must be one of {', '.join(KINDS)}; got {kind!r}."
    raise ValueError(msg)
