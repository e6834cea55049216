"""``McapSink``: records as Foxglove images in an MCAP file, plus a lossless sidecar.

Rules:
- needs the ``[mcap]`` extra (imported when a sink is created); without it, creating a
  sink raises ``ImportError`` with the install command;
- messages are JSON (``json`` message encoding) under Foxglove's published
  ``foxglove.RawImage`` / ``foxglove.CompressedImage`` JSON schemas (``jsonschema``),
  ``data`` base64; topic ``/`` + entity path, ``frame_id`` the entity path;
- raw images: uint8 ``mono8``/``rgb8``/``rgba8``/``bgr8``/``bgra8``; uint16 ``mono16``/
  ``16UC3``/``16UC4``; float16/32/64 narrowed or widened to float32 ``32FC1``/``32FC3``/
  ``32FC4``; channels are never swizzled, the channel's ``color_model`` metadata says
  their order; JPEG: ``CompressedImage`` format ``jpeg``;
- depth: integers as ``16UC1`` (uint8 widened), floats as ``32FC1`` in metres
  (``float32(float64(d) / effective_meter)``); the channel's ``meter`` metadata is the
  units per metre of the published values; segmentation: ``mono8`` / ``mono16``;
- every record, also annotation contexts and extension messages (which have no Foxglove
  form), goes to the sidecar channel ``<topic>/rerun_core`` as exactly its
  ``encode_record`` bytes (message encoding ``rerun-core-rrc``), so
  :func:`read_mcap_records` gets every record back unchanged;
- ``log_time`` = ``publish_time`` = the record's ``log_time_ns`` (negative clamped to
  0), except timeless records, logged at 0 so time-ordered readers show them first;
  ``sequence`` = ``log_tick`` mod 2**32;
- a file given by path is owned and closed; a given stream (seekable or not, raw or
  buffered) is finished on ``close()``, never closed, and MCAP offsets count from the
  sink's first byte; thread-safe (one lock per sink); ``write``/``flush`` after ``close`` raise
  :class:`SinkClosedError`.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Final, Literal, Protocol, cast

import numpy as np

from rerun_core import (
    ColorModel,
    DepthMsg,
    ImageMsg,
    Record,
    SegmentationMsg,
    decode_record,
    encode_record,
    format_entity_path,
)
from rerun_sinks._sinks import Sink
from rerun_sinks.errors import SinkClosedError

if TYPE_CHECKING:
    from mcap.reader import McapReader

__all__ = [
    "COMPRESSED_IMAGE_SCHEMA",
    "RAW_IMAGE_SCHEMA",
    "SIDECAR_ENCODING",
    "SIDECAR_SCHEMA",
    "McapSink",
    "read_mcap_records",
]

PathLike = str | os.PathLike[str]
Compression = Literal["zstd", "lz4", "none"]

SIDECAR_ENCODING: Final = "rerun-core-rrc"
"""Message encoding of the sidecar channels: one ``encode_record`` buffer per message."""
SIDECAR_SCHEMA: Final = "rerun_core.Record"
"""Schema name of the sidecar channels (schema encoding ``""``: no schema data)."""

_INSTALL_HINT = "pip install 'rerun-core[mcap]'"
_COMPRESSIONS = ("zstd", "lz4", "none")
_SEQUENCE_MOD = 2**32
_NS = 1_000_000_000
_UINT8_ENCODINGS: Mapping[ColorModel, str] = MappingProxyType(
    {
        ColorModel.L: "mono8",
        ColorModel.RGB: "rgb8",
        ColorModel.RGBA: "rgba8",
        ColorModel.BGR: "bgr8",
        ColorModel.BGRA: "bgra8",
    }
)
_UINT16_ENCODINGS: Mapping[int, str] = MappingProxyType({1: "mono16", 3: "16UC3", 4: "16UC4"})
_FLOAT_ENCODINGS: Mapping[int, str] = MappingProxyType({1: "32FC1", 3: "32FC3", 4: "32FC4"})
_FLOAT32 = np.dtype("<f4")
_UINT16 = np.dtype("<u2")

Metadata = tuple[tuple[str, str], ...]


class _Writer(Protocol):
    """The part of ``mcap.writer.Writer`` the sink uses, with precise types."""

    def start(self, profile: str, library: str) -> None: ...
    def register_schema(self, name: str, encoding: str, data: bytes) -> int: ...
    def register_channel(
        self, topic: str, message_encoding: str, schema_id: int, metadata: dict[str, str]
    ) -> int: ...
    def add_message(
        self, channel_id: int, log_time: int, data: bytes, publish_time: int, sequence: int
    ) -> None: ...
    def finish(self) -> None: ...


class McapSink(Sink):
    """Writes records to an MCAP file as Foxglove images plus a lossless sidecar."""

    def __init__(self, target: PathLike | BinaryIO, *, compression: Compression = "zstd") -> None:
        """Create or truncate the ``.mcap`` file at ``target``, or write to a binary stream.

        ``compression`` is the chunk compression: ``"zstd"`` (default), ``"lz4"`` or
        ``"none"``.
        """
        new_writer = _writer_factory(compression)
        self._lock = threading.Lock()
        self._closed = False
        self._schemas: dict[str, int] = {}
        self._channels: dict[tuple[str, str, Metadata], int] = {}
        self._owned: BinaryIO | None = None
        if isinstance(target, str | os.PathLike):
            self.path: str | None = os.fspath(target)
            self._owned = cast(BinaryIO, open(self.path, "wb"))  # noqa: SIM115
            self._output = _Output(self._owned)
        else:
            self.path = None
            self._output = _Output(_binary_stream(target))
        try:
            self._writer = new_writer(self._output)
            self._writer.start(profile="", library="rerun-core")
        except BaseException:
            if self._owned is not None:
                self._owned.close()
            raise

    def write(self, record: Record) -> None:
        """Add ``record``'s Foxglove message (if it has one) and its sidecar message."""
        image = _foxglove_message(record)
        sidecar = encode_record(record)
        topic = _entity_topic(record.entity_path)
        log_time = 0 if record.timeless else max(record.log_time_ns, 0)
        publish_time = max(record.log_time_ns, 0)
        sequence = record.log_tick % _SEQUENCE_MOD
        with self._lock:
            self._check_open()
            if image is not None:
                schema, metadata, message = image
                channel = self._channel(topic, schema, "json", metadata)
                self._writer.add_message(channel, log_time, message, publish_time, sequence)
            channel = self._channel(_sidecar_topic(topic), SIDECAR_SCHEMA, SIDECAR_ENCODING, ())
            self._writer.add_message(channel, log_time, sidecar, publish_time, sequence)

    def flush(self) -> None:
        """Flush the bytes handed to the file so far.

        Messages of the chunk being built reach the file when the chunk is full or at
        ``close()``; indexed MCAP readers need the summary that ``close()`` writes.
        """
        with self._lock:
            self._check_open()
            self._output.flush()

    def close(self) -> None:
        """Write the MCAP summary and footer; close the file if the sink opened it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._writer.finish()  # also flushes
            finally:
                if self._owned is not None:
                    self._owned.close()

    def _channel(self, topic: str, schema: str, encoding: str, metadata: Metadata) -> int:
        key = (topic, schema, metadata)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._writer.register_channel(
                topic, encoding, self._schema(schema), dict(metadata)
            )
            self._channels[key] = channel
        return channel

    def _schema(self, name: str) -> int:
        schema = self._schemas.get(name)
        if schema is None:
            if name == SIDECAR_SCHEMA:
                schema = self._writer.register_schema(name, "", b"")
            else:
                schema = self._writer.register_schema(name, "jsonschema", _SCHEMA_TEXT[name])
            self._schemas[name] = schema
        return schema

    def _check_open(self) -> None:
        if self._closed:
            target = self.path if self.path is not None else "stream"
            msg = f"McapSink({target!r}) is closed; it accepts no more records. Open a new one."
            raise SinkClosedError(msg)


def read_mcap_records(source: PathLike | BinaryIO) -> Iterator[Record]:
    """Iterate over the records stored in the sidecar channels of a finished MCAP.

    ``source`` is a path or a seekable binary stream; records come in file order (the
    logging order). Messages of other channels are skipped; a damaged sidecar message
    raises ``rerun_core.DecodeError``.
    """
    try:
        from mcap.reader import make_reader  # noqa: PLC0415
    except ImportError as err:
        msg = f"read_mcap_records needs the optional 'mcap' package; install it: {_INSTALL_HINT}"
        raise ImportError(msg) from err
    return _sidecar_records(make_reader, source)


def _sidecar_records(
    make_reader: Callable[[IO[bytes]], McapReader], source: PathLike | BinaryIO
) -> Iterator[Record]:
    with contextlib.ExitStack() as stack:
        if isinstance(source, str | os.PathLike):
            stream: IO[bytes] = stack.enter_context(open(source, "rb"))
        else:
            stream = cast(IO[bytes], source)
        for _schema, channel, message in make_reader(stream).iter_messages(log_time_order=False):
            if channel.message_encoding == SIDECAR_ENCODING:
                yield decode_record(message.data)


def _entity_topic(entity_path: tuple[str, ...]) -> str:
    """Return the MCAP topic of an entity path: ``/`` + path (``/`` for the root)."""
    return "/" + "/".join(entity_path)


def _sidecar_topic(topic: str) -> str:
    """Return the sidecar topic of ``topic``: ``<topic>/rerun_core``."""
    return topic.rstrip("/") + "/rerun_core"


def _foxglove_message(record: Record) -> tuple[str, Metadata, bytes] | None:
    """Return ``(schema name, channel metadata, JSON message bytes)`` for ``record``.

    ``None`` for messages without a Foxglove form (annotation contexts, extensions).
    """
    msg = record.msg
    frame_id = format_entity_path(record.entity_path)
    sec, nsec = divmod(max(record.log_time_ns, 0), _NS)
    head: dict[str, Any] = {"timestamp": {"sec": sec, "nsec": nsec}, "frame_id": frame_id}
    if isinstance(msg, ImageMsg):
        model = (("kind", "image"), ("color_model", msg.color_model.value))
        if msg.pixels is None:  # encoded images are always JPEG (PNG is decoded to pixels)
            message = _json({**head, "format": "jpeg"}, cast(bytes, msg.encoded))
            return "foxglove.CompressedImage", model, message
        encoding, pixels = _image_pixels(msg.pixels, msg.color_model)
        return "foxglove.RawImage", model, _raw_image(head, encoding, pixels)
    if isinstance(msg, DepthMsg):
        encoding, pixels, meter = _depth_pixels(msg)
        metadata = (("kind", "depth"), ("meter", repr(meter)))
        return "foxglove.RawImage", metadata, _raw_image(head, encoding, pixels)
    if isinstance(msg, SegmentationMsg):
        encoding = "mono8" if msg.pixels.dtype.itemsize == 1 else "mono16"
        return (
            "foxglove.RawImage",
            (("kind", "segmentation"),),
            _raw_image(head, encoding, msg.pixels),
        )
    return None


def _image_pixels(
    pixels: np.ndarray[Any, Any], color_model: ColorModel
) -> tuple[str, np.ndarray[Any, Any]]:
    if pixels.dtype.kind == "f":
        return _FLOAT_ENCODINGS[pixels.shape[2]], pixels.astype(_FLOAT32, copy=False)
    if pixels.dtype.itemsize == 2:
        return _UINT16_ENCODINGS[pixels.shape[2]], pixels
    return _UINT8_ENCODINGS[color_model], pixels


def _depth_pixels(msg: DepthMsg) -> tuple[str, np.ndarray[Any, Any], float]:
    pixels, meter = msg.pixels, msg.effective_meter
    if pixels.dtype.kind != "f":
        return "16UC1", pixels.astype(_UINT16, copy=False), meter
    if pixels.dtype == _FLOAT32 and meter == 1.0:
        return "32FC1", pixels, 1.0
    metres = np.divide(pixels, meter, dtype=np.float64).astype(_FLOAT32)
    return "32FC1", metres, 1.0


def _raw_image(head: dict[str, Any], encoding: str, pixels: np.ndarray[Any, Any]) -> bytes:
    height, width = pixels.shape[:2]
    fields = {"width": width, "height": height, "encoding": encoding}
    return _json({**head, **fields, "step": pixels.nbytes // height}, pixels)


def _json(fields: dict[str, Any], data: bytes | np.ndarray[Any, Any]) -> bytes:
    """Return the JSON object ``fields`` plus ``"data"``: ``data`` in base64.

    The base64 text needs no JSON escaping, so it is spliced in rather than passed
    through ``json.dumps`` (which would scan megabytes of it again).
    """
    view = memoryview(data.data if isinstance(data, np.ndarray) else data)
    head = json.dumps(fields, separators=(",", ":")).encode()
    return b"".join((head[:-1], b',"data":"', base64.b64encode(view.cast("B")), b'"}'))


def _writer_factory(compression: str) -> Callable[[_Output], _Writer]:
    if compression not in _COMPRESSIONS:
        msg = (
            f"McapSink compression must be one of {', '.join(map(repr, _COMPRESSIONS))}; "
            f"got {compression!r}."
        )
        raise ValueError(msg)
    try:
        from mcap.writer import CompressionType, Writer  # noqa: PLC0415

        if compression != "none":
            importlib.import_module("zstandard" if compression == "zstd" else "lz4.frame")
    except ImportError as err:
        msg = (
            f"McapSink needs the optional package {err.name!r} (from the [mcap] extra); "
            f"install it: {_INSTALL_HINT}"
        )
        raise ImportError(msg) from err
    kind = CompressionType[compression.upper()]
    return lambda output: cast(_Writer, Writer(cast(IO[bytes], output), compression=kind))


class _Output:
    """The stream as mcap's writer sees it: whole writes, offsets counted from the start.

    Raw streams may write partially; pipes cannot ``tell``; MCAP offsets are relative to
    the file's first byte even when the stream did not start at position 0.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._position = 0

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        size = view.nbytes
        while view.nbytes:
            written = cast(int | None, self._stream.write(view))  # raw streams may return None
            view = view[written if isinstance(written, int) else view.nbytes :]
        self._position += size
        return size

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        self._stream.flush()


