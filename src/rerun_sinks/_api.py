"""The legacy-compatible facade: ``import rerun_sinks as rr`` works like legacy ``rerun``.

Rules:
- every function takes ``recording=``; the recording used is ``recording`` if given,
  else the thread-local one, else the global one (set by ``init``);
- with no recording, a ``log_*`` call (and ``save``/``memory_recording``) does nothing and
  warns once per process; time, ``flush`` and ``disconnect`` calls silently do nothing;
- usage errors (both or neither of ``img_bytes``/``img_path``, wrong ``set_time_*``
  argument types, a ``recording`` that is not a ``RecordingStream``) always raise;
- bad data follows the recording's ``strict`` flag (see ``RecordingEngine``);
- ``RecordingStream`` is the engine plus what needs more than the ``Sink`` protocol:
  ``save`` (the file extension picks the sink, ``_convert.sink_for_path``),
  ``memory_recording`` and ``with rec:`` (this thread's recording for the block, kept
  in ``_state`` with the global one).
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from rerun_core import ColorModel, ImageFormat
from rerun_sinks import _state
from rerun_sinks._convert import sink_for_path
from rerun_sinks._recording import Clock, PathLike, RecordingEngine, check_image_source
from rerun_sinks._rerun import RerunSink
from rerun_sinks._sinks import MemorySink, Sink, TeeSink
from rerun_sinks._time import check_timeline, nanos_from_seconds, to_int64
from rerun_sinks._warn import warn_once_per_process, warn_user

__all__ = [
    "RecordingStream",
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
    "reset_time",
    "save",
    "send_columns",
    "set_global_data_recording",
    "set_thread_local_data_recording",
    "set_time_nanos",
    "set_time_seconds",
    "set_time_sequence",
]

_ENV_ON, _ENV_OFF = ("1", "true", "on"), ("0", "false", "off")
_RECORDING_ID_NAMESPACE = uuid.UUID("5f0c1d2e-8a4b-4e3f-9b6a-7c8d9e0f1a2b")


# -- recordings ---------------------------------------------------------------------------


class RecordingStream(RecordingEngine):
    """A recording (see ``RecordingEngine``) that can also pick its sink by file name."""

    def save(
        self, path: PathLike, *, compression: str | None = None, buffer_bytes: int = 0
    ) -> None:
        """Stream the recording (backlog included) to a file; the extension picks the format.

        ``compression="zstd"`` or ``"lz4"`` compresses the pixels of an ``.rrc`` file;
        ``buffer_bytes=N`` writes an ``.rrc`` file N bytes at a time (``FileSink``: fewer
        system calls; a killed process also loses the buffered records).
        """
        self.set_sink(
            sink_for_path(
                path,
                application_id=self.application_id,
                recording_id=self.recording_id,
                compression=compression,
                buffer_bytes=buffer_bytes,
            )
        )

    def memory_recording(self) -> MemorySink:
        """Send the recording (backlog included) to a new ``MemorySink`` and return it."""
        sink = MemorySink()
        self.set_sink(sink)
        return sink

    def __enter__(self) -> Self:
        """Make this the thread-local recording until the block ends."""
        _state.enter(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Restore the previous thread-local recording (the recording stays open)."""
        _state.leave()


def new_recording(
    application_id: str,
    *,
    recording_id: str | None = None,
    make_default: bool = False,
    make_thread_default: bool = False,
    default_enabled: bool = True,
    strict: bool = False,
    sink: Sink | None = None,
    clock: Clock | None = None,
) -> RecordingStream:
    """Create a recording; optionally make it the global or this thread's recording.

    ``RERUN=on|off`` in the environment overrides ``default_enabled``; without
    ``recording_id``, the id is derived from the application id and the process tree, so
    repeated ``init`` calls and ``multiprocessing`` children share it (legacy Rerun).
    """
    if not isinstance(default_enabled, bool):
        msg = f"default_enabled must be True or False; got {default_enabled!r}."
        raise TypeError(msg)
    recording = RecordingStream(
        application_id,
        recording_id=recording_id or _default_recording_id(application_id),
        enabled=_enabled(default_enabled),
        strict=strict,
        sink=sink,
        clock=clock,
    )
    if make_default:
        set_global_data_recording(recording)
    if make_thread_default:
        set_thread_local_data_recording(recording)
    return recording


def _enabled(default_enabled: bool) -> bool:
    value = os.environ.get("RERUN", "").strip().lower()
    if value in _ENV_ON:
        return True
    if value in _ENV_OFF:
        return False
    if value:
        warn_user(f"RERUN={value!r} is not one of on/off/1/0/true/false; it is ignored.")
    return default_enabled


