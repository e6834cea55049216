"""``RerunSink``: records forwarded to the real rerun-sdk (an ``.rrd`` file or a viewer).

Rules:
- needs the ``[rerun]`` extra (imported when a sink is created); without it, creating a
  sink raises ``ImportError`` with the install command;
- each sink owns a dedicated ``rerun.RecordingStream`` (never rerun's global or
  thread-local recording) sending to every destination given: ``path`` (``.rrd``),
  ``spawn`` (a new viewer on port 9876), ``connect`` (a gRPC URL);
- raw images -> ``rr.Image`` (same pixels, ``color_model`` L/RGB/RGBA/BGR/BGRA, with
  width, height and datatype given explicitly, so a one-row or one-column image is never
  squeezed or transposed by rerun-sdk), JPEG ->
  ``rr.EncodedImage``, depth -> ``rr.DepthImage`` (``meter`` = ``effective_meter``),
  segmentation -> ``rr.SegmentationImage``, annotation context ->
  ``rr.AnnotationContext``; ``draw_order`` kept; ``ext`` components and extension
  messages -> ``rr.AnyValues`` on the same entity (an extension message's identifiers as
  the ``identifiers`` component);
- time: rerun's own ``log_time`` injection is off; each timed record sets ``log_tick``
  (sequence) and ``log_time`` (timestamp, from ``log_time_ns``), then its own timelines
  (``sequence`` -> sequence, ``time`` -> timestamp in ns since the epoch); time is reset
  between records; timeless records are logged ``static=True``;
- rerun-sdk errors raise (strict logging); thread-safe (one lock per sink);
  ``close()`` flushes and disconnects, so the ``.rrd`` is complete; ``write``/``flush``
  after ``close`` raise :class:`SinkClosedError`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from rerun_core import (
    AnnotationContextMsg,
    AnnotationInfo,
    ClassDescription,
    DepthMsg,
    ExtensionMsg,
    ImageMsg,
    Record,
)
from rerun_sinks._sinks import Sink
from rerun_sinks.errors import SinkClosedError

if TYPE_CHECKING:
    import rerun as rr

__all__ = ["SPAWN_URL", "RerunSink", "rerun_archetypes"]

PathLike = str | os.PathLike[str]

SPAWN_URL = "rerun+http://127.0.0.1:9876/proxy"
"""Where ``spawn=True`` sends the recording: the viewer it starts listens there."""
_INSTALL_HINT = "pip install 'rerun-core[rerun]'"


class RerunSink(Sink):
    """Forwards records to rerun-sdk: an ``.rrd`` file, a spawned viewer, a gRPC URL."""

    def __init__(
        self,
        *,
        path: PathLike | None = None,
        spawn: bool = False,
        connect: str | None = None,
        application_id: str = "rerun_core",
        recording_id: str | None = None,
    ) -> None:
        """Open a dedicated recording sending to every destination given (at least one)."""
        try:
            import rerun as rr  # noqa: PLC0415
        except ImportError as err:
            msg = f"RerunSink needs the optional 'rerun-sdk' package; install it: {_INSTALL_HINT}"
            raise ImportError(msg) from err
        if path is None and not spawn and connect is None:
            msg = (
                "RerunSink needs a destination; got none. Pass path='run.rrd', spawn=True "
                f"or connect={SPAWN_URL!r}."
            )
            raise ValueError(msg)
        self.path = None if path is None else os.fspath(path)
        self._lock = threading.Lock()
        self._closed = False
        self._rec = rr.RecordingStream(application_id, recording_id=recording_id)
        self._rec.set_log_time_enabled(False)
        sinks: list[rr.FileSink | rr.GrpcSink] = []
        if self.path is not None:
            sinks.append(rr.FileSink(self.path))
        if spawn:
            self._rec.spawn(connect=False)
        urls = dict.fromkeys([*([SPAWN_URL] if spawn else []), *([connect] if connect else [])])
        sinks.extend(rr.GrpcSink(url) for url in urls)
        self._rec.set_sinks(*sinks)

    def write(self, record: Record) -> None:
        """Log ``record`` at its entity path and time."""
        archetypes = rerun_archetypes(record)
        path: str | list[object] = list(record.entity_path) or "/"
        with self._lock:
            self._check_open()
            rec = self._rec
            rec.reset_time()
            if not record.timeless:
                rec.set_time("log_tick", sequence=record.log_tick)
                rec.set_time("log_time", timestamp=np.datetime64(record.log_time_ns, "ns"))
                for name, time in record.timepoint.items():
                    if time.kind == "sequence":
                        rec.set_time(name, sequence=time.value)
                    else:
                        rec.set_time(name, timestamp=np.datetime64(time.value, "ns"))
            rec.log(path, *archetypes, static=record.timeless, strict=True)

    def flush(self) -> None:
        """Return once rerun-sdk has delivered everything logged so far."""
        with self._lock:
            self._check_open()
            self._rec.flush()

    def close(self) -> None:
        """Flush and disconnect every destination; the ``.rrd`` file is then complete."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._rec.flush()
            self._rec.disconnect()

    def _check_open(self) -> None:
        if self._closed:
            target = self.path if self.path is not None else "viewer"
            msg = f"RerunSink({target!r}) is closed; it accepts no more records. Open a new one."
            raise SinkClosedError(msg)


def rerun_archetypes(record: Record) -> list[rr.AsComponents]:
    """Return the rerun-sdk archetypes that represent ``record.msg`` (first the main one)."""
    import rerun as rr  # noqa: PLC0415

    msg = record.msg
    if isinstance(msg, AnnotationContextMsg):
        return [rr.AnnotationContext([_class_description(d) for d in msg.class_descriptions])]
    if isinstance(msg, ExtensionMsg):
        components = dict(msg.components)
        if msg.identifiers is not None:
            components["identifiers"] = np.array(msg.identifiers, dtype=np.uint64)
        return [_any_values(components)]
    main: rr.AsComponents
    if isinstance(msg, ImageMsg):
        if msg.pixels is None:
            main = rr.EncodedImage(
                contents=msg.jpeg, media_type="image/jpeg", draw_order=msg.draw_order
            )
        else:
            main = rr.Image(
                bytes=msg.pixels.tobytes(),  # the copy rr.Image(array) would make too
                width=msg.width,
                height=msg.height,
                color_model=msg.color_model.value,
                datatype=msg.pixels.dtype.type,
                draw_order=msg.draw_order,
            )
    elif isinstance(msg, DepthMsg):
        main = rr.DepthImage(msg.pixels, meter=msg.effective_meter, draw_order=msg.draw_order)
    else:
        main = rr.SegmentationImage(msg.pixels, draw_order=msg.draw_order)
    return [main, _any_values(msg.ext)] if msg.ext else [main]


def _any_values(components: Mapping[str, np.ndarray[Any, Any]]) -> rr.AnyValues:
    import rerun as rr  # noqa: PLC0415

    values = rr.AnyValues()
    for name, array in components.items():
        values.with_component_from_data(name, array)
    return values


def _class_description(description: ClassDescription) -> rr.ClassDescription:
    import rerun as rr  # noqa: PLC0415

    return rr.ClassDescription(
        info=_annotation_info(description.info),
        keypoint_annotations=[_annotation_info(k) for k in description.keypoint_annotations],
        keypoint_connections=list(description.keypoint_connections),
    )


def _annotation_info(info: AnnotationInfo) -> rr.AnnotationInfo:
    import rerun as rr  # noqa: PLC0415

    return rr.AnnotationInfo(id=info.id, label=info.label, color=info.color)
