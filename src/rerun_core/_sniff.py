"""Recognise an encoded image's format from its magic bytes.

Rules: only the leading bytes decide (never a file name). JPEG starts with ``FF D8 FF``, PNG with
its 8-byte signature. BMP, GIF, TIFF and WebP are recognised only to name them in the error;
empty or unknown bytes raise :class:`~rerun_core.errors.UnrecognizedImageFormatError`.
"""

from __future__ import annotations

from rerun_core._enums import ImageFormat
from rerun_core.errors import UnrecognizedImageFormatError

__all__ = ["PNG_SIGNATURE", "sniff_format"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
"""The 8 bytes every PNG starts with."""
_CONVERT_HINT = (
    'Convert with Pillow: Image.open(path).convert("RGB").save(buf, format="PNG") '
    '(or format="JPEG").'
)


def _unsupported_name(data: bytes) -> str | None:
    """Name a known but unsupported format, or ``None``."""
    if data.startswith(b"BM"):
        return "BMP"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WebP"
    return None


def sniff_format(data: bytes) -> ImageFormat:
    """Return the format of ``data`` (JPEG or PNG) from its magic bytes."""
    if not data:
        msg = f"Expected JPEG or PNG image bytes, got 0 bytes. {_CONVERT_HINT}"
        raise UnrecognizedImageFormatError(msg)
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data.startswith(PNG_SIGNATURE):
        return ImageFormat.PNG
    name = _unsupported_name(data)
    if name is not None:
        msg = f"{name} images are not supported; only JPEG and PNG. {_CONVERT_HINT}"
        raise UnrecognizedImageFormatError(msg)
    msg = (
        f"Unrecognized image format: the bytes start with {data[:12].hex(' ')} ({len(data)} bytes "
        f"in all), which is neither JPEG (ff d8 ff) nor PNG (89 50 4e 47 0d 0a 1a 0a). "
        f"Pass JPEG or PNG bytes; {_CONVERT_HINT}"
    )
    raise UnrecognizedImageFormatError(msg)