def _binary_stream(target: object) -> BinaryIO:
    if isinstance(target, io.TextIOBase) or not callable(getattr(target, "write", None)):
        msg = (
            f"McapSink needs a path or a binary stream; got {type(target).__name__}. "
            "Pass a path such as 'run.mcap', open(path, 'wb') or io.BytesIO()."
        )
        raise TypeError(msg)
    return cast(BinaryIO, target)


def _schema_text(schema: dict[str, Any]) -> bytes:
    """Return the schema text as published (2-space indented JSON, final newline)."""
    return (json.dumps(schema, indent=2) + "\n").encode()


# Foxglove's published JSON schemas (foxglove/foxglove-sdk, schemas/jsonschema/, commit
# ca8a1ced73b2737d03e2e3f282b57359a1a4cb72); json.dumps(indent=2) + newline gives the file text.
_TIMESTAMP: dict[str, Any] = {
    "type": "object",
    "title": "time",
    "properties": {
        "sec": {"type": "integer", "minimum": 0},
        "nsec": {"type": "integer", "minimum": 0, "maximum": 999999999},
    },
    "description": "Timestamp of image",
}
_FRAME_ID: dict[str, Any] = {
    "type": "string",
    "description": (
        "Frame of reference for the image. The origin of the frame is the optical "
        "center of the camera. +x points to the right in the image, +y points "
        "down, and +z points into the plane of the image."
    ),
}
_RAW_IMAGE: dict[str, Any] = {
    "title": "foxglove.RawImage",
    "description": "A raw image",
    "$comment": "Generated by https://github.com/foxglove/foxglove-sdk",
    "type": "object",
    "properties": {
        "timestamp": _TIMESTAMP,
        "frame_id": _FRAME_ID,
        "width": {
            "type": "integer",
            "minimum": 0,
            "description": "Image width in pixels",
        },
        "height": {
            "type": "integer",
            "minimum": 0,
            "description": "Image height in pixels",
        },
        "encoding": {
            "type": "string",
            "description": (
                "Encoding of the raw image data. See the `data` field description for "
                "supported values."
            ),
        },
        "step": {
            "type": "integer",
            "minimum": 0,
            "description": (
                "Byte length of a single row. This is usually some multiple of `width` "
                "depending on the encoding, but can be greater to incorporate padding."
            ),
        },
        "data": {
            "type": "string",
            "contentEncoding": "base64",
            "description": (
                "Raw image data.\n"
                "\n"
                "For each `encoding` value, the `data` field contains image pixel data "
                "serialized as follows:\n"
                "\n"
                "- `yuv422` or `uyvy`:\n"
                "  - Pixel colors are decomposed into "
                "[Y'UV](https://en.wikipedia.org/wiki/Y%E2%80%B2UV) channels.\n"
                "  - Pixel channel values are represented as unsigned 8-bit integers.\n"
                "  - U and V values are shared between horizontal pairs of pixels. Each "
                "pair of output pixels is serialized as [U, Y1, V, Y2].\n"
                "  - `step` must be greater than or equal to `width` * 2.\n"
                "- `yuv422_yuy2` or  `yuyv`:\n"
                "  - Pixel colors are decomposed into "
                "[Y'UV](https://en.wikipedia.org/wiki/Y%E2%80%B2UV) channels.\n"
                "  - Pixel channel values are represented as unsigned 8-bit integers.\n"
                "  - U and V values are shared between horizontal pairs of pixels. Each "
                "pair of output pixels is encoded as [Y1, U, Y2, V].\n"
                "  - `step` must be greater than or equal to `width` * 2.\n"
                "- `nv12`:\n"
                "  - Pixel colors are decomposed into "
                "[Y'UV](https://en.wikipedia.org/wiki/Y%E2%80%B2UV) channels using 4:2:0 "
                "chroma subsampling. The data is stored in "
                "[NV12](https://www.kernel.org/doc/html/v4.10/media/uapi/v4l/pixfmt-nv12.ht"
                "ml) semi-planar layout with two contiguous planes: a Y (luma) plane "
                "followed by an interleaved UV (chroma) plane.\n"
                "  - All channel values are represented as unsigned 8-bit integers.\n"
                "  - Both planes use `step` as their row stride.\n"
                "  - The Y plane contains one luma value per pixel (`step` * `height` "
                "bytes).\n"
                "  - The UV plane contains interleaved U, V chroma pairs, subsampled by a "
                "factor of 2 in both dimensions (`width`/2 pairs per row, `height`/2 rows, "
                "`step` * `height`/2 bytes). Each U, V pair is shared by a 2x2 block of "
                "pixels.\n"
                "  - `width` and `height` must be even.\n"
                "  - `step` must be greater than or equal to `width`.\n"
                "  - Total `data` length is `step` * `height` * 3/2 bytes.\n"
                "- `rgb8`:\n"
                "  - Pixel colors are decomposed into Red, Green, and Blue channels.\n"
                "  - Pixel channel values are represented as unsigned 8-bit integers.\n"
                "  - Each output pixel is serialized as [R, G, B].\n"
                "  - `step` must be greater than or equal to `width` * 3.\n"
                "- `rgba8`:\n"
                "  - Pixel colors are decomposed into Red, Green, Blue, and Alpha "
                "channels.\n"
                "  - Pixel channel values are represented as unsigned 8-bit integers.\n"
                "  - Each output pixel is serialized as [R, G, B, Alpha].\n"
                "  - `step` must be greater than or equal to `width` * 4.\n"
                "- `bgr8` or `8UC3`:\n"
                "  - Pixel colors are decomposed into Blue, Green, and Red channels.\n"
                "  - Pixel channel values are represented as unsigned 8-bit integers.\n"
                "  - Each output pixel is serialized as [B, G, R].\n"
                "  - `step` must be greater than or equal to `width` * 3.\n"
                "- `bgra8`:\n"
                "  - Pixel colors are decomposed into Blue, Green, Red, and Alpha "
                "channels.\n"
                "  - Pixel channel values are represented as unsigned 8-bit integers.\n"
                "  - Each output pixel is encoded as [B, G, R, Alpha].\n"
                "  - `step` must be greater than or equal to `width` * 4.\n"
                "- `32FC1`:\n"
                "  - Pixel brightness is represented as a single-channel, 32-bit "
                "little-endian IEEE 754 floating-point value, ranging from 0.0 (black) to "
                "1.0 (white).\n"
                "  - `step` must be greater than or equal to `width` * 4.\n"
                "- `bayer_rggb8`, `bayer_bggr8`, `bayer_gbrg8`, or `bayer_grbg8`:\n"
                "  - Pixel colors are decomposed into Red, Blue and Green channels.\n"
                "  - Pixel channel values are represented as unsigned 8-bit integers, and "
                "serialized in a 2x2 bayer filter pattern.\n"
                "  - The order of the four letters after `bayer_` determine the layout, so "
                "for `bayer_wxyz8` the pattern is:\n"
                "  ```text\n"
                "  w | x\n"
                "  - + -\n"
                "  y | z\n"
                "  ```\n"
                "  - `step` must be greater than or equal to `width`.\n"
                "- `mono8` or `8UC1`:\n"
                "  - Pixel brightness is represented as unsigned 8-bit integers.\n"
                "  - `step` must be greater than or equal to `width`.\n"
                "- `mono16` or `16UC1`:\n"
                "  - Pixel brightness is represented as 16-bit unsigned little-endian "
                "integers. Rendering of these values is controlled in [Image panel color "
                "mode "
                "settings](https://docs.foxglove.dev/docs/visualization/panels/image#genera"
                "l).\n"
                "  - `step` must be greater than or equal to `width` * 2.\n"
            ),
        },
    },
    "required": [
        "timestamp",
        "frame_id",
        "width",
        "height",
        "encoding",
        "step",
        "data",
    ],
}

