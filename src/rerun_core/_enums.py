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

    @property
    def channels(self) -> int:
        """The number of channels this model has."""
        return len(self.value)


class ImageFormat(enum.Enum):
    """Encoded image formats accepted by ``make_encoded_image_msg``."""

    JPEG = "jpeg"
    PNG = "png"
