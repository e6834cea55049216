"""``make_column_msgs``: a batch of frames, validated once, as one message per frame.

Rules:
- ``frames`` is an N x H x W (x C) array (anything the builders take: numpy, tensors,
  ``__array__``) whose first axis is the frame, or a sequence of N such frames;
- ``kind`` is ``"image"``, ``"depth"`` or ``"segmentation"``; ``options`` are the
  per-frame builder's keyword arguments (``make_image_msg``, ``make_depth_msg``,
  ``make_segmentation_msg``);
- message ``i`` equals ``builder(frames[i], **options)``, and a bad batch raises what the
  per-frame builder raises for the first bad frame (the error gets a note naming it);
- validation runs once per distinct frame shape and dtype (the per-frame rules depend
  on nothing else), except the values segmentation ids need (one vectorised min/max);
  ``jpeg_quality`` compresses each frame on its own;
- all or nothing: nothing is returned unless every frame is valid.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from rerun_core._arrays import describe, freeze, to_numpy
from rerun_core._depth import make_depth_msg
from rerun_core._image import make_image_msg
from rerun_core._messages import (
    DepthMsg,
    ImageMsg,
    SegmentationMsg,
    trusted_constructor,
)
from rerun_core._segmentation import make_segmentation_msg
from rerun_core._shapes import chw_to_hwc
from rerun_core.errors import InvalidArgumentError, RerunCoreError

__all__ = ["COLUMN_KINDS", "make_column_msgs"]

_BUILDERS: dict[str, Callable[..., Any]] = {
    "image": make_image_msg,
    "depth": make_depth_msg,
    "segmentation": make_segmentation_msg,
}
COLUMN_KINDS = tuple(_BUILDERS)
_OPTIONS = {
    kind: tuple(name for name in inspect.signature(builder).parameters if name != "image")
    for kind, builder in _BUILDERS.items()
}
_new_image = trusted_constructor(ImageMsg)
_new_depth = trusted_constructor(DepthMsg)
_new_segmentation = trusted_constructor(SegmentationMsg)
_U8, _U16 = np.dtype(np.uint8), np.dtype(np.uint16)
_U8_MAX, _U16_MAX = int(np.iinfo(_U8).max), int(np.iinfo(_U16).max)


def make_column_msgs(
    frames: Any, *, kind: str = "image", **options: Any
) -> list[ImageMsg] | list[DepthMsg] | list[SegmentationMsg]:
    """Validate a batch of frames once and return one message per frame.

    Each message equals what the per-frame builder of ``kind`` returns for that frame
    with the same ``options``; a bad frame raises that builder's error (nothing else).
    """
    builder = _builder(kind, options)
    batch, frames_list = _frames(frames)
    if not frames_list:
        return []
    if kind == "image" and options.get("jpeg_quality") is not None:
        return [_checked(builder, frame, i, options) for i, frame in enumerate(frames_list)]
    first: dict[Any, int] = {}
    for index, frame in enumerate(frames_list):
        first.setdefault((frame.shape, frame.dtype), index)
    templates = {key: _checked(builder, frames_list[i], i, options) for key, i in first.items()}
    if kind == "segmentation":
        return _segmentation_msgs(batch, frames_list, templates, options)
    chw = options.get("layout") == "CHW"
    messages: list[Any] = []
    append = messages.append
    for frame in frames_list:
        template = templates[frame.shape, frame.dtype]
        pixels = template.pixels
        view = (chw_to_hwc(frame) if chw else frame).reshape(pixels.shape)
        append(_like(template, freeze(view, pixels.dtype)))
    return messages


def _builder(kind: object, options: dict[str, Any]) -> Callable[..., Any]:
    if not isinstance(kind, str) or kind not in _BUILDERS:
        msg = f"kind must be one of {', '.join(COLUMN_KINDS)}; got {kind!r}."
        raise InvalidArgumentError(msg, param="kind")
    unknown = sorted(set(options) - set(_OPTIONS[kind]))
    if unknown:
        msg = (
            f"send_columns(kind={kind!r}) got unexpected options {', '.join(unknown)}; "
            f"allowed: {', '.join(_OPTIONS[kind])}."
        )
        raise TypeError(msg)
    return _BUILDERS[kind]


Frames = list[np.ndarray[Any, Any]]


def _frames(frames: Any) -> tuple[np.ndarray[Any, Any] | None, Frames]:
    """Return the batch array (None for a sequence of frames) and the frames as arrays."""
    if isinstance(frames, list | tuple):
        return None, [to_numpy(frame, param=f"frames[{i}]") for i, frame in enumerate(frames)]
    batch = to_numpy(frames, param="frames")
    if batch.ndim < 3:
        msg = (
            f"frames must be an N x H x W (x C) array of N frames, or a sequence of frames; "
            f"got {describe(batch)}. Stack the frames, e.g. np.stack(frames)."
        )
        raise InvalidArgumentError(msg, param="frames")
    return batch, list(batch)


def _checked(
    builder: Callable[..., Any], frame: np.ndarray[Any, Any], index: int, options: dict[str, Any]
) -> Any:
    try:
        return builder(frame, **options)
    except RerunCoreError as err:
        err.add_note(f"(in frames[{index}] of the batch)")
        raise


def _like(template: Any, pixels: np.ndarray[Any, Any]) -> Any:
    """Return a message equal to ``template`` except for its pixels (same shape)."""
    if type(template) is ImageMsg:
        return _new_image(
            height=template.height,
            width=template.width,
            channels=template.channels,
            color_model=template.color_model,
            pixels=pixels,
            encoded=None,
            media_type=None,
            draw_order=template.draw_order,
            ext=template.ext,
        )
    if type(template) is DepthMsg:
        return _new_depth(
            pixels=pixels, meter=template.meter, draw_order=template.draw_order, ext=template.ext
        )
    return _new_segmentation(pixels=pixels, draw_order=template.draw_order, ext=template.ext)


def _segmentation_msgs(
    batch: np.ndarray[Any, Any] | None,
    frames: Frames,
    templates: dict[Any, Any],
    options: dict[str, Any],
) -> list[SegmentationMsg]:
    """Check every frame's id range at once; store each frame as uint8 when its ids fit."""
    highs: list[int] = [0] * len(frames)
    if batch is not None:
        byte_ids = _is_byte(batch.dtype)
    else:
        byte_ids = all(_is_byte(frame.dtype) for frame in frames)
    if not byte_ids:
        lows, highs = _id_ranges(batch, frames)
        for index, (low, high) in enumerate(zip(lows, highs, strict=True)):
            if low < 0 or high > _U16_MAX:
                _checked(make_segmentation_msg, frames[index], index, options)  # raises
    messages: list[SegmentationMsg] = []
    for frame, high in zip(frames, highs, strict=True):
        template = templates[frame.shape, frame.dtype]
        wide = not _is_byte(frame.dtype) and high > _U8_MAX
        pixels = freeze(frame.reshape(template.pixels.shape), _U16 if wide else _U8)
        messages.append(_like(template, pixels))
    return messages


def _is_byte(dtype: np.dtype[Any]) -> bool:
    """Bool and uint8 ids are stored as they are (no range to check)."""
    return dtype.kind == "b" or (dtype.kind == "u" and dtype.itemsize == 1)


def _id_ranges(batch: np.ndarray[Any, Any] | None, frames: Frames) -> tuple[list[int], list[int]]:
    """Per-frame lowest and highest id, as Python ints (exact for every integer dtype)."""
    if batch is not None and batch.dtype.kind in "iu":
        flat = batch.reshape(len(frames), -1)
        return flat.min(axis=1).tolist(), flat.max(axis=1).tolist()
    return [int(f.min()) for f in frames], [int(f.max()) for f in frames]
