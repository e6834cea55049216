"""Checks of scalar options shared by the builders (draw order, sizes, ids)."""

from __future__ import annotations

import math
import numbers

from rerun_core.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "check_draw_order",
    "check_int",
    "check_max_pixels",
    "check_pixel_count",
    "to_float",
]

DEFAULT_MAX_PIXELS = 2**28


def check_draw_order(draw_order: object) -> float | None:
    """Return ``draw_order`` as a float; it must be a finite real number or ``None``."""
    if draw_order is None:
        return None
    if isinstance(draw_order, bool) or not isinstance(draw_order, numbers.Real):
        msg = (
            f"draw_order must be a finite number or None; got {type(draw_order).__name__} "
            f"{draw_order!r}. Pass e.g. draw_order=-10.0 (the default for images)."
        )
        raise InvalidArgumentError(msg, param="draw_order")
    value = to_float(draw_order)
    if not math.isfinite(value):
        msg = f"draw_order must be finite; got {value!r}. Pass a finite number such as -10.0."
        raise InvalidArgumentError(msg, param="draw_order")
    return value


def to_float(value: numbers.Real) -> float:
    """Return ``value`` as a float; integers too large for a float become infinity."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def check_int(value: object, *, param: str, low: int, high: int) -> int:
    """Return ``value`` as an int in ``low..high``; bools and floats are rejected."""
    if type(value) is int and low <= value <= high:  # fast path for the common case
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        msg = f"{param} must be an integer in {low}..{high}; got {type(value).__name__} {value!r}."
        raise InvalidArgumentError(msg, param=param)
    number = int(value)
    if not low <= number <= high:
        msg = f"{param} must be in {low}..{high}; got {number}."
        raise InvalidArgumentError(msg, param=param)
    return number


def check_max_pixels(max_pixels: object) -> int:
    """Return ``max_pixels`` as a positive int."""
    return check_int(max_pixels, param="max_pixels", low=1, high=2**62)


def check_pixel_count(height: int, width: int, max_pixels: int) -> None:
    """Reject images with more than ``max_pixels`` pixels (decompression-bomb guard)."""
    if height * width > max_pixels:
        msg = (
            f"image of {height}x{width} = {height * width} pixels exceeds "
            f"max_pixels={max_pixels}. Downscale it, or pass a larger max_pixels= if you "
            "trust the source."
        )
        raise InvalidArgumentError(msg, param="max_pixels")
