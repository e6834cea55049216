"""rerun-core: images, depth and segmentation as validated, immutable log messages.

Pure: no file, socket, thread, clock, environment or global mutable state.

Light to import for the SDKs that embed it: the codec names (``_LAZY``, whose module loads
cattrs and cbor2) are imported on first use, and the image codecs (Pillow, the PNG
decoders) inside the functions that use them. Every public name is in docs/API.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from rerun_core._annotation import AnnotationInfo, ClassDescription
from rerun_core._columns import ColumnFrames, make_column_frames, make_column_msgs
from rerun_core._context import make_annotation_context_msg, make_extension_msg
from rerun_core._depth import make_depth_msg
from rerun_core._encoded import make_encoded_image_msg
from rerun_core._enums import ColorModel, ImageFormat
from rerun_core._image import make_image_msg
from rerun_core._messages import (
    AnnotationContextMsg,
    DepthMsg,
    ExtensionMsg,
    ImageMsg,
    Message,
    SegmentationMsg,
)
from rerun_core._paths import format_entity_path, parse_entity_path
from rerun_core._record import Record, TimeValue, make_record
from rerun_core._segmentation import make_segmentation_msg
from rerun_core.errors import (
    DecodeError,
    InvalidArgumentError,
    RerunCoreError,
    UnrecognizedImageFormatError,
    UnsupportedDtypeError,
)

if TYPE_CHECKING:
    from rerun_core._batch import EncodedBatch, RecordBatch
    from rerun_core._codec import (
        RecordSpan,
        decode_record,
        encode_record,
        encode_record_parts,
    )
    from rerun_core._compress import encode_compressed_parts
    from rerun_core._decoder import RecordDecoder, iter_records, scan_records
    from rerun_core._encoder import RecordEncoder

_LAZY = {
    "EncodedBatch": "rerun_core._batch",
    "RecordBatch": "rerun_core._batch",
    "RecordSpan": "rerun_core._codec",
    "decode_record": "rerun_core._codec",
    "encode_record": "rerun_core._codec",
    "encode_record_parts": "rerun_core._codec",
    "encode_compressed_parts": "rerun_core._compress",
    "RecordDecoder": "rerun_core._decoder",
    "iter_records": "rerun_core._decoder",
    "scan_records": "rerun_core._decoder",
    "RecordEncoder": "rerun_core._encoder",
}
"""Names imported on first use, with the module that defines them."""

__all__ = [
    "AnnotationContextMsg",
    "AnnotationInfo",
    "ClassDescription",
    "ColorModel",
    "ColumnFrames",
    "DecodeError",
    "DepthMsg",
    "EncodedBatch",
    "ExtensionMsg",
    "ImageFormat",
    "ImageMsg",
    "InvalidArgumentError",
    "Message",
    "Record",
    "RecordBatch",
    "RecordDecoder",
    "RecordEncoder",
    "RecordSpan",
    "RerunCoreError",
    "SegmentationMsg",
    "TimeValue",
    "UnrecognizedImageFormatError",
    "UnsupportedDtypeError",
    "decode_record",
    "encode_compressed_parts",
    "encode_record",
    "encode_record_parts",
    "format_entity_path",
    "iter_records",
    "make_annotation_context_msg",
    "make_column_frames",
    "make_column_msgs",
    "make_depth_msg",
    "make_encoded_image_msg",
    "make_extension_msg",
    "make_image_msg",
    "make_record",
    "make_segmentation_msg",
    "parse_entity_path",
    "scan_records",
]


def __getattr__(name: str) -> object:
    """Import a name of ``_LAZY`` on first use."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'rerun_core' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, lazy ones included."""
    return sorted({*globals(), *__all__})
