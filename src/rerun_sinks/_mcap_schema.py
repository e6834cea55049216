"""The side channel's protobuf schema, declared as data, and its message classes.

Rules:
- one proto2 file, package ``rerun_core``, declared field by field in ``MESSAGES`` (name,
  number, type, repeated); :data:`SCHEMA_DATA` is its ``FileDescriptorSet``, written as
  the MCAP schema (encoding ``protobuf``) so Foxglove, Lichtblick and ``mcap`` decode the
  side messages like any protobuf channel;
- field numbers are a format: never reuse or renumber one, only add new numbers;
- the classes live in a private descriptor pool (no clash with a user's own schemas).

Imports ``protobuf``: only ``_mcap`` imports this module, when a sink or reader is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["MESSAGES", "PACKAGE", "SCHEMA_DATA", "SIDE_SCHEMA", "message_class"]

PACKAGE: Final = "rerun_core"
SIDE_SCHEMA: Final = "rerun_core.Record"
"""Schema name of the side channels: one :data:`MESSAGES` ``Record`` per log record."""

Field = tuple[str, int, str, bool]  # name, number, type (scalar or message name), repeated

MESSAGES: Mapping[str, tuple[Field, ...]] = MappingProxyType(
    {
        "Array": (  # an exact numpy array: dtype.str, shape, C-order bytes
            ("dtype", 1, "string", False),
            ("shape", 2, "uint64", True),
            ("data", 3, "bytes", False),
        ),
        "Component": (("name", 1, "string", False), ("value", 2, "Array", False)),
        "TimeValue": (
            ("timeline", 1, "string", False),
            ("kind", 2, "string", False),  # "sequence" or "time" (ns)
            ("value", 3, "sint64", False),
        ),
        "AnnotationInfo": (
            ("id", 1, "uint32", False),
            ("label", 2, "string", False),
            ("rgba", 3, "uint32", False),  # 0xRRGGBBAA
        ),
        "KeypointConnection": (("first", 1, "uint32", False), ("second", 2, "uint32", False)),
        "ClassDescription": (
            ("info", 1, "AnnotationInfo", False),
            ("keypoint_annotations", 2, "AnnotationInfo", True),
            ("keypoint_connections", 3, "KeypointConnection", True),
        ),
        "Identifiers": (("values", 1, "uint64", True),),
        "Record": (
            ("entity_path", 1, "string", True),
            ("log_tick", 2, "uint64", False),
            ("log_time_ns", 3, "sint64", False),
            ("timeless", 4, "bool", False),
            ("timepoint", 5, "TimeValue", True),
            ("kind", 6, "string", False),  # image, depth, segmentation, annotation_context, ...
            ("image_sequence", 7, "uint32", False),  # the Foxglove message with the pixels
            ("dtype", 8, "string", False),  # the record's exact pixel dtype (dtype.str)
            ("pixels", 9, "Array", False),  # the exact pixels, where the Foxglove form is lossy
            ("color_model", 10, "string", False),
            ("draw_order", 11, "double", False),
            ("meter", 12, "double", False),
            ("ext", 13, "Component", True),
            ("class_descriptions", 14, "ClassDescription", True),
            ("identifiers", 15, "Identifiers", False),
        ),
    }
)
"""The schema: message name -> fields ``(name, number, type, repeated)``."""

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS: Mapping[str, int] = MappingProxyType(
    {
        "string": _FDP.TYPE_STRING,
        "bytes": _FDP.TYPE_BYTES,
        "bool": _FDP.TYPE_BOOL,
        "double": _FDP.TYPE_DOUBLE,
        "uint32": _FDP.TYPE_UINT32,
        "uint64": _FDP.TYPE_UINT64,
        "sint64": _FDP.TYPE_SINT64,
    }
)


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="rerun_core/record.proto", package=PACKAGE, syntax="proto2"
    )
    for name, fields in MESSAGES.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind, repeated in fields:
            field = message.field.add(name=field_name, number=number)
            field.label = _FDP.LABEL_REPEATED if repeated else _FDP.LABEL_OPTIONAL
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            else:
                field.type = _FDP.TYPE_MESSAGE
                field.type_name = f".{PACKAGE}.{kind}"
    return file


_FILE = _file()
SCHEMA_DATA: Final = descriptor_pb2.FileDescriptorSet(file=[_FILE]).SerializeToString()
"""The ``FileDescriptorSet`` of the schema: the side channels' MCAP schema data."""

_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_FILE)


def message_class(name: str) -> Any:
    """Return the generated message class of ``rerun_core.<name>``."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))
