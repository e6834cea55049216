"""``make_depth_msg``: a single-channel depth image and its scale.

Rules: dtypes uint8, uint16, float32, float64 (float64 kept); ``meter`` is finite and > 0
when given, else 1000 for integers (millimetres) and 1.0 for floats (metres); invalid
depth is 0 for integers and NaN for floats.
"""

from __future__ import annotations

from typing import Any

from rerun_core._arrays import freeze, to_numpy
from rerun_core._ext import normalize_components
from rerun_core._messages import DEPTH_DTYPES, DepthMsg, trusted_constructor
from rerun_core._scalars import (
    DEFAULT_MAX_PIXELS,
    check_borrow,
    check_draw_order,
    check_max_pixels,
    check_meter,
)
from rerun_core._shapes import check_dtype, to_hw

__all__ = ["make_depth_msg"]

_new_depth_msg = trusted_constructor(DepthMsg)


def make_depth_msg(
    image: Any,
    *,
    meter: float | None = None,
    draw_order: float | None = None,
    ext: dict[str, Any] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    borrow: bool = False,
) -> DepthMsg:
    """Validate a depth image (HxW or HxWx1) and return it as an immutable ``DepthMsg``.

    ``borrow=True``: as for ``make_image_msg``, large pixels may stay a read-only view.
    """
    limit = check_max_pixels(max_pixels)
    arr = to_numpy(image, param="image")
    dtype = check_dtype(arr, DEPTH_DTYPES, kind="depth")
    hw = to_hw(arr, kind="depth", max_pixels=limit)
    pixels = freeze(hw, dtype, borrow=check_borrow(borrow))
    return _new_depth_msg(
        pixels=pixels,
        meter=check_meter(meter),
        draw_order=check_draw_order(draw_order),
        ext=normalize_components(ext, single_instance=True),
    )
