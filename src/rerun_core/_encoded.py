"""``make_encoded_image_msg``: JPEG kept compressed, PNG decoded to pixels.

Rules: ``data`` is any C-contiguous buffer of single bytes, 1-D or a single row or column
(``bytes``, ``bytearray``, ``memoryview``, a uint8 numpy array such as
``cv2.imencode(".jpg", img)[1]``), copied once into ``bytes`` (``bytes`` itself is kept), so
later changes to the caller's buffer change nothing. The format is sniffed from magic bytes,
never from a name; a given ``media_type`` must agree with the bytes; headers declaring more
than ``max_pixels`` are rejected before any decoding; a JPEG must pass a strict decode
(``check_jpeg_decodes``).
"""

from __future__ import annotations

from typing import Any

from rerun_core._arrays import freeze
from rerun_core._enums import DEFAULT_COLOR_MODELS, ImageFormat, to_image_format
from rerun_core._jpeg import check_jpeg_decodes, read_jpeg_header
from rerun_core._messages import ImageMsg
from rerun_core._png import decode_png
from rerun_core._scalars import DEFAULT_MAX_PIXELS, check_max_pixels
from rerun_core._sniff import sniff_format
from rerun_core.errors import InvalidArgumentError

__all__ = ["make_encoded_image_msg"]


def _file_bytes(data: object) -> bytes:
    """Return ``data`` as ``bytes``: one copy of a contiguous byte buffer (``bytes`` kept)."""
    if type(data) is bytes:
        return data
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        view = None
    if (
        view is None
        or view.itemsize != 1
        or view.format.lstrip("@=<>!") not in ("B", "c")
        or not view.c_contiguous
        or sum(size > 1 for size in view.shape or ()) > 1
    ):
        got = type(data).__name__
        if view is not None:
            got += f" (format {view.format!r}, shape {view.shape})"
        msg = (
            f"data must be the bytes of a JPEG or PNG file (bytes, bytearray, memoryview or a "
            f"C-contiguous 1-D uint8 array); got {got}. Read the file with "
            "open(path, 'rb').read(), or log pixel arrays with make_image_msg."
        )
        raise InvalidArgumentError(msg, param="data")
    return view.tobytes()


def make_encoded_image_msg(
    data: bytes | bytearray | memoryview | Any,
    *,
    media_type: ImageFormat | str | None = None,
    draw_order: float | None = None,
    ext: dict[str, Any] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImageMsg:
    """Validate JPEG or PNG bytes and return an ``ImageMsg``."""
    limit = check_max_pixels(max_pixels)
    payload = _file_bytes(data)
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
        image = ImageMsg(
            height=height,
            width=width,
            channels=channels,
            color_model=DEFAULT_COLOR_MODELS[channels],
            encoded=payload,
            media_type=ImageFormat.JPEG,
            draw_order=draw_order,
            ext=ext,
        )
        check_jpeg_decodes(payload)
        return image
    pixels = decode_png(payload, max_pixels=limit)
    height, width, channels = pixels.shape
    return ImageMsg(
        height=height,
        width=width,
        channels=channels,
        color_model=DEFAULT_COLOR_MODELS[channels],
        pixels=freeze(pixels),
        draw_order=draw_order,
        ext=ext,
    )
