"""Time: per-thread, per-recording timelines and the checks of ``set_time_*`` arguments.

Rules (legacy semantics):
- each thread has its own timelines in each recording; a new thread starts with none;
- ``set_time_sequence`` takes an int (numpy ints too) that fits in int64: kind
  ``"sequence"``; ``set_time_seconds`` takes a finite real number, stored as
  ``round(seconds * 1e9)`` nanoseconds, and ``set_time_nanos`` an int64: kind ``"time"``;
- ``None`` removes a timeline, but only one of the same kind;
- wrong types raise ``TypeError`` and out-of-range values ``OverflowError`` or
  ``ValueError``, in strict and lenient mode alike (these are usage errors).
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Mapping
from types import MappingProxyType

from rerun_core import TimeValue
from rerun_core.unchecked import NO_TIMELINES, TimeKind, new_time_value

__all__ = ["ThreadTime", "check_timeline", "nanos_from_seconds", "to_int64"]

_INT64_MIN, _INT64_MAX = TimeValue.MIN, TimeValue.MAX


class ThreadTime(threading.local):
    """The calling thread's timelines in one recording (timeline name -> ``TimeValue``)."""

    def __init__(self) -> None:
        """Start the thread with no timelines."""
        self._timelines: dict[str, TimeValue] = {}
        self.timepoint: Mapping[str, TimeValue] = NO_TIMELINES  # read-only, shared by records

    def set(self, timeline: str, kind: TimeKind, value: int | None) -> None:
        """Set ``timeline`` to ``value`` of ``kind``; ``None`` removes it if of that kind."""
        timelines = self._timelines
        if value is not None:
            timelines[timeline] = new_time_value(kind=kind, value=value)  # value is checked
        elif timeline in timelines and timelines[timeline].kind == kind:
            del timelines[timeline]
        else:
            return
        self.timepoint = MappingProxyType(timelines.copy()) if timelines else NO_TIMELINES

    def clear(self) -> None:
        """Remove every timeline."""
        self._timelines.clear()
        self.timepoint = NO_TIMELINES


def check_timeline(timeline: object) -> str:
    """Return ``timeline`` if it is a non-empty printable str."""
    if type(timeline) is str and timeline and timeline.isprintable():  # the common case
        return timeline
    if not isinstance(timeline, str):
        msg = f"timeline must be a str such as 'frame'; got {type(timeline).__name__}."
        raise TypeError(msg)
    if not timeline or not timeline.isprintable():
        msg = f"timeline must be a non-empty printable name such as 'frame'; got {timeline!r}."
        raise ValueError(msg)
    return timeline


def to_int64(value: object, *, param: str) -> int | None:
    """Return ``value`` (an int, a numpy int or ``None``) as an int64 or ``None``."""
    if type(value) is int and _INT64_MIN <= value <= _INT64_MAX:  # the common case
        return value
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        msg = (
            f"{param} must be an int or None; got {type(value).__name__} {value!r}. "
            f"Pass e.g. int({value!r}) if you meant to truncate it."
        )
        raise TypeError(msg)
    number = int(value)
    if not _INT64_MIN <= number <= _INT64_MAX:
        msg = f"{param} must fit in int64 (-2**63 .. 2**63-1); got {number}."
        raise OverflowError(msg)
    return number


def nanos_from_seconds(seconds: object) -> int | None:
    """Return ``seconds`` (a finite real number or ``None``) as int64 nanoseconds."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        msg = f"seconds must be a number or None; got {type(seconds).__name__} {seconds!r}."
        raise TypeError(msg)
    if not math.isfinite(seconds):
        msg = f"seconds must be finite; got {seconds!r}. Pass a finite number of seconds."
        raise ValueError(msg)
    return to_int64(round(float(seconds) * 1e9), param="seconds * 1e9")
