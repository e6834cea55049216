"""The CBOR metadata schema of a record, and its mapping to and from messages.

Rules: every field has one fixed type; optional fields are omitted when they hold their
default; arrays are described by ``ArraySpec`` (dtype string, shape, offset into the
payload) and their bytes live in the payload, never in the CBOR.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from cattrs.preconf.cbor2 import make_converter

from rerun_core._annotation import AnnotationInfo, ClassDescription
from rerun_core._messages import (
    AnnotationContextMsg,
    DepthMsg,
    ExtensionMsg,
    ImageMsg,
    Message,
    SegmentationMsg,
)
from rerun_core._record import Record, TimeValue

__all__ = ["ArraySpec", "RecordMeta", "from_meta", "to_meta"]

CONVERTER = make_converter(omit_if_default=True)


@attrs.frozen
class ArraySpec:
    """Where one array's bytes are in the payload: little-endian dtype, shape, offset."""

    dtype: str
    shape: tuple[int, ...]
    offset: int


@attrs.frozen
class TimeEntry:
    """One timeline of the timepoint."""

    timeline: str
    kind: str
    value: int


@attrs.frozen
class InfoMeta:
    """An annotation id with optional label and RGBA colour."""

    id: int
    label: str | None = None
    color: tuple[int, int, int, int] | None = None


@attrs.frozen
class ClassMeta:
    """A class description: info, keypoints, keypoint connections."""

    info: InfoMeta
    keypoints: tuple[InfoMeta, ...] = ()
    connections: tuple[tuple[int, int], ...] = ()


@attrs.frozen
class MsgMeta:
    """A message of any kind; fields not used by ``kind`` are omitted."""

    kind: str
    pixels: ArraySpec | None = None
    encoded: ArraySpec | None = None
    media_type: str | None = None
    height: int | None = None
    width: int | None = None
    channels: int | None = None
    color_model: str | None = None
    draw_order: float | None = None
    meter: float | None = None
    ext: tuple[tuple[str, ArraySpec], ...] = ()
    classes: tuple[ClassMeta, ...] = ()
    identifiers: tuple[int, ...] | None = None


@attrs.frozen
class RecordMeta:
    """Everything about a record except array bytes."""

    entity_path: tuple[str, ...]
    msg: MsgMeta
    timepoint: tuple[TimeEntry, ...] = ()
    timeless: bool = False
    log_tick: int = 0
    log_time_ns: int = 0


Place = Callable[[np.ndarray[Any, Any]], ArraySpec]
Fetch = Callable[[ArraySpec], np.ndarray[Any, Any]]


def to_meta(record: Record, place: Place) -> RecordMeta:
    """Describe ``record``; ``place`` puts an array in the payload and returns its spec."""
    timepoint = tuple(
        TimeEntry(name, time.kind, time.value) for name, time in sorted(record.timepoint.items())
    )
    return RecordMeta(
        entity_path=record.entity_path,
        msg=_msg_meta(record.msg, place),
        timepoint=timepoint,
        timeless=record.timeless,
        log_tick=record.log_tick,
        log_time_ns=record.log_time_ns,
    )


def from_meta(meta: RecordMeta, fetch: Fetch) -> Record:
    """Rebuild a record; ``fetch`` returns the payload array a spec points at."""
    return Record(
        entity_path=meta.entity_path,
        msg=_msg_from_meta(meta.msg, fetch),
        timepoint={t.timeline: TimeValue(t.kind, t.value) for t in meta.timepoint},
        timeless=meta.timeless,
        log_tick=meta.log_tick,
        log_time_ns=meta.log_time_ns,
    )


def _ext_meta(ext: Any, place: Place) -> tuple[tuple[str, ArraySpec], ...]:
    return tuple((name, place(ext[name])) for name in sorted(ext))


def _info_meta(info: AnnotationInfo) -> InfoMeta:
    return InfoMeta(info.id, info.label, info.color)


def _msg_meta(msg: Message, place: Place) -> MsgMeta:
    if isinstance(msg, ImageMsg):
        encoded = None if msg.encoded is None else np.frombuffer(msg.encoded, np.uint8)
        return MsgMeta(
            kind="image",
            pixels=None if msg.pixels is None else place(msg.pixels),
            encoded=None if encoded is None else place(encoded),
            media_type=None if msg.media_type is None else msg.media_type.value,
            height=msg.height,
            width=msg.width,
            channels=msg.channels,
            color_model=msg.color_model.value,
            draw_order=msg.draw_order,
            ext=_ext_meta(msg.ext, place),
        )
    if isinstance(msg, DepthMsg):
        return MsgMeta(
            kind="depth",
            pixels=place(msg.pixels),
            meter=msg.meter,
            draw_order=msg.draw_order,
            ext=_ext_meta(msg.ext, place),
        )
    if isinstance(msg, SegmentationMsg):
        return MsgMeta(
            kind="segmentation",
            pixels=place(msg.pixels),
            draw_order=msg.draw_order,
            ext=_ext_meta(msg.ext, place),
        )
    if isinstance(msg, AnnotationContextMsg):
        classes = tuple(
            ClassMeta(
                _info_meta(c.info),
                tuple(_info_meta(k) for k in c.keypoint_annotations),
                c.keypoint_connections,
            )
            for c in msg.class_descriptions
        )
        return MsgMeta(kind="annotation_context", classes=classes)
    return MsgMeta(
        kind="extension", ext=_ext_meta(msg.components, place), identifiers=msg.identifiers
    )


def _required(value: Any, name: str) -> Any:
    if value is None:
        msg = f"field {name!r} is missing"
        raise ValueError(msg)
    return value


def _msg_from_meta(meta: MsgMeta, fetch: Fetch) -> Message:
    ext = {name: fetch(spec) for name, spec in meta.ext}
    pixels = None if meta.pixels is None else fetch(meta.pixels)
    if meta.kind == "image":
        return ImageMsg(
            height=_required(meta.height, "height"),
            width=_required(meta.width, "width"),
            channels=_required(meta.channels, "channels"),
            color_model=meta.color_model,
            pixels=pixels,
            encoded=None if meta.encoded is None else fetch(meta.encoded).tobytes(),
            media_type=meta.media_type,
            draw_order=meta.draw_order,
            ext=ext,
        )
    if meta.kind == "depth":
        return DepthMsg(
            pixels=_required(pixels, "pixels"),
            meter=meta.meter,
            draw_order=meta.draw_order,
            ext=ext,
        )
    if meta.kind == "segmentation":
        return SegmentationMsg(
            pixels=_required(pixels, "pixels"), draw_order=meta.draw_order, ext=ext
        )
    if meta.kind == "annotation_context":
        return AnnotationContextMsg(
            class_descriptions=[
                ClassDescription(
                    info=AnnotationInfo(c.info.id, c.info.label, c.info.color),
                    keypoint_annotations=[
                        AnnotationInfo(k.id, k.label, k.color) for k in c.keypoints
                    ],
                    keypoint_connections=c.connections,
                )
                for c in meta.classes
            ]
        )
    if meta.kind == "extension":
        return ExtensionMsg(components=ext, identifiers=meta.identifiers)
    msg = f"unknown message kind {meta.kind!r}"
    raise ValueError(msg)
