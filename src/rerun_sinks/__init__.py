"""rerun-sinks: the recording stream and sinks over the pure ``rerun_core``.

``import rerun_sinks as rr`` works like the legacy ``import rerun as rr`` image API:
``rr.init("app")``, ``rr.log_image(...)``, ``rr.set_time_sequence(...)``, ``rr.save(...)``.
All validation happens in ``rerun_core``; this package stamps time and does the I/O.
"""

from __future__ import annotations

from rerun_core import AnnotationInfo, ClassDescription, ColorModel, ImageFormat
from rerun_sinks._api import (
    disconnect,
    flush,
    get_data_recording,
    get_global_data_recording,
    get_thread_local_data_recording,
    init,
    log_annotation_context,
    log_depth_image,
    log_extension_components,
    log_image,
    log_image_file,
    log_segmentation_image,
    memory_recording,
    new_recording,
    reset_time,
    save,
    set_global_data_recording,
    set_thread_local_data_recording,
    set_time_nanos,
    set_time_seconds,
    set_time_sequence,
)
from rerun_sinks._background import BackgroundSink
from rerun_sinks._file import FileSink
from rerun_sinks._readers import VerifyReport, read_records, recover, verify
from rerun_sinks._recording import RecordingStats, RecordingStream
from rerun_sinks._sinks import MemorySink, Sink, TeeSink
from rerun_sinks.errors import RerunWarning, SinkClosedError, SinkError

__all__ = [
    "AnnotationInfo",
    "BackgroundSink",
    "ClassDescription",
    "ColorModel",
    "FileSink",
    "ImageFormat",
    "MemorySink",
    "RecordingStats",
    "RecordingStream",
    "RerunWarning",
    "Sink",
    "SinkClosedError",
    "SinkError",
    "TeeSink",
    "VerifyReport",
    "disconnect",
    "flush",
    "get_data_recording",
    "get_global_data_recording",
    "get_thread_local_data_recording",
    "init",
    "log_annotation_context",
    "log_depth_image",
    "log_extension_components",
    "log_image",
    "log_image_file",
    "log_segmentation_image",
    "memory_recording",
    "new_recording",
    "read_records",
    "recover",
    "reset_time",
    "save",
    "set_global_data_recording",
    "set_thread_local_data_recording",
    "set_time_nanos",
    "set_time_seconds",
    "set_time_sequence",
    "verify",
]