def _default_recording_id(application_id: str) -> str:
    """Derive the id like legacy Rerun: one id per process tree and application id."""
    key = bytes(multiprocessing.current_process().authkey).hex()
    return str(uuid.uuid5(_RECORDING_ID_NAMESPACE, f"{key}/{application_id}"))


def init(
    application_id: str,
    *,
    recording_id: str | None = None,
    spawn: bool = False,
    default_enabled: bool = True,
    strict: bool = False,
    sink: Sink | None = None,
    clock: Clock | None = None,
) -> RecordingStream:
    """Create a recording, make it the global one and return it.

    ``spawn=True`` starts the Rerun viewer (extra ``[rerun]``) and streams to it, besides
    ``sink`` when one is given.
    """
    recording_id = recording_id or _default_recording_id(application_id)
    if spawn:
        viewer = RerunSink(spawn=True, application_id=application_id, recording_id=recording_id)
        sink = viewer if sink is None else TeeSink(sink, viewer)
    return new_recording(
        application_id,
        recording_id=recording_id,
        make_default=True,
        default_enabled=default_enabled,
        strict=strict,
        sink=sink,
        clock=clock,
    )


def _check_recording(recording: object) -> RecordingStream | None:
    if recording is None or isinstance(recording, RecordingStream):
        return recording
    msg = (
        f"recording must be a RecordingStream or None; got {type(recording).__name__}. "
        "Create one with rerun_sinks.new_recording('my_app')."
    )
    raise TypeError(msg)


def get_global_data_recording() -> RecordingStream | None:
    """Return the global recording (set by ``init``), or ``None``."""
    return _state.get_global()


def set_global_data_recording(recording: RecordingStream | None) -> RecordingStream | None:
    """Make ``recording`` the global recording; return the previous one."""
    return _state.set_global(_check_recording(recording))


def get_thread_local_data_recording() -> RecordingStream | None:
    """Return this thread's recording, or ``None``."""
    return _state.get_thread_local()


def set_thread_local_data_recording(recording: RecordingStream | None) -> RecordingStream | None:
    """Make ``recording`` this thread's recording; return the previous one."""
    return _state.set_thread_local(_check_recording(recording))


def get_data_recording(recording: RecordingStream | None = None) -> RecordingStream | None:
    """Resolve a recording: ``recording`` if given, else thread-local, else global."""
    explicit = _check_recording(recording)
    if explicit is not None:
        return explicit
    thread = _state.get_thread_local()
    return thread if thread is not None else _state.get_global()


def _recording_for(func: str, recording: RecordingStream | None) -> RecordingStream | None:
    resolved = get_data_recording(recording)
    if resolved is None:
        _warn_no_recording(func)
    return resolved


def _warn_no_recording(func: str) -> None:
    warn_once_per_process(
        "no-recording",
        f"rerun_sinks.{func}() was ignored because there is no recording: call "
        "rerun_sinks.init('my_app') first, or pass recording=. (Shown once per process.)",
    )


# -- logging ------------------------------------------------------------------------------


def log_image(
    entity_path: str,
    image: Any,
    *,
    draw_order: float | None = None,
    ext: dict[str, Any] | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
    jpeg_quality: int | None = None,
    color_model: ColorModel | str | None = None,
    layout: str = "HWC",
) -> None:
    """Log a gray or colour image (HxW, HxWx1, HxWx3 or HxWx4), optionally as JPEG.

    ``layout="CHW"`` reads a channels-first image (CxHxW), as vision models produce.
    """
    rec = _recording_for("log_image", recording)
    if rec is not None:
        rec.log_image(
            entity_path,
            image,
            draw_order=draw_order,
            ext=ext,
            timeless=timeless,
            jpeg_quality=jpeg_quality,
            color_model=color_model,
            layout=layout,
        )


