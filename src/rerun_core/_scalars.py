"""Checks of scalar options shared by the builders (draw order, meter, sizes, ids).

Each bound lives here once: int64 for times and ticks, uint16 for class and keypoint ids,
``max_pixels`` (the decompression-bomb guard) for decoded and declared image sizes.
"""

from __future__ import annotations

import math
import numbers

from rerun_core.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_CLASS_ID",
    "check_borrow",
    "check_draw_order",
    "check_int",
    "check_max_pixels",
    "check_meter",
    "check_pixel_count",
]

DEFAULT_MAX_PIXELS = 2**28
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_CLASS_ID = 65535
"""Class and keypoint ids are uint16 (as in Rerun): 0..65535."""


def _finite_float(value: object) -> float | None:
    """``value`` as a float if it is a finite real number (bools are not), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def check_draw_order(draw_order: object) -> float | None:
    """Return ``draw_order`` as a float; it must be a finite real number or ``None``."""
    if draw_order is None:
        return None
    value = _finite_float(draw_order)
    if value is None:
        msg = (
            f"draw_order must be finite: a real number or None; got {type(draw_order).__name__} "
            f"{draw_order!r}. Pass e.g. draw_order=-10.0 (the default for images)."
        )
        raise InvalidArgumentError(msg, param="draw_order")
    return value


def check_borrow(borrow: object) -> bool:
    """Return ``borrow`` if it is True or False (no truthy stand-ins)."""
    if borrow is True or borrow is False:
        return borrow
    msg = f"borrow must be True or False; got {type(borrow).__name__} {borrow!r}."
    raise InvalidArgumentError(msg, param="borrow")


def check_meter(meter: object) -> float | None:
    """Return ``meter`` as a float (finite, > 0) or ``None``."""
    if meter is None:
        return None
    value = _finite_float(meter)
    if value is None or value <= 0:
        msg = (
            f"meter must be a finite number > 0 (units per metre, e.g. 1000 for millimetres); "
            f"got {meter!r}. Pass meter=None for the default."
        )
        raise InvalidArgumentError(msg, param="meter")
    return value


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


def check_pixel_count(height: int, width: int, max_pixels: int, *, what: str = "image") -> None:
    """Reject more than ``max_pixels`` pixels: the decompression-bomb guard of every builder.

    Arrays are checked before they are copied, PNG and JPEG headers before any decoding.
    """
    if height * width > max_pixels:
        msg = (
            f"{what}: {width}x{height} = {height * width} pixels (width x height) exceeds "
            f"max_pixels={max_pixels} (decompression-bomb guard). Downscale it, or pass a "
            "larger max_pixels= if you trust the source."
        )
        raise InvalidArgumentError(msg, param="max_pixels")
