"""Records: a message with where (entity path) and when (timepoint, tick, wall clock).

Rules: a timeless record has no timeline; ``TimeValue.kind`` is ``"sequence"`` or
``"time"`` (nanoseconds); values, ``log_tick`` and ``log_time_ns`` fit in int64.
``Record(...)`` and ``make_record`` check everything; ``stamp_record`` and
``new_time_value`` are the recording's fast paths for parts the core already checked,
published (with their rules) in ``rerun_core.unchecked``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar, Literal, final

import attrs

from rerun_core._messages import (
    AnnotationContextMsg,
    DepthMsg,
    ExtensionMsg,
    ImageMsg,
    Message,
    Sealed,
    SegmentationMsg,
    trusted_constructor,
)
from rerun_core._paths import parse_entity_path
from rerun_core._scalars import INT64_MAX, INT64_MIN, check_int
from rerun_core.errors import InvalidArgumentError

__all__ = [
    "NO_TIMELINES",
    "Record",
    "TimeKind",
    "TimeValue",
    "make_record",
    "new_time_value",
    "stamp_record",
]

TimeKind = Literal["sequence", "time"]
NO_TIMELINES: Mapping[str, TimeValue] = MappingProxyType({})
_MESSAGE_TYPES = (ImageMsg, DepthMsg, SegmentationMsg, AnnotationContextMsg, ExtensionMsg)


def _time_kind(value: object) -> TimeKind:
    if value == "sequence":
        return "sequence"
    if value == "time":
        return "time"
    msg = f"TimeValue.kind must be 'sequence' or 'time' (nanoseconds); got {value!r}."
    raise InvalidArgumentError(msg, param="kind")


def _int64(value: object) -> int:
    return check_int(value, param="time value", low=INT64_MIN, high=INT64_MAX)


def _tick(value: object) -> int:
    return check_int(value, param="log_tick", low=0, high=INT64_MAX)


@final
@attrs.frozen
class TimeValue(Sealed):
    """A point on one timeline: a sequence number or a time in nanoseconds (an int64)."""

    MIN: ClassVar[int] = INT64_MIN
    """The smallest ``value``: -2**63."""
    MAX: ClassVar[int] = INT64_MAX
    """The largest ``value``: 2**63 - 1."""

    kind: TimeKind = attrs.field(converter=_time_kind)
    value: int = attrs.field(converter=_int64)


def _timepoint(value: object) -> Mapping[str, TimeValue]:
    if value is None or (type(value) is dict and not value):
        return NO_TIMELINES
    if not isinstance(value, Mapping):
        msg = f"timepoint must map timeline names to TimeValue; got {type(value).__name__}."
        raise InvalidArgumentError(msg, param="timepoint")
    result: dict[str, TimeValue] = {}
    for name, time in value.items():
        if not isinstance(name, str) or not name or not name.isprintable():
            msg = f"timeline names must be non-empty printable str; got {name!r}."
            raise InvalidArgumentError(msg, param="timepoint")
        if isinstance(time, TimeValue):
            result[name] = time
        elif isinstance(time, tuple) and len(time) == 2:
            result[name] = TimeValue(*time)
        else:
            msg = f"timepoint[{name!r}] must be a TimeValue or (kind, value); got {time!r}."
            raise InvalidArgumentError(msg, param="timepoint")
    return MappingProxyType(result) if result else NO_TIMELINES


def _message(value: object) -> Message:
    if not isinstance(value, _MESSAGE_TYPES):
        msg = f"msg must be a message built by a make_*_msg function; got {type(value).__name__}."
        raise InvalidArgumentError(msg, param="msg")
    return value


@final
@attrs.frozen(kw_only=True)
class Record(Sealed):
    """A message logged at an entity path and a point in time."""

    entity_path: tuple[str, ...] = attrs.field(converter=parse_entity_path)
    msg: Message = attrs.field(converter=_message)
    timepoint: Mapping[str, TimeValue] = attrs.field(factory=dict, converter=_timepoint, hash=False)
    timeless: bool = False
    log_tick: int = attrs.field(default=0, converter=_tick)
    log_time_ns: int = attrs.field(default=0, converter=_int64)

    def __attrs_post_init__(self) -> None:
        """Check that a timeless record carries no timeline."""
        if not isinstance(self.timeless, bool):
            msg = f"timeless must be True or False; got {self.timeless!r}."
            raise InvalidArgumentError(msg, param="timeless")
        if self.timeless and self.timepoint:
            msg = "a timeless record carries no timeline; pass timepoint=None with timeless=True."
            raise InvalidArgumentError(msg, param="timepoint")


def make_record(
    entity_path: str | Sequence[str],
    msg: Message,
    *,
    timepoint: Mapping[str, TimeValue] | None = None,
    timeless: bool = False,
    log_tick: int = 0,
    log_time_ns: int = 0,
) -> Record:
    """Stamp ``msg`` with where and when it was logged."""
    return Record(
        entity_path=entity_path,
        msg=msg,
        timepoint=timepoint,
        timeless=timeless,
        log_tick=log_tick,
        log_time_ns=log_time_ns,
    )


_new_record = trusted_constructor(Record)
new_time_value = trusted_constructor(TimeValue)
"""Build a ``TimeValue`` from a kind of ``"sequence"``/``"time"`` and a checked int64."""


def stamp_record(
    entity_path: tuple[str, ...],
    msg: Message,
    timepoint: Mapping[str, TimeValue],
    *,
    timeless: bool,
    log_tick: int,
    log_time_ns: int,
) -> Record:
    """Stamp a message whose parts the core already checked (the recording's hot path).

    ``entity_path`` must come from ``parse_entity_path``, ``msg`` from a builder or a
    ``Message`` constructor, ``timepoint`` must be a read-only mapping of ``TimeValue``
    (empty when ``timeless``); the tick and the clock reading are checked here.
    """
    if type(log_tick) is not int or not 0 <= log_tick <= INT64_MAX:
        log_tick = _tick(log_tick)
    if type(log_time_ns) is not int or not INT64_MIN <= log_time_ns <= INT64_MAX:
        log_time_ns = _int64(log_time_ns)
    if timeless and timepoint:
        msg_ = "a timeless record carries no timeline; pass an empty timepoint with timeless."
        raise InvalidArgumentError(msg_, param="timepoint")
    return _new_record(
        entity_path=entity_path,
        msg=msg,
        timepoint=timepoint,
        timeless=timeless,
        log_tick=log_tick,
        log_time_ns=log_time_ns,
    )
