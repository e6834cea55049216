"""Records <-> Foxglove images: the pure mapping behind ``McapSink`` and the MCAP reader.

Rules (no I/O, no protobuf, no MCAP: values in, values out):
- a record's Foxglove form (:func:`foxglove_image`): raw images as ``foxglove.RawImage``
  ``mono8``/``rgb8``/``rgba8``/``bgr8``/``bgra8`` (uint8), ``mono16`` (uint16 L), ``32FC1``
  (float L); uint16 and float colour images are shown as 8-bit (uint16 >> 8, floats
  clipped to 0..1 x 255, NaN 0); float16/float64 L as float32; JPEG as
  ``foxglove.CompressedImage`` ``jpeg``; depth as ``16UC1`` (integers, uint8 widened) or
  ``32FC1`` metres (``float32(float64(d) / effective_meter)``); segmentation ``mono8`` /
  ``mono16``; channels never swizzled, ``step`` = width x bytes per pixel, little-endian;
- ``exact`` says whether the record's pixels come back from the Foxglove data; when not,
  the side record (:func:`fill_side`) carries the exact pixels, otherwise only the
  dtype and the sequence number of the Foxglove message (pixels are stored once);
- the side record holds everything else of the record (entity path, tick, log time,
  timeless, timeline values, colour model, draw order, meter, ext, annotation classes,
  extension components and identifiers), so :func:`record_from_side` rebuilds it exactly;
- :func:`foreign_record`: a Foxglove image of another writer as a record at its topic's
  entity path, ``log_time`` as ``log_time_ns`` and on a ``log_time`` time timeline;
  ``mono8``/``8UC1``/``mono16`` and ``rgb8``/``rgba8``/``bgr8``/``8UC3``/``bgra8`` are
  images, ``16UC1`` and ``32FC1`` depth (ROS conventions: millimetres, metres),
  ``CompressedImage`` ``jpeg``/``png`` encoded images; anything else raises
  :class:`~rerun_sinks.errors.ForeignDataError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple

import numpy as np

from rerun_core import (
    AnnotationContextMsg,
    AnnotationInfo,
    ClassDescription,
    ColorModel,
    DepthMsg,
    ExtensionMsg,
    ImageFormat,
    ImageMsg,
    Message,
    Record,
    RerunCoreError,
    SegmentationMsg,
    TimeValue,
    make_depth_msg,
    make_encoded_image_msg,
    make_image_msg,
    make_record,
    parse_entity_path,
)
from rerun_sinks.errors import ForeignDataError

__all__ = [
    "COMPRESSED_IMAGE",
    "RAW_IMAGE",
    "FoxgloveImage",
    "entity_topic",
    "fill_side",
    "fill_side_stamp",
    "fill_side_static",
    "foreign_record",
    "foxglove_image",
    "image_data",
    "layout_key",
    "record_from_side",
    "side_key",
    "side_topic",
]

RAW_IMAGE: Final = "foxglove.RawImage"
COMPRESSED_IMAGE: Final = "foxglove.CompressedImage"

_U1, _U2, _F4 = np.dtype("u1"), np.dtype("<u2"), np.dtype("<f4")
_UINT8_ENCODINGS: Mapping[ColorModel, str] = MappingProxyType(
    {
        ColorModel.L: "mono8",
        ColorModel.RGB: "rgb8",
        ColorModel.RGBA: "rgba8",
        ColorModel.BGR: "bgr8",
        ColorModel.BGRA: "bgra8",
    }
)
_DATA_DTYPES: Mapping[str, np.dtype[Any]] = MappingProxyType(
    {**dict.fromkeys(_UINT8_ENCODINGS.values(), _U1), "mono16": _U2, "16UC1": _U2, "32FC1": _F4}
)
# Foreign raw encodings: encoding -> (dtype, colour model or None for depth)
_FOREIGN: Mapping[str, tuple[np.dtype[Any], str | None]] = MappingProxyType(
    {
        "mono8": (_U1, "L"),
        "8UC1": (_U1, "L"),
        "rgb8": (_U1, "RGB"),
        "rgba8": (_U1, "RGBA"),
        "bgr8": (_U1, "BGR"),
        "8UC3": (_U1, "BGR"),
        "bgra8": (_U1, "BGRA"),
        "mono16": (_U2, "L"),
        "16UC1": (_U2, None),
        "32FC1": (_F4, None),
    }
)
_KINDS = ("image", "depth", "segmentation", "annotation_context", "extension")
# The Foxglove data type -> the record dtypes it holds exactly (uint8 depth is widened).
_EXACT_CASTS = frozenset({("|u1", "|u1"), ("<u2", "<u2"), ("<u2", "|u1"), ("<f4", "<f4")})
_CHANNELS = MappingProxyType({"L": 1, "RGB": 3, "RGBA": 4, "BGR": 3, "BGRA": 4})
_FORMATS = MappingProxyType({"jpeg": ImageFormat.JPEG, "jpg": ImageFormat.JPEG})
_FORMATS = MappingProxyType({**_FORMATS, "png": ImageFormat.PNG})


class FoxgloveImage(NamedTuple):
    """A Foxglove image message's fields (``encoding`` is the ``format`` of a compressed one)."""

    schema: str
    encoding: str
    width: int
    height: int
    step: int
    data: bytes
    exact: bool = True


