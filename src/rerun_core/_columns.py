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

import attrs
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

__all__ = ["COLUMN_KINDS", "ColumnFrames", "make_column_frames", "make_column_msgs", "with_pixels"]

_BUILDERS: dict[str, Callable[..., Any]] = {
    "image": make_image_msg,
    "depth": make_depth_msg,
    "segmentation": make_segmentation_msg,
}
COLUMN_KINDS = tuple(_BUILDERS)
_OPTIONS = {  # the recording, not the caller, decides whether frames are borrowed
    kind: tuple(
        name for name in inspect.signature(builder).parameters if name not in ("image", "borrow")
    )
    for kind, builder in _BUILDERS.items()
}
_new_image = trusted_constructor(ImageMsg)
_new_depth = trusted_constructor(DepthMsg)
_new_segmentation = trusted_constructor(SegmentationMsg)
_U8, _U16 = np.dtype(np.uint8), np.dtype(np.uint16)
_U8_MAX, _U16_MAX = int(np.iinfo(_U8).max), int(np.iinfo(_U16).max)


@attrs.frozen(eq=False)
class ColumnFrames:
    """N frames of one layout, validated once: a template message and the pixel block.

    ``template`` is the per-frame builder's message for frame 0; ``pixels`` is an
    N x ``template.pixels.shape`` array of ``template.pixels.dtype``, C-contiguous and
    little-endian, whose frame ``i`` is what the builder stores for frame ``i``. It may be
    the caller's own memory (no copy was made): read it before the caller runs on, and
    copy it before keeping it (``messages`` does).
    """

    template: ImageMsg | DepthMsg | SegmentationMsg
    pixels: np.ndarray[Any, Any]

    def __len__(self) -> int:
        """Return the number of frames."""
        return len(self.pixels)

    def messages(self) -> list[ImageMsg] | list[DepthMsg] | list[SegmentationMsg]:
        """One message per frame, the pixels copied once into immutable memory."""
        template = self.template
        return [with_pixels(template, frame) for frame in freeze(self.pixels)]


def make_column_msgs(
    frames: Any, *, kind: str = "image", **options: Any
) -> list[ImageMsg] | list[DepthMsg] | list[SegmentationMsg]:
    """Validate a batch of frames once and return one message per frame.

    Each message equals what the per-frame builder of ``kind`` returns for that frame
    with the same ``options``; a bad frame raises that builder's error (nothing else).
    """
    checked = make_column_frames(frames, kind=kind, **options)
    return checked.messages() if isinstance(checked, ColumnFrames) else checked


def make_column_frames(
    frames: Any, *, kind: str = "image", **options: Any
) -> ColumnFrames | list[ImageMsg] | list[DepthMsg] | list[SegmentationMsg]:
    """Validate a batch like ``make_column_msgs``; frames of one layout stay one block.

    Returns a :class:`ColumnFrames` when every frame has the same stored layout (a
    stacked array, or a sequence of frames of one shape and dtype, without
    ``jpeg_quality``), else the list of messages.
    """
    builder = _builder(kind, options)
    batch, frames_list = _frames(frames)
    if not len(frames_list):
        return []
    if kind == "image" and options.get("jpeg_quality") is not None:
        return [_checked(builder, frame, i, options) for i, frame in enumerate(frames_list)]
    first: dict[Any, int] = {}
    if batch is not None:  # every frame has the batch's frame shape and dtype
        first[batch.shape[1:], batch.dtype] = 0
    for index, frame in enumerate(() if batch is not None else frames_list):
        first.setdefault((frame.shape, frame.dtype), index)
    templates = {key: _checked(builder, frames_list[i], i, options) for key, i in first.items()}
    if kind == "segmentation":
        return _segmentation_frames(batch, frames_list, templates, options)
    chw = options.get("layout") == "CHW"
    if len(templates) == 1:
        (template,) = templates.values()
        block = _stacked(batch, frames_list)
        return ColumnFrames(template, _block(block, template, chw=chw))
    messages: list[Any] = []
    append = messages.append
    for frame in frames_list:
        template = templates[frame.shape, frame.dtype]
        pixels = template.pixels
        view = (chw_to_hwc(frame) if chw else frame).reshape(pixels.shape)
        append(with_pixels(template, freeze(view, pixels.dtype)))
    return messages


def _stacked(batch: np.ndarray[Any, Any] | None, frames: Frames) -> np.ndarray[Any, Any]:
    """Return the frames as one N x ... array: the batch, or a stacked copy of the list."""
    return batch if batch is not None else np.stack(list(frames))


def _block(batch: np.ndarray[Any, Any], template: Any, *, chw: bool) -> np.ndarray[Any, Any]:
    """Return the N frames as the builder stores them: HWC, the template's shape and dtype."""
    count, shape = len(batch), template.pixels.shape
    if chw and batch.ndim >= 4:  # N x (1 x ...) x C x H x W: frames are CxHxW images
        batch = batch.reshape(count, *batch.shape[-3:]).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(batch.reshape(count, *shape), dtype=template.pixels.dtype)


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


Frames = list[np.ndarray[Any, Any]] | np.ndarray[Any, Any]  # a batch array is its frames


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
    return batch, batch


def _checked(
    builder: Callable[..., Any], frame: np.ndarray[Any, Any], index: int, options: dict[str, Any]
) -> Any:
    try:
        return builder(frame, **options)
    except RerunCoreError as err:
        err.add_note(f"(in frames[{index}] of the batch)")
        raise


def with_pixels(template: Any, pixels: np.ndarray[Any, Any]) -> Any:
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


def _segmentation_frames(
    batch: np.ndarray[Any, Any] | None,
    frames: Frames,
    templates: dict[Any, Any],
    options: dict[str, Any],
) -> ColumnFrames | list[SegmentationMsg]:
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
    wides = [
        not _is_byte(frame.dtype) and high > _U8_MAX
        for frame, high in zip(frames, highs, strict=True)
    ]
    if len(templates) == 1 and len(set(wides)) == 1:  # one stored layout: one block
        (template,) = templates.values()
        return ColumnFrames(template, _block(_stacked(batch, frames), template, chw=False))
    messages: list[SegmentationMsg] = []
    for frame, wide in zip(frames, wides, strict=True):
        template = templates[frame.shape, frame.dtype]
        pixels = freeze(frame.reshape(template.pixels.shape), _U16 if wide else _U8)
        messages.append(with_pixels(template, pixels))
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
