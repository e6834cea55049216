"""Time: per-thread, per-recording timelines and the checks of ``set_time_*`` arguments.

Rules (legacy semantics):
- each thread has its own timelines in each recording; a new thread starts with none;
- ``set_time_sequence`` takes an int (numpy ints too) that fits in int64: kind
  ``"sequence"``; ``set_time_seconds`` takes a finite real number, stored as
  ``round(seconds * 1e9)`` nanoseconds, and ``set_time_nanos`` an int64: kind ``"time"``;
- ``None`` removes a timeline, but only one of the same kind;
- wrong types raise ``TypeError`` and out-of-range values ``OverflowError`` or
  ``ValueError``, in strict and lenient mode alike (these are usage errors);
- ``send_columns(times=...)`` gives each timeline one value per frame: ints make a
  sequence timeline, float seconds (rounded as above), ``np.datetime64`` (since the
  epoch) and ``np.timedelta64`` a time timeline in nanoseconds (calendar units such as
  months, NaT and bool are refused).
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from rerun_core import TimeValue
from rerun_core.unchecked import NO_TIMELINES, TimeKind, new_time_value

__all__ = [
    "Int64s",
    "ThreadTime",
    "check_timeline",
    "column_times",
    "int64",
    "nanos",
    "nanos_from_seconds",
    "to_int64",
]

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
    return None if value is None else int64(value, param=param)


def int64(value: object, *, param: str) -> int:
    """Return ``value`` (an int or a numpy int) if it fits in int64, else raise."""
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
    return None if seconds is None else nanos(seconds)


def nanos(seconds: object) -> int:
    """Return ``seconds`` (a finite real number) as int64 nanoseconds, rounded."""
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        msg = f"seconds must be a number or None; got {type(seconds).__name__} {seconds!r}."
        raise TypeError(msg)
    if not math.isfinite(seconds):
        msg = f"seconds must be finite; got {seconds!r}. Pass a finite number of seconds."
        raise ValueError(msg)
    return int64(round(float(seconds) * 1e9), param="seconds * 1e9")


Int64s = np.ndarray[Any, Any]  # one int64 per frame
_NANOS_PER_UNIT = {"D": 86_400 * 10**9, "h": 3_600 * 10**9, "m": 60 * 10**9, "s": 10**9}
_NANOS_PER_UNIT.update({"ms": 10**6, "us": 10**3, "ns": 1, "W": 7 * 86_400 * 10**9})


def column_times(times: object) -> dict[str, tuple[TimeKind, Int64s]]:
    """Check ``send_columns(times=...)``: timeline -> (kind, int64 values, one per frame).

    Integers are a sequence timeline; float seconds (rounded like ``set_time_seconds``),
    ``np.datetime64`` (nanoseconds since the epoch) and ``np.timedelta64`` a time one.
    The values come back as a new int64 array, converted once (not value by value).
    """
    if not isinstance(times, Mapping):
        msg = (
            f"times must be a dict of timeline -> one value per frame; got "
            f"{type(times).__name__}. Pass e.g. times={{'frame': range(n)}}."
        )
        raise TypeError(msg)
    return {check_timeline(name): _column(name, values) for name, values in times.items()}


def _column(name: str, values: object) -> tuple[TimeKind, Int64s]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        msg = f"times[{name!r}] must be a sequence of values, one per frame; got {values!r}."
        raise TypeError(msg)
    column = values if isinstance(values, np.ndarray) else np.asarray(list(values))
    if column.ndim != 1:
        msg = f"times[{name!r}] must be one value per frame (1-D); got shape {column.shape}."
        raise ValueError(msg)
    kind = column.dtype.kind
    if kind in "iu":
        if kind == "u" and column.size and int(column.max()) > _INT64_MAX:
            param = f"times[{name!r}]"
            for value in column.tolist():
                int64(value, param=param)  # raises for the first value past int64
        return "sequence", column.astype(np.int64)
    if kind == "f":
        return "time", np.array([nanos(value) for value in column.tolist()], np.int64)
    if kind in "mM":
        return "time", _nanos(name, column)
    if column.size == 0:
        return "sequence", np.zeros(0, np.int64)
    msg = (
        f"times[{name!r}] must hold ints (a sequence timeline), float seconds, np.datetime64 or "
        f"np.timedelta64 (a time timeline); got {column.dtype} values. Pass e.g. "
        f"np.arange(n) or np.array(seconds, float)."
    )
    raise TypeError(msg)


def _nanos(name: str, column: np.ndarray[Any, Any]) -> Int64s:
    unit, count = np.datetime_data(column.dtype)
    per_unit = _NANOS_PER_UNIT.get(unit)
    if per_unit is None:
        msg = (
            f"times[{name!r}] has {column.dtype} values, whose unit {unit!r} has no fixed length "
            "in nanoseconds; convert them first, e.g. values.astype('datetime64[s]')."
        )
        raise ValueError(msg)
    if np.isnat(column).any():
        msg = f"times[{name!r}] holds NaT; every frame needs a time."
        raise ValueError(msg)
    scale, param = per_unit * count, f"times[{name!r}] in nanoseconds"
    units = column.view(np.int64)
    if (
        units.size
        and not _INT64_MIN <= int(units.min()) * scale <= int(units.max()) * scale <= _INT64_MAX
    ):
        for value in units.tolist():
            int64(value * scale, param=param)  # raises for the first value past int64
    nanoseconds: Int64s = units * scale
    return nanoseconds