def entity_topic(entity_path: tuple[str, ...]) -> str:
    """Return the MCAP topic of an entity path: ``/`` + path (``/`` for the root)."""
    return "/" + "/".join(entity_path)


def side_topic(entity_path: tuple[str, ...]) -> str:
    """Return the side channel's topic of an entity path: ``<topic>/rerun_core``."""
    return entity_topic(entity_path).rstrip("/") + "/rerun_core"


def foxglove_image(msg: Message) -> FoxgloveImage | None:
    """Return the Foxglove form of ``msg``; ``None`` for annotation contexts and extensions."""
    if type(msg) is ImageMsg:
        if msg.pixels is None:
            return FoxgloveImage(COMPRESSED_IMAGE, "jpeg", msg.width, msg.height, 0, msg.jpeg)
        return _image(msg.pixels, msg.color_model)
    if type(msg) is DepthMsg:
        return _depth(msg.pixels, msg.effective_meter)
    if type(msg) is SegmentationMsg:
        pixels = msg.pixels
        return _raw("mono8" if pixels.dtype.itemsize == 1 else "mono16", pixels, exact=True)
    return None


def layout_key(msg: Message) -> tuple[Any, ...] | None:
    """Return what decides ``msg``'s Foxglove form and :func:`side_key`, but its data.

    Messages with equal keys have Foxglove forms equal but for ``data``, and equal
    side keys (so a sink may build both once per entity and key); ``None`` for messages
    with per-record side data (ext, annotation contexts, extensions).
    """
    kind = type(msg)
    pixels: Any
    if kind is ImageMsg:
        pixels = msg.pixels  # type: ignore[union-attr]
        model = msg.color_model  # type: ignore[union-attr]
        if pixels is None:  # JPEG: a CompressedImage has no size
            key: tuple[Any, ...] = (kind, model)
        else:
            key = (kind, model, pixels.dtype, msg.height, msg.width)  # type: ignore[union-attr]
    elif kind is DepthMsg:
        pixels = msg.pixels  # type: ignore[union-attr]
        key = (kind, pixels.dtype, pixels.shape, msg.meter)  # type: ignore[union-attr]
    elif kind is SegmentationMsg:
        pixels = msg.pixels  # type: ignore[union-attr]
        key = (kind, pixels.dtype, pixels.shape)
    else:
        return None
    if msg.ext:  # type: ignore[union-attr]
        return None
    order = msg.draw_order  # type: ignore[union-attr]
    return key if order is None else (*key, order.hex())  # hex tells -0.0 from 0.0


def image_data(msg: Message, image: FoxgloveImage) -> Callable[[Any], bytes | memoryview]:
    """Return how to get the Foxglove data of messages with ``msg``'s :func:`layout_key`.

    ``image`` is ``msg``'s Foxglove form: the JPEG bytes, the pixels' own bytes when they
    are the Foxglove data unchanged (no copy for frozen pixels), else the converted pixels.
    """
    if image.schema == COMPRESSED_IMAGE:
        return _jpeg_data
    if image.exact and _DATA_DTYPES.get(image.encoding) == msg.pixels.dtype:  # type: ignore[union-attr]
        return _pixel_data
    return _converted_data


def _jpeg_data(msg: ImageMsg) -> bytes:
    return msg.jpeg


def _pixel_data(msg: ImageMsg | DepthMsg | SegmentationMsg) -> bytes | memoryview:
    """Return the pixels' own memory: ``bytes``, a file's map or a caller's (borrowed) array."""
    pixels: np.ndarray[Any, Any] = msg.pixels  # type: ignore[assignment]
    base: object = pixels.base
    if type(base) is bytes and len(base) == pixels.nbytes:
        return base
    return pixels.data.cast("B") if pixels.flags.c_contiguous else pixels.tobytes()


def _converted_data(msg: Message) -> bytes:
    return foxglove_image(msg).data  # type: ignore[union-attr]


