"""``make_segmentation_msg``: an image of class ids.

Rules: integer arrays of any width are accepted when every id is in 0..65535 (checked,
never wrapped); bool becomes uint8; floats are rejected; ids are stored as uint8 when
they all fit, else uint16.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rerun_core._arrays import describe, freeze, to_numpy
from rerun_core._ext import normalize_components
from rerun_core._messages import SegmentationMsg, trusted_constructor
from rerun_core._scalars import (
    DEFAULT_MAX_PIXELS,
    MAX_CLASS_ID,
    check_borrow,
    check_draw_order,
    check_max_pixels,
)
from rerun_core._shapes import to_hw
from rerun_core.errors import InvalidArgumentError, UnsupportedDtypeError

__all__ = ["make_segmentation_msg"]

_new_segmentation_msg = trusted_constructor(SegmentationMsg)


def make_segmentation_msg(
    image: Any,
    *,
    draw_order: float | None = None,
    ext: dict[str, Any] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    borrow: bool = False,
) -> SegmentationMsg:
    """Validate an image of class ids (HxW or HxWx1) and return a ``SegmentationMsg``.

    ``borrow=True``: as for ``make_image_msg``, large pixels may stay a read-only view.
    """
    limit = check_max_pixels(max_pixels)
    arr = to_numpy(image, param="image")
    _check_id_dtype(arr)
    ids = to_hw(arr, kind="segmentation", max_pixels=limit)
    return _new_segmentation_msg(
        pixels=freeze(ids, _storage_dtype(ids), borrow=check_borrow(borrow)),
        draw_order=check_draw_order(draw_order),
        ext=normalize_components(ext, single_instance=True),
    )


def _check_id_dtype(arr: np.ndarray[Any, Any]) -> None:
    if arr.dtype.kind in "biu" and arr.dtype.fields is None:
        return
    hint = (
        " Class ids must be integers: round and cast, e.g. np.rint(ids).astype(np.uint16)."
        if arr.dtype.kind == "f"
        else ""
    )
    msg = (
        f"segmentation ids must be bool or integers in 0..{MAX_CLASS_ID}; got {describe(arr)}."
        f"{hint}"
    )
    raise UnsupportedDtypeError(msg, param="image")


def _storage_dtype(ids: np.ndarray[Any, Any]) -> np.dtype[Any]:
    """Return uint8 when every id fits, else uint16; raise when an id is out of range."""
    if ids.dtype.kind == "b" or (ids.dtype.kind == "u" and ids.dtype.itemsize == 1):
        return np.dtype(np.uint8)
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high > MAX_CLASS_ID:
        msg = (
            f"segmentation ids must be in 0..{MAX_CLASS_ID} (they are stored as uint16, never "
            f"wrapped); got values in {low}..{high}. Remap the ids into that range."
        )
        raise InvalidArgumentError(msg, param="image")
    return np.dtype(np.uint8 if high <= 255 else np.uint16)
