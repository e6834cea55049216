"""The CBOR metadata schema of a record, and its mapping to and from messages.

Rules: every field has one fixed type; optional fields are omitted when they hold their
default; arrays are described by ``ArraySpec`` (dtype string, shape, offset into the
payload) and their bytes live in the payload, never in the CBOR. Fields are declared in
canonical CBOR key order (shorter first, then bytewise), so the unstructured dicts are
already canonically ordered and only floats need cbor2's (slower) canonical mode. The
schema classes are plain (not frozen) attrs classes: they live for one encode or decode,
and frozen ones take twice as long to build.

Decoding is strict: the format uses no CBOR tags, so every tag (even one cbor2 knows, such
as a decimal fraction whose ``int()`` would run for ever) is rejected while parsing;
indefinite lengths, duplicate keys and non-string keys are rejected too. Fields are built
only from their own CBOR type: an ``int`` field from a CBOR integer (never a float, string or
bool), a ``bool`` from a bool, a ``str`` from a text string, a ``float`` from a float and a
tuple from an array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar, get_args, get_origin

import attrs
import cattrs
import cbor2
import numpy as np
from cattrs import transform_error
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

__all__ = ["ArraySpec", "RecordMeta", "from_meta", "load_cbor", "load_meta", "to_meta"]

_T = TypeVar("_T")

CONVERTER = make_converter(omit_if_default=True)
_MAX_DEPTH = 16  # RecordMeta nests 7 deep; deeper CBOR is not a record


def _reject_tag(*args: Any) -> NoReturn:
    msg = "CBOR tags are not part of the format"
    raise ValueError(msg)


class _EveryTag(Mapping[int, Callable[..., Any]]):
    """Maps every tag number to a rejection, overriding the decoders cbor2 has built in."""

    def __getitem__(self, tag: int) -> Callable[..., Any]:
        return _reject_tag

    def __contains__(self, tag: object) -> bool:
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


_NO_TAGS = _EveryTag()


def _exact(kind: type[Any]) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if type(value) is not kind:
            msg = f"expected a CBOR {kind.__name__}, got {type(value).__name__} {value!r:.40}"
            raise TypeError(msg)
        return value

    return structure


def _tuple_hook(tuple_type: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    """Structure a tuple only from a CBOR array, element by element."""
    args = get_args(tuple_type)
    homogeneous = len(args) == 2 and args[1] is Ellipsis
    hooks = [CONVERTER.get_structure_hook(arg) for arg in args[: 1 if homogeneous else None]]

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if type(value) is not list:
            msg = f"expected a CBOR array for {tuple_type}, got {type(value).__name__}"
            raise TypeError(msg)
        if homogeneous:
            return tuple(hooks[0](item, args[0]) for item in value)
        if len(value) != len(args):
            msg = f"expected {len(args)} items for {tuple_type}, got {len(value)}"
            raise ValueError(msg)
        return tuple(hook(item, arg) for hook, item, arg in zip(hooks, value, args, strict=True))

    return structure


def _is_tuple(type_: Any) -> bool:
    origin: Any = get_origin(type_)
    return origin is tuple


for _kind in (int, bool, str, float):
    CONVERTER.register_structure_hook(_kind, _exact(_kind))
CONVERTER.register_structure_hook_factory(_is_tuple, _tuple_hook)


def load_meta(data: bytes) -> RecordMeta:
    """Parse CBOR record metadata strictly (see the module rules); errors are plain exceptions."""
    return load_cbor(data, RecordMeta)


def load_cbor(data: bytes, cls: type[_T]) -> _T:
    """Parse CBOR into the schema class ``cls`` with the rules of :func:`load_meta`."""
    try:
        tree = cbor2.loads(
            data,
            semantic_decoders=_NO_TAGS,
            tag_hook=_reject_tag,
            max_depth=_MAX_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
            strict_hashable_types=True,
        )
    except cbor2.CBORDecodeError as exc:
        reason = f"{exc}: {exc.__cause__}" if exc.__cause__ is not None else str(exc)
        raise ValueError(reason) from None
    try:
        meta: _T = CONVERTER.structure(tree, cls)
    except cattrs.BaseValidationError as exc:
        details = transform_error(exc, format_exception=lambda error, _: str(error))
        raise ValueError("; ".join(details)) from None
    return meta


# cattrs emits fields without a default before the others; these impossible defaults keep
# ``kind`` and ``entity_path`` in declared (canonical) order, and they are always emitted.
_NEVER_A_KIND = ""
_NEVER_A_PATH = ("",)


@attrs.define(kw_only=True)
class ArraySpec:
    """Where one array's bytes are in the payload: little-endian dtype, shape, offset.

    Compressed arrays (format 1.1) also name their codec, stored size and filter.
    """

    dtype: str
    shape: tuple[int, ...]
    offset: int
    codec: str | None = None  # format 1.1, kind-3 records only: "zstd" or "lz4"
    stored: int | None = None  # compressed bytes in the payload
    shuffle: bool = False  # bytes were shuffled (all first bytes, then all second, ...)


@attrs.define(kw_only=True)
class TimeEntry:
    """One timeline of the timepoint."""

    kind: str
    value: int
    timeline: str


@attrs.define(kw_only=True)
class InfoMeta:
    """An annotation id with optional label and RGBA colour."""

    id: int
    color: tuple[int, int, int, int] | None = None
    label: str | None = None


@attrs.define(kw_only=True)
class ClassMeta:
    """A class description: info, keypoints, keypoint connections."""

    info: InfoMeta
    keypoints: tuple[InfoMeta, ...] = ()
    connections: tuple[tuple[int, int], ...] = ()


@attrs.define(kw_only=True)
class MsgMeta:
    """A message of any kind; fields not used by ``kind`` are omitted."""

    ext: tuple[tuple[str, ArraySpec], ...] = ()
    kind: str = _NEVER_A_KIND
    meter: float | None = None
    width: int | None = None
    height: int | None = None
    pixels: ArraySpec | None = None
    classes: tuple[ClassMeta, ...] = ()
    encoded: ArraySpec | None = None
    channels: int | None = None
    draw_order: float | None = None
    media_type: str | None = None
    color_model: str | None = None
    identifiers: tuple[int, ...] | None = None

    @property
    def has_floats(self) -> bool:
        """Whether any field is a float (those need canonical CBOR's shortest encoding)."""
        return self.meter is not None or self.draw_order is not None


@attrs.define(kw_only=True)
class RecordMeta:
    """Everything about a record except array bytes."""

    msg: MsgMeta
    log_tick: int = 0
    timeless: bool = False
    timepoint: tuple[TimeEntry, ...] = ()
    entity_path: tuple[str, ...] = _NEVER_A_PATH
    log_time_ns: int = 0


Place = Callable[[np.ndarray[Any, Any]], ArraySpec]
Fetch = Callable[[ArraySpec], np.ndarray[Any, Any]]


def to_meta(record: Record, place: Place) -> RecordMeta:
    """Describe ``record``; ``place`` puts an array in the payload and returns its spec."""
    timepoint = tuple(
        TimeEntry(kind=time.kind, value=time.value, timeline=name)
        for name, time in sorted(record.timepoint.items())
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
    return InfoMeta(id=info.id, color=info.color, label=info.label)


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
                info=_info_meta(c.info),
                keypoints=tuple(_info_meta(k) for k in c.keypoint_annotations),
                connections=c.keypoint_connections,
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