def _image(pixels: np.ndarray[Any, Any], model: ColorModel) -> FoxgloveImage:
    dtype = pixels.dtype
    if dtype == _U1:
        return _raw(_UINT8_ENCODINGS[model], pixels, exact=True)
    if model is ColorModel.L:
        if dtype == _U2:
            return _raw("mono16", pixels, exact=True)
        with np.errstate(over="ignore"):  # float64 beyond float32: shown as inf
            return _raw("32FC1", pixels.astype(_F4), exact=dtype == _F4)
    if dtype == _U2:
        shown = (pixels >> 8).astype(_U1)
    else:
        unit = np.clip(np.nan_to_num(pixels.astype(np.float64), nan=0.0), 0.0, 1.0)
        shown = np.rint(unit * 255.0).astype(_U1)
    return _raw(_UINT8_ENCODINGS[model], shown, exact=False)


def _depth(pixels: np.ndarray[Any, Any], meter: float) -> FoxgloveImage:
    if pixels.dtype.kind != "f":
        return _raw("16UC1", pixels.astype(_U2, copy=False), exact=True)
    if pixels.dtype == _F4 and meter == 1.0:
        return _raw("32FC1", pixels, exact=True)
    with np.errstate(over="ignore"):  # beyond float32: shown as inf
        metres = np.divide(pixels, meter, dtype=np.float64).astype(_F4)
    return _raw("32FC1", metres, exact=False)


def _raw(encoding: str, pixels: np.ndarray[Any, Any], *, exact: bool) -> FoxgloveImage:
    height, width = pixels.shape[:2]
    step = pixels.nbytes // height
    return FoxgloveImage(RAW_IMAGE, encoding, width, height, step, _bytes(pixels), exact)


def _bytes(pixels: np.ndarray[Any, Any]) -> bytes:
    """Return the pixels' bytes, without a copy when the array is a whole ``bytes`` object."""
    base: object = pixels.base
    if type(base) is bytes and len(base) == pixels.nbytes and pixels.flags.c_contiguous:
        return base
    return pixels.tobytes()


def fill_side(side: Any, record: Record, image: FoxgloveImage | None, sequence: int | None) -> None:
    """Fill ``side`` (an empty ``rerun_core.Record`` protobuf message) for ``record``.

    ``image`` is the Foxglove form written for it and ``sequence`` that message's
    sequence number on its channel (both ``None`` when there is no Foxglove form).
    """
    fill_side_static(side, record.entity_path, record.msg, image)
    fill_side_stamp(side, record, sequence)


def fill_side_stamp(side: Any, record: Record, sequence: int | None) -> None:
    """Fill the fields of ``side`` that change from record to record: where in time, which image."""
    side.log_tick = record.log_tick
    side.log_time_ns = record.log_time_ns
    for name, time in record.timepoint.items():
        entry = side.timepoint.add()
        entry.timeline = name
        entry.kind = time.kind
        entry.value = time.value
    if record.timeless:
        side.timeless = True
    if sequence is not None:
        side.image_sequence = sequence


def side_key(msg: Message, image: FoxgloveImage | None) -> tuple[Any, ...] | None:
    """Return what :func:`fill_side_static` puts in a side record for ``msg``, as a dict key.

    Records of one entity with equal keys have byte-equal static parts (so a sink may
    serialize it once); ``None`` when the static part holds per-record data (pixels, ext,
    annotation classes, extension components).
    """
    if image is None or not image.exact or msg.ext:  # type: ignore[union-attr]
        return None
    kind = type(msg)
    pixels = msg.pixels  # type: ignore[union-attr]
    dtype = None if pixels is None else pixels.dtype.str
    if kind is ImageMsg:
        key: tuple[Any, ...] = (kind, dtype, msg.color_model)  # type: ignore[union-attr]
    elif kind is DepthMsg:
        key = (kind, dtype, msg.meter)  # type: ignore[union-attr]
    else:
        key = (kind, dtype)
    order = msg.draw_order  # type: ignore[union-attr]
    return key if order is None else (*key, order.hex())  # hex tells -0.0 from 0.0


def fill_side_static(
    side: Any, entity_path: tuple[str, ...], msg: Message, image: FoxgloveImage | None
) -> None:
    """Fill the fields of ``side`` that records of one entity and layout share."""
    side.entity_path.extend(entity_path)
    if type(msg) is AnnotationContextMsg:
        side.kind = "annotation_context"
        for description in msg.class_descriptions:
            _fill_class(side.class_descriptions.add(), description)
    elif type(msg) is ExtensionMsg:
        side.kind = "extension"
        _fill_components(side.ext, msg.components)
        if msg.identifiers is not None:
            side.identifiers.SetInParent()  # present, also when empty
            side.identifiers.values.extend(msg.identifiers)
    else:
        _fill_pictured(side, msg, image)


