"""Array intake, immutable storage and value equality.

Rules:
- ``to_numpy`` is the one intake of every builder: numpy arrays as they are (never
  copied), DLPack tensors (torch, jax, cupy: see ``_tensors``), objects with ``.numpy()``
  and anything with ``__array__`` (PIL images, pandas).
- ``freeze`` makes one copy of the pixels into a ``bytes`` object (memory no one can
  write), in C order and little-endian; an array already backed by immutable memory is
  kept as is (ndarray subclasses such as ``np.memmap`` become plain arrays). A dtype
  conversion (byte swap, narrowing) costs one more pass. ``borrow=True`` keeps an array
  of at least ``BORROW_BYTES`` that needs no conversion and is C-contiguous as a
  read-only view of its memory (no copy): it is then only as immutable as its owner
  keeps it, so only writers that consume it before the caller runs on ask for it.
- ``arrays_equal`` compares dtype, shape and values, with NaN equal to NaN.
"""

from __future__ import annotations

import mmap
import sys
from typing import Any

import numpy as np
import numpy.typing as npt

from rerun_core._tensors import from_tensor
from rerun_core.errors import InvalidArgumentError

__all__ = ["BORROW_BYTES", "arrays_equal", "describe", "freeze", "to_numpy"]

_LITTLE_ORDERS = ("|", "<", "=") if sys.byteorder == "little" else ("|", "<")
BORROW_BYTES = 1 << 16
"""Arrays this large are borrowed by ``freeze(borrow=True)``: below it a copy is cheaper."""


def describe(arr: np.ndarray[Any, Any]) -> str:
    """Summarise an array by shape and dtype, never by values."""
    return f"array of shape {tuple(arr.shape)} and dtype {arr.dtype}"


def to_numpy(value: Any, *, param: str) -> np.ndarray[Any, Any]:
    """Return ``value`` as a numpy array, a view of it when it already is one or a CPU tensor."""
    if isinstance(value, np.ndarray):
        return value
    tensor = from_tensor(value, param=param)
    if tensor is not None:
        return tensor
    numpy_method = getattr(value, "numpy", None)
    if callable(numpy_method) and not hasattr(value, "__array_interface__"):
        try:
            value = numpy_method(force=True)  # torch: detach, move to the CPU, resolve views
        except TypeError:
            value = numpy_method()
    try:
        return np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        msg = (
            f"{param} must be array-like (numpy array, tensor, PIL image or nested sequence); "
            f"got {type(value).__name__} that numpy cannot convert ({exc}). "
            "Pass a rectangular numeric array."
        )
        raise InvalidArgumentError(msg, param=param) from None


def freeze(
    arr: npt.ArrayLike, dtype: npt.DTypeLike | None = None, *, borrow: bool = False
) -> np.ndarray[Any, Any]:
    """Return a read-only, C-contiguous, little-endian copy of ``arr``.

    ``dtype`` converts the values first; callers check that they fit. ``borrow=True``
    returns a large array that needs no conversion as a read-only view instead.
    """
    source = arr if type(arr) is np.ndarray else np.asarray(arr)  # subclasses: a plain view
    target = _little_endian(source.dtype if dtype is None else np.dtype(dtype))
    if source.dtype != target:
        source = source.astype(target)
    elif source.flags.c_contiguous:
        if _is_immutable(source):
            return source
        if borrow and source.nbytes >= BORROW_BYTES:
            view = source.view(np.ndarray)
            view.flags.writeable = False
            return view
    return np.ndarray(source.shape, target, source.tobytes())  # positional: 5x faster


def _little_endian(dtype: np.dtype[Any]) -> np.dtype[Any]:
    if dtype.byteorder in _LITTLE_ORDERS:
        return dtype
    return dtype.newbyteorder("<")


def _is_immutable(arr: np.ndarray[Any, Any]) -> bool:
    """Tell whether ``arr`` is backed by memory no one can write (bytes, read-only mmap)."""
    if arr.flags.writeable:
        return False
    base: object = arr.base
    if type(base) is bytes:  # the common case: our own frozen arrays
        return True
    owner: object = arr
    while isinstance(owner, np.ndarray):
        if owner.base is None:
            return False  # an array that owns its memory can be made writable again
        owner = owner.base
    if isinstance(owner, memoryview):  # may be a read-only view of writable memory
        owner = owner.obj
    if isinstance(owner, mmap.mmap):
        return memoryview(owner).readonly
    return isinstance(owner, bytes)


def arrays_equal(a: np.ndarray[Any, Any] | None, b: np.ndarray[Any, Any] | None) -> bool:
    """Compare dtype, shape and values; NaN equals NaN."""
    if a is None or b is None:
        return a is b
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
