"""Enumerations shared by the builders, the messages and the codec."""

from __future__ import annotations

import enum

__all__ = ["ColorModel", "ImageFormat"]


class ColorModel(enum.Enum):
    """How the channels of an image are to be read."""

    L = "L"
    RGB = "RGB"
    RGBA = "RGBA"
    BGR = "BGR"
    BGRA = "BGRA"

    def __init__(self, value: str) -> None:
        """Store the channel count as a plain attribute (read on every message)."""
        self.channels = len(value)


class ImageFormat(enum.Enum):
    """Encoded image formats accepted by ``make_encoded_image_msg``."""

    JPEG = "jpeg"
    PNG = "png"
