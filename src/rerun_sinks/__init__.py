"""rerun-sinks: the recording stream and sinks over the pure ``rerun_core``.

``import rerun_sinks as rr`` works like the legacy ``import rerun as rr`` image API:
``rr.init("app")``, ``rr.log_image(...)``, ``rr.set_time_sequence(...)``, ``rr.save(...)``.
All validation happens in ``rerun_core``; this package stamps time and does the I/O.

Every public name is here and in docs/API.md (a test checks both ways). A name whose
module needs an optional extra is listed in ``_LAZY`` and imported on first use, so
``import rerun_sinks`` never needs an extra (a test blocks every extra and checks).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from rerun_core import AnnotationInfo, ClassDescription, ColorModel, ImageFormat
from rerun_sinks._api import (
    RecordingStream,
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
    send_columns,
    set_global_data_recording,
    set_thread_local_data_recording,
    set_time_nanos,
    set_time_seconds,
    set_time_sequence,
)
from rerun_sinks._background import BackgroundSink
from rerun_sinks._data import from_arrow, from_parquet
from rerun_sinks._file import FileSink
from rerun_sinks._readers import VerifyReport, read_records, recover, verify
from rerun_sinks._recording import RecordingStats
from rerun_sinks._recording_file import RecordingFile, open_recording
from rerun_sinks._sinks import (
    BatchSink,
    CountsDrops,
    MemorySink,
    RecordBatchSink,
    Sink,
    TeeSink,
)
from rerun_sinks.errors import ForeignDataError, RerunWarning, SinkClosedError, SinkError

if TYPE_CHECKING:
    from rerun_sinks._convert import convert
    from rerun_sinks._export import export
    from rerun_sinks._mcap import McapSink, read_mcap_records
    from rerun_sinks._rerun import RerunSink
    from rerun_sinks._rrd_reader import read_rrd_records

_LAZY = {
    "McapSink": "rerun_sinks._mcap",
    "RerunSink": "rerun_sinks._rerun",
    "convert": "rerun_sinks._convert",
    "export": "rerun_sinks._export",
    "read_mcap_records": "rerun_sinks._mcap",
    "read_rrd_records": "rerun_sinks._rrd_reader",
}
"""Names imported on first use: their modules need an extra or a codec."""

__all__ = [
    "AnnotationInfo",
    "BackgroundSink",
    "BatchSink",
    "ClassDescription",
    "ColorModel",
    "CountsDrops",
    "FileSink",
    "ForeignDataError",
    "ImageFormat",
    "McapSink",
    "MemorySink",
    "RecordBatchSink",
    "RecordingFile",
    "RecordingStats",
    "RecordingStream",
    "RerunSink",
    "RerunWarning",
    "Sink",
    "SinkClosedError",
    "SinkError",
    "TeeSink",
    "VerifyReport",
    "convert",
    "disconnect",
    "export",
    "flush",
    "from_arrow",
    "from_parquet",
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
    "open_recording",
    "read_mcap_records",
    "read_records",
    "read_rrd_records",
    "recover",
    "reset_time",
    "save",
    "send_columns",
    "set_global_data_recording",
    "set_thread_local_data_recording",
    "set_time_nanos",
    "set_time_seconds",
    "set_time_sequence",
    "verify",
]


def __getattr__(name: str) -> object:
    """Import a name of ``_LAZY`` on first use."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'rerun_sinks' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, lazy ones included."""
    return sorted({*globals(), *__all__})
