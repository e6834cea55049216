"""Shape and dtype rules shared by the image, depth and segmentation builders.

Rules: leading size-1 axes are dropped while there are more than 3 dimensions; H and W
are never squeezed; a 3-D array is HxWxC when its last axis is 1, 3 or 4, a 1xHxW array
is HxW gray, and a 3xHxW or 4xHxW array is rejected as channel-first unless the caller
says ``layout="CHW"``, which moves the channel axis last on purpose (``"HWC"``, the
default, never guesses).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rerun_core._scalars import check_pixel_count
from rerun_core._tensors import unsupported_dtype_hint
from rerun_core.errors import InvalidArgumentError, UnsupportedDtypeError

__all__ = ["LAYOUTS", "check_dtype", "check_layout", "chw_to_hwc", "to_hw", "to_hwc"]

LAYOUTS = ("HWC", "CHW")

_NATIVE = {
    np.dtype(name).newbyteorder(order): np.dtype(name)
    for name in ("u1", "u2", "u4", "u8", "f2", "f4", "f8")
    for order in ("<", ">", "=")
}
_DTYPE_HINTS = {
    "b": " For a mask, use mask.astype(np.uint8) * 255, or log it as a segmentation image.",
    "i": " Convert with e.g. arr.astype(np.uint16) after checking the range.",
}


def check_dtype(
    arr: np.ndarray[Any, Any], allowed: tuple[np.dtype[Any], ...], *, kind: str
) -> np.dtype[Any]:
    """Return the allowed native dtype matching ``arr.dtype`` (any byte order), or raise."""
    dtype = arr.dtype
    native = _NATIVE.get(dtype)
    if native is not None and native in allowed:
        return native
    names = ", ".join(str(d) for d in allowed)
    conversion = unsupported_dtype_hint(dtype.name)
    hint = f" {conversion}" if conversion else _DTYPE_HINTS.get(dtype.kind, "")
    msg = f"{kind} dtype {dtype} is not supported; allowed: {names}.{hint}"
    raise UnsupportedDtypeError(msg, param="image")


def to_hwc(arr: np.ndarray[Any, Any], *, max_pixels: int) -> np.ndarray[Any, Any]:
    """Return an HxWxC view of an image array (C in 1, 3, 4), or raise."""
    given = arr.shape
    if len(given) == 3 and given[2] in (1, 3, 4):  # the common case: already HxWxC
        _check_size(arr, given, max_pixels=max_pixels)
        return arr
    arr = _drop_batch_axes(arr)
    if arr.ndim == 2:
        arr = arr[:, :, np.newaxis]
    elif arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4):
        if arr.shape[0] == 1:
            arr = arr[0, :, :, np.newaxis]
        elif arr.shape[0] in (3, 4):
            msg = (
                f"image of shape {given} does not have 1, 3 or 4 channels in its last axis and "
                "looks channel-first (CxHxW); images must be channel-last (HxWxC). "
                "Use np.moveaxis(img, 0, -1), or pass layout='CHW'."
            )
            raise InvalidArgumentError(msg, param="image")
        else:
            msg = (
                f"image must have 1, 3 or 4 channels (gray, RGB, RGBA) in its last axis; "
                f"got shape {given}. Split or convert the channels."
            )
            raise InvalidArgumentError(msg, param="image")
    elif arr.ndim != 3:
        msg = (
            f"image must be HxW or HxWxC (a leading batch axis of size 1 is allowed); "
            f"got shape {given}."
        )
        raise InvalidArgumentError(msg, param="image")
    _check_size(arr, given, max_pixels=max_pixels)
    return arr


def check_layout(layout: object) -> None:
    """Raise unless ``layout`` is ``"HWC"`` or ``"CHW"``."""
    if not isinstance(layout, str) or layout not in LAYOUTS:
        msg = (
            f"layout must be 'HWC' (channels last, the default) or 'CHW' (channels first, "
            f"as vision models use); got {layout!r}."
        )
        raise InvalidArgumentError(msg, param="layout")


def chw_to_hwc(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return an HxWxC view of a CxHxW image (C in 1, 3, 4; leading unit batch axes dropped).

    A 2-D array has no channel axis and stays HxW gray.
    """
    given = arr.shape
    arr = _drop_batch_axes(arr)
    if arr.ndim == 2:
        return arr
    if arr.ndim != 3 or arr.shape[0] not in (1, 3, 4):
        msg = (
            f"layout='CHW' needs a CxHxW image with 1, 3 or 4 channels in its first axis "
            f"(a leading batch axis of size 1 is allowed); got shape {given}. "
            "Drop layout='CHW' for a channel-last (HxWxC) image."
        )
        raise InvalidArgumentError(msg, param="image")
    return np.moveaxis(arr, 0, -1)


def to_hw(arr: np.ndarray[Any, Any], *, kind: str, max_pixels: int) -> np.ndarray[Any, Any]:
    """Return an HxW view of a single-channel image (HxW, HxWx1 or 1xHxW), or raise."""
    given = arr.shape
    arr = _drop_batch_axes(arr)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[:, :, 0]
    elif arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        msg = f"{kind} image must be HxW or HxWx1 (one channel); got shape {given}."
        raise InvalidArgumentError(msg, param="image")
    _check_size(arr, given, max_pixels=max_pixels)
    return arr


def _drop_batch_axes(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    while arr.ndim > 3 and arr.shape[0] == 1:
        arr = arr[0]
    return arr


def _check_size(arr: np.ndarray[Any, Any], given: tuple[int, ...], *, max_pixels: int) -> None:
    if arr.size == 0:
        msg = f"image must not be empty; got shape {given}. Every axis needs a size >= 1."
        raise InvalidArgumentError(msg, param="image")
    check_pixel_count(arr.shape[0], arr.shape[1], max_pixels)
