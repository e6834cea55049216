"""Enumerations shared by the builders, the messages and the codec, and their parsing.

Rules: a ``ColorModel`` is given as a member or its name in any case; an ``ImageFormat``
as a member or ``"jpeg"``/``"png"`` in any case (also ``"jpg"`` and ``"image/..."``);
1, 3 and 4 channels default to L, RGB and RGBA.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from rerun_core.errors import InvalidArgumentError

__all__ = ["DEFAULT_COLOR_MODELS", "ColorModel", "ImageFormat", "to_color_model", "to_image_format"]


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


DEFAULT_COLOR_MODELS: Mapping[int, ColorModel] = MappingProxyType(
    {1: ColorModel.L, 3: ColorModel.RGB, 4: ColorModel.RGBA}
)
"""The colour model of an image of 1, 3 or 4 channels when none is given."""


def to_color_model(value: object) -> ColorModel:
    """Return ``value`` (a ``ColorModel`` or its name, any case) as a ``ColorModel``."""
    if isinstance(value, ColorModel):
        return value
    if isinstance(value, str) and value.upper() in ColorModel.__members__:
        return ColorModel[value.upper()]
    msg = f"color_model must be one of L, RGB, RGBA, BGR, BGRA; got {value!r}."
    raise InvalidArgumentError(msg, param="color_model")


def to_image_format(value: object) -> ImageFormat:
    """Return ``value`` (an ``ImageFormat`` or ``"jpeg"``/``"png"``, any case) as an enum."""
    if isinstance(value, ImageFormat):
        return value
    if isinstance(value, str):
        name = value.lower().removeprefix("image/").replace("jpg", "jpeg")
        for member in ImageFormat:
            if member.value == name:
                return member
    msg = f"media_type must be ImageFormat.JPEG, ImageFormat.PNG, 'jpeg' or 'png'; got {value!r}."
    raise InvalidArgumentError(msg, param="media_type")
