"""rerun-core: images, depth and segmentation as validated, immutable log messages.

Pure: no file, socket, thread, clock, environment or global mutable state.
"""

from __future__ import annotations

from rerun_core._annotation import AnnotationInfo, ClassDescription
from rerun_core._codec import (
    RecordSpan,
    decode_record,
    encode_record,
    encode_record_parts,
    iter_records,
    scan_records,
)
from rerun_core._compress import encode_compressed_parts
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

__all__ = [
    "AnnotationContextMsg",
    "AnnotationInfo",
    "ClassDescription",
    "ColorModel",
    "DecodeError",
    "DepthMsg",
    "ExtensionMsg",
    "ImageFormat",
    "ImageMsg",
    "InvalidArgumentError",
    "Message",
    "Record",
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
    "make_depth_msg",
    "make_encoded_image_msg",
    "make_extension_msg",
    "make_image_msg",
    "make_record",
    "make_segmentation_msg",
    "parse_entity_path",
    "scan_records",
]