def log_image_file(
    entity_path: str,
    *,
    img_bytes: bytes | None = None,
    img_path: PathLike | None = None,
    img_format: ImageFormat | str | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log JPEG or PNG bytes, given as ``img_bytes`` or read from ``img_path``."""
    rec = get_data_recording(recording)
    if rec is None:  # the recording checks the arguments; usage errors raise without one too
        check_image_source(img_bytes, img_path)
        _warn_no_recording("log_image_file")
        return
    rec.log_image_file(
        entity_path,
        img_bytes=img_bytes,
        img_path=img_path,
        img_format=img_format,
        timeless=timeless,
    )


def log_depth_image(
    entity_path: str,
    image: Any,
    *,
    draw_order: float | None = None,
    meter: float | None = None,
    ext: dict[str, Any] | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a depth image; ``meter`` is how many units make one metre."""
    rec = _recording_for("log_depth_image", recording)
    if rec is not None:
        rec.log_depth_image(
            entity_path, image, draw_order=draw_order, meter=meter, ext=ext, timeless=timeless
        )


def log_segmentation_image(
    entity_path: str,
    image: Any,
    *,
    draw_order: float | None = None,
    ext: dict[str, Any] | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log an image of class ids (0..65535)."""
    rec = _recording_for("log_segmentation_image", recording)
    if rec is not None:
        rec.log_segmentation_image(
            entity_path, image, draw_order=draw_order, ext=ext, timeless=timeless
        )


def log_annotation_context(
    entity_path: str,
    class_descriptions: Any,
    *,
    timeless: bool = True,
    recording: RecordingStream | None = None,
) -> None:
    """Log class labels and colours (timeless by default, like legacy Rerun)."""
    rec = _recording_for("log_annotation_context", recording)
    if rec is not None:
        rec.log_annotation_context(entity_path, class_descriptions, timeless=timeless)


def log_extension_components(
    entity_path: str,
    ext: Mapping[str, Any],
    *,
    identifiers: Sequence[int] | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log user components on their own, optionally one value per identifier."""
    rec = _recording_for("log_extension_components", recording)
    if rec is not None:
        rec.log_extension_components(entity_path, ext, identifiers=identifiers, timeless=timeless)


def send_columns(
    entity_path: str,
    frames: Any,
    *,
    times: Mapping[str, Any],
    kind: str = "image",
    recording: RecordingStream | None = None,
    **options: Any,
) -> None:
    """Log N frames at once (N x H x W (x C) array or N arrays), one record per frame.

    ``times`` maps each timeline to N values; ``kind`` is image, depth or segmentation and
    ``options`` the per-frame builder's; the batch is validated once, all or nothing.
    A tensor batch is read like one frame (one host copy from a GPU); images take
    ``layout="CHW"`` for an N x C x H x W batch.
    """
    rec = _recording_for("send_columns", recording)
    if rec is not None:
        rec.send_columns(entity_path, frames, times=times, kind=kind, **options)


# -- time ---------------------------------------------------------------------------------


def set_time_sequence(
    timeline: str, sequence: int | None, recording: RecordingStream | None = None
) -> None:
    """Set (``None``: remove) this thread's sequence ``timeline`` (an int64)."""
    rec = get_data_recording(recording)
    if rec is not None:
        rec.set_time_sequence(timeline, sequence)  # checks the arguments
    else:  # usage errors raise without a recording too
        check_timeline(timeline)
        to_int64(sequence, param="sequence")


def set_time_seconds(
    timeline: str, seconds: float | None, recording: RecordingStream | None = None
) -> None:
    """Set (``None``: remove) this thread's time ``timeline``, in seconds."""
    rec = get_data_recording(recording)
    if rec is not None:
        rec.set_time_seconds(timeline, seconds)  # checks the arguments
    else:  # usage errors raise without a recording too
        check_timeline(timeline)
        nanos_from_seconds(seconds)


def set_time_nanos(
    timeline: str, nanos: int | None, recording: RecordingStream | None = None
) -> None:
    """Set (``None``: remove) this thread's time ``timeline``, in nanoseconds."""
    rec = get_data_recording(recording)
    if rec is not None:
        rec.set_time_nanos(timeline, nanos)  # checks the arguments
    else:  # usage errors raise without a recording too
        check_timeline(timeline)
        to_int64(nanos, param="nanos")


def reset_time(recording: RecordingStream | None = None) -> None:
    """Remove every timeline of this thread in the recording."""
    rec = get_data_recording(recording)
    if rec is not None:
        rec.reset_time()


# -- sinks --------------------------------------------------------------------------------


def save(
    path: PathLike,
    recording: RecordingStream | None = None,
    *,
    compression: str | None = None,
    buffer_bytes: int = 0,
) -> None:
    """Stream the recording (what was logged so far included) to ``path`` (``.rrc``).

    ``compression="zstd"`` or ``"lz4"`` compresses the pixels of an ``.rrc`` file;
    ``buffer_bytes=N`` writes it N bytes at a time (see ``FileSink``).
    """
    rec = _recording_for("save", recording)
    if rec is not None:
        rec.save(path, compression=compression, buffer_bytes=buffer_bytes)


def memory_recording(recording: RecordingStream | None = None) -> MemorySink:
    """Send the recording to a new ``MemorySink`` and return it.

    Without a recording, the returned sink stays empty (with a warning).
    """
    rec = _recording_for("memory_recording", recording)
    return MemorySink() if rec is None else rec.memory_recording()


def flush(recording: RecordingStream | None = None) -> None:
    """Return once everything logged so far reached the recording's sink."""
    rec = get_data_recording(recording)
    if rec is not None:
        rec.flush()


def disconnect(recording: RecordingStream | None = None) -> None:
    """Close the recording's sink; later records wait in memory for the next sink."""
    rec = get_data_recording(recording)
    if rec is not None:
        rec.disconnect()
