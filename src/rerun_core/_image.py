"""``make_image_msg``: gray or colour pixels, optionally compressed to JPEG.

Rules: dtypes uint8, uint16 (sRGB gamma), float16, float32, float64 (linear 0..1, NaN and
inf kept); 1, 3 or 4 channels mean L, RGB, RGBA unless ``color_model`` says BGR/BGRA
(metadata only, no swizzle); ``jpeg_quality`` compresses uint8 L/RGB only and keeps
``draw_order`` and ``ext``; ``layout="CHW"`` moves a channels-first image's channel axis
last (the default ``"HWC"`` never guesses); ``borrow=True`` lets large pixels stay a
read-only view of the caller's memory (``freeze``), for writers that consume the message
before the caller runs on.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from rerun_core._arrays import describe, freeze, to_numpy
from rerun_core._enums import DEFAULT_COLOR_MODELS, ColorModel, ImageFormat, to_color_model
from rerun_core._ext import normalize_components
from rerun_core._messages import IMAGE_DTYPES, ImageMsg, trusted_constructor
from rerun_core._scalars import (
    DEFAULT_MAX_PIXELS,
    check_borrow,
    check_draw_order,
    check_int,
    check_max_pixels,
)
from rerun_core._shapes import check_dtype, check_layout, chw_to_hwc, to_hwc
from rerun_core.errors import InvalidArgumentError

__all__ = ["make_image_msg"]

_new_image_msg = trusted_constructor(ImageMsg)


def make_image_msg(
    image: Any,
    *,
    color_model: ColorModel | str | None = None,
    draw_order: float | None = None,
    ext: dict[str, Any] | None = None,
    jpeg_quality: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    layout: str = "HWC",
    borrow: bool = False,
) -> ImageMsg:
    """Validate a gray or colour image and return it as an immutable ``ImageMsg``.

    ``image`` is a numpy array, a tensor (torch, jax, cupy: anything with ``__dlpack__``)
    or anything with ``__array__``; ``layout="CHW"`` reads it as channels-first.
    ``borrow=True``: pixels of ``BORROW_BYTES`` or more that need no conversion are a
    read-only view of ``image`` (no copy); the message is then immutable only while the
    caller leaves ``image`` unchanged.
    """
    limit = check_max_pixels(max_pixels)
    if type(layout) is not str or layout != "HWC":
        check_layout(layout)
    arr = to_numpy(image, param="image")
    if layout == "CHW":
        arr = chw_to_hwc(arr)
    dtype = check_dtype(arr, IMAGE_DTYPES, kind="image")
    hwc = to_hwc(arr, max_pixels=limit)
    height, width, channels = hwc.shape
    model = DEFAULT_COLOR_MODELS[channels] if color_model is None else to_color_model(color_model)
    if model.channels != channels:
        msg = (
            f"color_model={model.value} needs {model.channels} channels; got an image of shape "
            f"{arr.shape} with {channels}. Omit color_model to infer it from the channels."
        )
        raise InvalidArgumentError(msg, param="color_model")
    order = check_draw_order(draw_order)
    components = normalize_components(ext, single_instance=True)
    if jpeg_quality is None:
        pixels = freeze(hwc, dtype, borrow=check_borrow(borrow))
        encoded, media_type = None, None
    else:
        quality = check_int(jpeg_quality, param="jpeg_quality", low=1, high=100)
        pixels, encoded, media_type = None, _compress_jpeg(hwc, model, quality), ImageFormat.JPEG
    return _new_image_msg(
        height=height,
        width=width,
        channels=channels,
        color_model=model,
        pixels=pixels,
        encoded=encoded,
        media_type=media_type,
        draw_order=order,
        ext=components,
    )


def _compress_jpeg(hwc: np.ndarray[Any, Any], model: ColorModel, quality: int) -> bytes:
    if hwc.dtype != np.uint8 or model not in (ColorModel.L, ColorModel.RGB):
        msg = (
            f"jpeg_quality works on uint8 gray (L) or RGB images; got {describe(hwc)} with "
            f"color_model={model.value}. Convert to uint8 RGB first, or drop jpeg_quality."
        )
        raise InvalidArgumentError(msg, param="jpeg_quality")
    from PIL import Image  # noqa: PLC0415 (imported on first use: a light ``import rerun_core``)

    pixels = hwc[:, :, 0] if model is ColorModel.L else hwc
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(out, format="JPEG", quality=quality)
    return out.getvalue()
