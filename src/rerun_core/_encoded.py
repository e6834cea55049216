"""``make_encoded_image_msg``: JPEG kept compressed, PNG decoded to pixels.

Rules: the format is sniffed from magic bytes, never from a name; a given ``media_type``
must agree with the bytes; headers declaring more than ``max_pixels`` are rejected
before any decoding.
"""

from __future__ import annotations

from typing import Any

from rerun_core._arrays import freeze
from rerun_core._enums import ColorModel, ImageFormat
from rerun_core._jpeg import read_jpeg_header
from rerun_core._messages import ImageMsg, to_image_format
from rerun_core._png import decode_png
from rerun_core._scalars import DEFAULT_MAX_PIXELS, check_max_pixels
from rerun_core._sniff import sniff_format
from rerun_core.errors import InvalidArgumentError

__all__ = ["make_encoded_image_msg"]

_MODELS = {1: ColorModel.L, 3: ColorModel.RGB, 4: ColorModel.RGBA}


def make_encoded_image_msg(
    data: bytes | bytearray | memoryview,
    *,
    media_type: ImageFormat | str | None = None,
    draw_order: float | None = None,
    ext: dict[str, Any] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImageMsg:
    """Validate JPEG or PNG bytes and return an ``ImageMsg``."""
    limit = check_max_pixels(max_pixels)
    if not isinstance(data, bytes | bytearray | memoryview):
        msg = (
            f"data must be the bytes of a JPEG or PNG file; got {type(data).__name__}. "
            "Read the file with open(path, 'rb').read(), or log arrays with make_image_msg."
        )
        raise InvalidArgumentError(msg, param="data")
    payload = bytes(data)
    found = sniff_format(payload)
    if media_type is not None and to_image_format(media_type) is not found:
        msg = (
            f"media_type={to_image_format(media_type).value!r} does not match the bytes, "
            f"which are {found.value.upper()}. Omit media_type to detect it."
        )
        raise InvalidArgumentError(msg, param="media_type")
    if found is ImageFormat.JPEG:
        # The size check only: ImageMsg walks the markers to EOI when it validates itself.
        height, width, channels = read_jpeg_header(payload, max_pixels=limit, complete=False)
        return ImageMsg(
            height=height,
            width=width,
            channels=channels,
            color_model=_MODELS[channels],
            encoded=payload,
            media_type=ImageFormat.JPEG,
            draw_order=draw_order,
            ext=ext,
        )
    pixels = decode_png(payload, max_pixels=limit)
    height, width, channels = pixels.shape
    return ImageMsg(
        height=height,
        width=width,
        channels=channels,
        color_model=_MODELS[channels],
        pixels=freeze(pixels),
        draw_order=draw_order,
        ext=ext,
    )
