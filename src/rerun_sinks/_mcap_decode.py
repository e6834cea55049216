"""MCAP files to messages, and messages to values: Foxglove images and our side records.

Rules: :func:`mcap_messages` reads front to back with the ``mcap`` library's record reader
(CRCs checked, no record longer than the file); a damaged or missing tail raises
``rerun_core.DecodeError`` at the offset of the record it could not read, after every
message before it was yielded (a file cut before ``close()`` gives its complete chunks).
Foxglove images in protobuf are decoded with Foxglove's published schemas
(``foxglove-schemas-protobuf``), in JSON as Foxglove's JSON schemas say (``data`` in
base64); side records with ``_mcap_schema``; anything else, or a message that does not
decode, raises :class:`~rerun_sinks.errors.ForeignDataError`. Imports ``protobuf``: only
``_mcap`` imports this module, when the reader is called.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Iterator
from typing import IO, Any

from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf.message import DecodeError
from mcap.exceptions import McapError
from mcap.records import Channel, Header, Message, Schema
from mcap.stream_reader import StreamReader

from rerun_core import DecodeError as RecordDecodeError
from rerun_sinks._foxglove import COMPRESSED_IMAGE, FoxgloveImage
from rerun_sinks._mcap_schema import SIDE_SCHEMA, message_class
from rerun_sinks.errors import ForeignDataError

__all__ = ["SIDE_SCHEMA", "decode_foxglove_image", "decode_side", "mcap_messages"]

_SIDE = message_class("Record")
_CUT_ERRORS = (McapError, struct.error, EOFError)


def mcap_messages(stream: IO[bytes]) -> Iterator[tuple[str, Schema | None, Channel, Message]]:
    """Yield ``(header library, schema, channel, message)`` for every message, in file order.

    Offsets count from the stream's position at the call.
    """
    start = stream.tell()
    size = os.fstat(stream.fileno()).st_size if _has_fileno(stream) else _stream_size(stream)
    records = StreamReader(stream, validate_crcs=True, record_size_limit=max(size, 1)).records
    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    library = ""
    while True:
        offset = stream.tell() - start
        try:
            record = next(records, None)
        except _CUT_ERRORS as err:
            msg = f"the MCAP file is damaged or ends early (cut, or still being written): {err}"
            raise RecordDecodeError(msg, offset=offset) from err
        if record is None:
            return
        if isinstance(record, Header):
            library = record.library
        elif isinstance(record, Schema):
            schemas[record.id] = record
        elif isinstance(record, Channel):
            channels[record.id] = record
        elif isinstance(record, Message):
            channel = channels.get(record.channel_id)
            if channel is None:
                msg = f"a message of channel {record.channel_id}, which was never declared"
                raise RecordDecodeError(msg, offset=offset)
            yield library, schemas.get(channel.schema_id), channel, record


def _has_fileno(stream: IO[bytes]) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _stream_size(stream: IO[bytes]) -> int:
    position = stream.tell()
    size = stream.seek(0, os.SEEK_END)
    stream.seek(position)
    return size


def decode_side(schema: str, encoding: str, data: bytes) -> Any:
    """Return the ``rerun_core.Record`` protobuf message in ``data``."""
    if encoding != "protobuf":
        msg = f"a side record must be protobuf; got message encoding {encoding!r}"
        raise ForeignDataError(msg)
    try:
        return _SIDE.FromString(data)
    except DecodeError as err:
        msg = f"not a protobuf {schema}: {err}"
        raise ForeignDataError(msg) from err


def decode_foxglove_image(schema: str, encoding: str, data: bytes) -> FoxgloveImage:
    """Return the fields of a ``foxglove.RawImage`` / ``CompressedImage`` message."""
    if encoding == "protobuf":
        return _protobuf_image(schema, data)
    if encoding == "json":
        return _json_image(schema, data)
    msg = f"message encoding {encoding!r} is not supported; rerun_core reads protobuf and json"
    raise ForeignDataError(msg)


def _protobuf_image(schema: str, data: bytes) -> FoxgloveImage:
    try:
        if schema == COMPRESSED_IMAGE:
            compressed = CompressedImage.FromString(data)
            return FoxgloveImage(schema, compressed.format, 0, 0, 0, compressed.data)
        raw = RawImage.FromString(data)
    except DecodeError as err:
        msg = f"not a protobuf {schema}: {err}"
        raise ForeignDataError(msg) from err
    return FoxgloveImage(schema, raw.encoding, raw.width, raw.height, raw.step, raw.data)


def _json_image(schema: str, data: bytes) -> FoxgloveImage:
    try:
        fields = json.loads(data)
        pixels = base64.b64decode(fields["data"], validate=True)
        if schema == COMPRESSED_IMAGE:
            return FoxgloveImage(schema, str(fields["format"]), 0, 0, 0, pixels)
        return FoxgloveImage(
            schema,
            str(fields["encoding"]),
            int(fields["width"]),
            int(fields["height"]),
            int(fields["step"]),
            pixels,
        )
    except (ValueError, KeyError, TypeError) as err:
        msg = f"not a JSON {schema}: {err!r}"
        raise ForeignDataError(msg) from err