_COMPRESSED_IMAGE: dict[str, Any] = {
    "title": "foxglove.CompressedImage",
    "description": "A compressed image",
    "$comment": "Generated by https://github.com/foxglove/foxglove-sdk",
    "type": "object",
    "properties": {
        "timestamp": _TIMESTAMP,
        "frame_id": _FRAME_ID,
        "data": {
            "type": "string",
            "contentEncoding": "base64",
            "description": "Compressed image data",
        },
        "format": {
            "type": "string",
            "description": "Image format\n\nSupported values: `jpeg`, `png`, `webp`, `avif`",
        },
    },
    "required": [
        "timestamp",
        "frame_id",
        "data",
        "format",
    ],
}


RAW_IMAGE_SCHEMA: Final = _schema_text(_RAW_IMAGE)
"""Foxglove's ``foxglove.RawImage`` JSON schema, as published in foxglove/foxglove-sdk."""
COMPRESSED_IMAGE_SCHEMA: Final = _schema_text(_COMPRESSED_IMAGE)
"""Foxglove's ``foxglove.CompressedImage`` JSON schema, as published in foxglove/foxglove-sdk."""
_SCHEMA_TEXT: Mapping[str, bytes] = MappingProxyType(
    {"foxglove.RawImage": RAW_IMAGE_SCHEMA, "foxglove.CompressedImage": COMPRESSED_IMAGE_SCHEMA}
)