def _fill_pictured(
    side: Any, msg: ImageMsg | DepthMsg | SegmentationMsg, image: FoxgloveImage | None
) -> None:
    if type(msg) is ImageMsg:
        side.kind = "image"
        side.color_model = msg.color_model.value
    elif type(msg) is DepthMsg:
        side.kind = "depth"
        if msg.meter is not None:
            side.meter = msg.meter
    else:
        side.kind = "segmentation"
    pixels = msg.pixels
    if pixels is not None:
        side.dtype = pixels.dtype.str
        if image is None or not image.exact:
            _fill_array(side.pixels, pixels)
    if msg.draw_order is not None:
        side.draw_order = msg.draw_order
    if msg.ext:
        _fill_components(side.ext, msg.ext)


def _fill_array(target: Any, array: np.ndarray[Any, Any]) -> None:
    target.dtype = array.dtype.str
    target.shape.extend(array.shape)
    target.data = _bytes(array)


def _fill_components(target: Any, components: Mapping[str, np.ndarray[Any, Any]]) -> None:
    for name, array in components.items():
        component = target.add()
        component.name = name
        _fill_array(component.value, array)


def _fill_class(target: Any, description: ClassDescription) -> None:
    _fill_info(target.info, description.info)
    for keypoint in description.keypoint_annotations:
        _fill_info(target.keypoint_annotations.add(), keypoint)
    for first, second in description.keypoint_connections:
        connection = target.keypoint_connections.add()
        connection.first = first
        connection.second = second


def _fill_info(target: Any, info: AnnotationInfo) -> None:
    target.id = info.id
    if info.label is not None:
        target.label = info.label
    if info.color is not None:
        target.rgba = int.from_bytes(bytes(info.color), "big")


def record_from_side(side: Any, image: FoxgloveImage | None) -> Record:
    """Rebuild a record from its side record (a ``rerun_core.Record`` message) and image.

    ``image`` is the Foxglove message the side record refers to (``None`` when it has no
    ``image_sequence``). Raises the core's errors for a side record that breaks a rule.
    """
    timepoint = {t.timeline: TimeValue(t.kind, t.value) for t in side.timepoint}
    return Record(
        entity_path=tuple(side.entity_path),
        msg=_message(side, image),
        timepoint=timepoint,
        timeless=side.timeless,
        log_tick=side.log_tick,
        log_time_ns=side.log_time_ns,
    )


def _optional(side: Any, name: str) -> Any:
    return getattr(side, name) if side.HasField(name) else None


def _message(side: Any, image: FoxgloveImage | None) -> Message:
    kind = side.kind
    if kind not in _KINDS:
        msg = f"unknown record kind {kind!r} in a side record; known: {', '.join(_KINDS)}"
        raise ForeignDataError(msg)
    if kind == "annotation_context":
        return AnnotationContextMsg(
            class_descriptions=[_class_description(c) for c in side.class_descriptions]
        )
    ext = {c.name: _from_array(c.value) for c in side.ext}
    if kind == "extension":
        identifiers = _optional(side, "identifiers")
        return ExtensionMsg(
            components=ext, identifiers=None if identifiers is None else identifiers.values
        )
    draw_order = _optional(side, "draw_order")
    if kind == "image" and not side.HasField("dtype"):
        if image is None or image.schema != COMPRESSED_IMAGE:
            msg = "the side record of an encoded image needs its CompressedImage message"
            raise ForeignDataError(msg)
        return make_encoded_image_msg(
            image.data, media_type=ImageFormat.JPEG, draw_order=draw_order, ext=ext
        )
    pixels = _exact_pixels(side, image)
    if kind == "image":
        height, width, channels = pixels.shape
        return ImageMsg(
            height=height,
            width=width,
            channels=channels,
            color_model=side.color_model,
            pixels=pixels,
            draw_order=draw_order,
            ext=ext,
        )
    if kind == "depth":
        meter = _optional(side, "meter")
        return DepthMsg(pixels=pixels[..., 0], meter=meter, draw_order=draw_order, ext=ext)
    return SegmentationMsg(pixels=pixels[..., 0], draw_order=draw_order, ext=ext)


