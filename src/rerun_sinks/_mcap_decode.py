"""MCAP messages to values: Foxglove images and our side records.

Rules: files are read by :class:`~rerun_sinks._mcap_file.McapFile` (bounded reads,
chunk by chunk; re-exported here). Foxglove images in protobuf are decoded with
Foxglove's published schemas (``foxglove-schemas-protobuf``), in JSON as Foxglove's
JSON schemas say (``data`` in base64); side records with ``_mcap_schema``; anything
else, or a message that does not decode, raises
:class:`~rerun_sinks.errors.ForeignDataError`. Imports ``protobuf``: only ``_mcap``
imports this module, when the reader is called.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf.message import DecodeError

from rerun_sinks._foxglove import COMPRESSED_IMAGE, FoxgloveImage
from rerun_sinks._mcap_file import McapFile
from rerun_sinks._mcap_schema import SIDE_SCHEMA, message_class
from rerun_sinks.errors import ForeignDataError

__all__ = ["SIDE_SCHEMA", "McapFile", "decode_foxglove_image", "decode_side"]

_SIDE = message_class("Record")


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
