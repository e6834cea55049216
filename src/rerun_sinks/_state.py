"""All process-wide state of ``rerun_sinks``, in one place.

Rules:
- the global recording (``init``, ``set_global_data_recording``) and each thread's
  recording (``set_thread_local_data_recording``, ``with rec:``) are read and written
  only through the functions here; setters return the previous value; ``enter(rec)``
  makes ``rec`` this thread's recording until the matching ``leave()`` restores the
  previous one (blocks nest);
- sinks that hold records in memory (``BackgroundSink``) register here while open, and
  interpreter exit flushes every registered sink (the first error is raised after all
  were tried);
- ``reset_for_tests`` forgets the recordings and the shown warnings.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from typing import TYPE_CHECKING

from rerun_sinks._sinks import Sink
from rerun_sinks._warn import reset_warnings

if TYPE_CHECKING:
    from rerun_sinks._api import RecordingStream

__all__ = [
    "enter",
    "flush_at_exit",
    "get_global",
    "get_thread_local",
    "leave",
    "reset_for_tests",
    "set_global",
    "set_thread_local",
    "stop_flushing_at_exit",
]


class _ThreadRecording(threading.local):
    def __init__(self) -> None:
        self.recording: RecordingStream | None = None
        self.entered: list[RecordingStream | None] = []  # previous recordings of ``with``


class _Recordings:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.global_recording: RecordingStream | None = None
        self.thread = _ThreadRecording()


_recordings = _Recordings()
_flushed_at_exit: weakref.WeakSet[Sink] = weakref.WeakSet()


def get_global() -> RecordingStream | None:
    """Return the global recording, or ``None``."""
    return _recordings.global_recording


def set_global(recording: RecordingStream | None) -> RecordingStream | None:
    """Make ``recording`` the global recording; return the previous one."""
    with _recordings.lock:
        previous, _recordings.global_recording = _recordings.global_recording, recording
    return previous


def get_thread_local() -> RecordingStream | None:
    """Return this thread's recording, or ``None``."""
    return _recordings.thread.recording


def set_thread_local(recording: RecordingStream | None) -> RecordingStream | None:
    """Make ``recording`` this thread's recording; return the previous one."""
    thread = _recordings.thread
    previous, thread.recording = thread.recording, recording
    return previous


def enter(recording: RecordingStream) -> None:
    """Make ``recording`` this thread's recording until the matching ``leave()``."""
    _recordings.thread.entered.append(set_thread_local(recording))


def leave() -> None:
    """Restore this thread's recording from before the matching ``enter``."""
    set_thread_local(_recordings.thread.entered.pop())


def flush_at_exit(sink: Sink) -> None:
    """Flush ``sink`` at interpreter exit unless it is closed (forgotten) before."""
    _flushed_at_exit.add(sink)


def stop_flushing_at_exit(sink: Sink) -> None:
    """Forget ``sink`` (it was closed)."""
    _flushed_at_exit.discard(sink)


def _flush_at_exit() -> None:
    """Flush every registered sink; raise the first error after trying all."""
    errors: list[Exception] = []
    for sink in list(_flushed_at_exit):
        try:
            sink.flush()
        except Exception as err:
            errors.append(err)
    if errors:
        raise errors[0]


atexit.register(_flush_at_exit)


def reset_for_tests() -> None:
    """Forget the global and thread-local recordings and the shown warnings."""
    with _recordings.lock:
        _recordings.global_recording = None
        _recordings.thread = _ThreadRecording()
    reset_warnings()