def _exact_pixels(side: Any, image: FoxgloveImage | None) -> np.ndarray[Any, Any]:
    """Return the record's pixels as H x W x C: from the side record, or the Foxglove data."""
    if side.HasField("pixels"):
        pixels = _from_array(side.pixels)
        return pixels if pixels.ndim == 3 else pixels[..., None]
    if image is None or image.schema != RAW_IMAGE or image.encoding not in _DATA_DTYPES:
        msg = "a side record without pixels needs its RawImage message"
        raise ForeignDataError(msg)
    data_dtype = _DATA_DTYPES[image.encoding]
    if (data_dtype.str, side.dtype) not in _EXACT_CASTS:
        msg = f"a {image.encoding} RawImage cannot hold {side.dtype!r} pixels exactly"
        raise ForeignDataError(msg)
    channels = ColorModel(side.color_model).channels if side.kind == "image" else 1
    shape = (image.height, image.width, channels)
    return _checked_frombuffer(image.data, data_dtype, shape).astype(side.dtype, copy=False)


def _from_array(array: Any) -> np.ndarray[Any, Any]:
    try:
        dtype = np.dtype(array.dtype)
    except TypeError as err:
        msg = f"an array of the side record has an unknown dtype {array.dtype!r}"
        raise ForeignDataError(msg) from err
    if dtype.kind not in "biufU":
        msg = (
            f"an array of the side record has dtype {array.dtype!r}; allowed: bool, int, float, str"
        )
        raise ForeignDataError(msg)
    return _checked_frombuffer(array.data, dtype, tuple(array.shape))


def _checked_frombuffer(
    data: bytes, dtype: np.dtype[Any], shape: tuple[int, ...]
) -> np.ndarray[Any, Any]:
    """Return ``data`` as an array of ``shape``, if its size is exactly that (no allocation)."""
    count = math.prod(shape)
    if count * dtype.itemsize != len(data):
        msg = f"{len(data)} bytes cannot be a {shape} {dtype} array"
        raise ForeignDataError(msg)
    return np.frombuffer(data, dtype, count=count).reshape(shape)


def _class_description(fields: Any) -> ClassDescription:
    return ClassDescription(
        info=_annotation_info(fields.info),
        keypoint_annotations=[_annotation_info(k) for k in fields.keypoint_annotations],
        keypoint_connections=[(c.first, c.second) for c in fields.keypoint_connections],
    )


def _annotation_info(fields: Any) -> AnnotationInfo:
    rgba = _optional(fields, "rgba")
    color = None if rgba is None else tuple(rgba.to_bytes(4, "big"))
    return AnnotationInfo(fields.id, _optional(fields, "label"), color)


def foreign_record(topic: str, image: FoxgloveImage, log_time: int, tick: int) -> Record:
    """Return another writer's Foxglove image as a record at ``topic``'s entity path."""
    try:
        msg = _foreign_message(image)
        return make_record(
            parse_entity_path(topic),
            msg,
            timepoint={"log_time": TimeValue("time", log_time)},
            log_tick=tick,
            log_time_ns=log_time,
        )
    except (RerunCoreError, ForeignDataError) as err:
        msg_ = f"{image.schema} on {topic!r}: {err}"
        raise ForeignDataError(msg_) from err


def _foreign_message(image: FoxgloveImage) -> Message:
    if image.schema == COMPRESSED_IMAGE:
        media_type = _FORMATS.get(image.encoding.lower())
        if media_type is None:
            msg = (
                f"CompressedImage format {image.encoding!r} is not supported; "
                "rerun_core reads 'jpeg' and 'png'"
            )
            raise ForeignDataError(msg)
        return make_encoded_image_msg(image.data, media_type=media_type)
    layout = _FOREIGN.get(image.encoding)
    if layout is None:
        msg = (
            f"RawImage encoding {image.encoding!r} is not supported; rerun_core reads "
            f"{', '.join(_FOREIGN)}"
        )
        raise ForeignDataError(msg)
    dtype, model = layout
    channels = 1 if model is None else _CHANNELS[model]
    row = image.width * channels * dtype.itemsize
    if image.step < row or len(image.data) < image.step * image.height or not row:
        msg = (
            f"RawImage {image.width}x{image.height} {image.encoding} needs step >= {row} "
            f"and step x height bytes; got step {image.step} and {len(image.data)} bytes"
        )
        raise ForeignDataError(msg)
    rows = np.frombuffer(image.data, np.uint8, count=image.step * image.height)
    packed = np.ascontiguousarray(rows.reshape(image.height, image.step)[:, :row])
    pixels = packed.view(dtype).reshape(image.height, image.width, channels)
    if model is None:
        return make_depth_msg(pixels[..., 0])
    return make_image_msg(pixels if channels > 1 else pixels[..., 0], color_model=model)
