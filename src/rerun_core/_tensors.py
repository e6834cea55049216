"""Tensors from torch, jax, cupy and other frameworks as numpy arrays, found by protocol.

Rules:
- An object with ``__dlpack__`` and ``__dlpack_device__`` whose memory the CPU can read is
  viewed with ``np.from_dlpack``: no copy, strides kept. The view borrows the caller's
  memory; the builders copy it once (``freeze``) before the message is built.
- In device memory (CUDA, ROCm, ...) it is copied to the host exactly once: with
  ``np.from_dlpack(x, device="cpu", copy=True)`` when numpy and the producer support it,
  else with the framework's own ``x.cpu()`` (torch), ``x.get()`` (cupy, as
  ``cupy.asnumpy``) or ``__array__`` (jax, as ``jax.device_get``).
- A tensor with torch's ``x.numpy(force=True)`` is read through it: the same view or single
  copy, at a fraction of the cost of torch's DLPack export.
- A tensor that requires grad is detached (``x.detach()``, a view), never an error; a
  torch view with the negative bit set is resolved first (torch's DLPack export ignores it).
- bfloat16, float8 and complex tensors raise ``UnsupportedDtypeError`` naming the
  conversion, read from the dtype's name before any conversion (numpy has no bfloat16).
- No framework is imported: everything is found by protocol and attribute names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rerun_core.errors import InvalidArgumentError, UnsupportedDtypeError

__all__ = ["from_tensor", "unsupported_dtype_hint"]

# DLPack device types whose memory the CPU reads directly: CPU, CUDA pinned host memory,
# ROCm pinned host memory, CUDA managed memory (numpy's from_dlpack accepts these).
_HOST_DEVICES = frozenset((1, 3, 11, 13))
_NO_NUMPY_DTYPE = ("bfloat16", "float8_", "float6_", "float4_")  # float8_e4m3fn, float4_e2m1fn
_TO_FLOAT = "convert with x.float() for a torch tensor, x.astype(np.float32) otherwise"


def unsupported_dtype_hint(dtype_name: str) -> str | None:
    """Return the conversion to name for a dtype no image can hold, or None."""
    name = dtype_name.lower()
    for fragment in _NO_NUMPY_DTYPE:
        if fragment in name:
            kind = fragment.strip("_")
            return f"Numpy has no {kind}: {_TO_FLOAT}."
    if "complex" in name:
        return (
            "Images hold real values: take the magnitude or the real part first, e.g. "
            "x.abs().float() for a torch tensor, np.abs(x).astype(np.float32) otherwise."
        )
    return None


def from_tensor(value: Any, *, param: str) -> np.ndarray[Any, Any] | None:
    """Return a DLPack tensor as a host numpy array (a view on the CPU), or None.

    None means ``value`` does not speak DLPack; the caller tries ``__array__`` next.
    """
    device = getattr(value, "__dlpack_device__", None)
    if device is None or not hasattr(value, "__dlpack__"):
        return None
    _check_dtype_name(value, param)
    own = _own_numpy(value)
    if own is not None:
        return own
    if getattr(value, "requires_grad", False) is True:
        detach = getattr(value, "detach", None)
        if callable(detach):
            value = detach()
    resolve_neg = getattr(value, "resolve_neg", None)
    if callable(resolve_neg):  # torch exports a negative-bit view (z.conj().imag) un-negated
        value = resolve_neg()
    if _device_type(device(), param) in _HOST_DEVICES:
        return _host_view(value, param)
    return _copy_to_host(value, param)


def _own_numpy(value: Any) -> np.ndarray[Any, Any] | None:
    """Torch's own ``x.numpy(force=True)``, or None for a producer without it.

    It is ``x.detach().cpu().resolve_conj().resolve_neg().numpy()`` in one call: a view of
    a CPU tensor, one device-to-host copy of a GPU tensor, and ~30 µs cheaper per call than
    torch's DLPack export (``__dlpack_device__`` and ``__dlpack__`` are Python code).
    """
    numpy_method = getattr(value, "numpy", None)
    if not callable(numpy_method):
        return None
    try:
        arr = numpy_method(force=True)
    except (TypeError, RuntimeError):  # no force= (torch < 1.13, others), sparse: DLPack
        return None
    return arr if isinstance(arr, np.ndarray) else np.asarray(arr)


def _check_dtype_name(value: Any, param: str) -> None:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return
    hint = unsupported_dtype_hint(str(dtype))
    if hint is not None:
        name = type(value).__name__
        msg = f"{param} is a tensor ({name}) of dtype {dtype}, not supported. {hint}"
        raise UnsupportedDtypeError(msg, param=param)


def _device_type(device: Any, param: str) -> int:
    try:
        return int(device[0])
    except (TypeError, ValueError, IndexError):
        msg = (
            f"{param}.__dlpack_device__() must return (device_type, device_id); got {device!r}. "
            "Pass a numpy array or a tensor of a framework that follows the DLPack protocol."
        )
        raise InvalidArgumentError(msg, param=param) from None


def _host_view(value: Any, param: str) -> np.ndarray[Any, Any]:
    try:
        return np.from_dlpack(value)
    except (BufferError, RuntimeError, TypeError, ValueError) as exc:
        raise _export_error(value, param, exc) from None


def _export_error(value: Any, param: str, exc: Exception) -> InvalidArgumentError:
    name = type(value).__name__
    if "dtype" in str(exc) or "data type" in str(exc):
        msg = f"{param} is a tensor ({name}) of a dtype numpy cannot hold ({exc}); {_TO_FLOAT}."
        return UnsupportedDtypeError(msg, param=param)
    msg = (
        f"{param} is a tensor ({name}) that np.from_dlpack could not read ({exc}). "
        "Pass a numpy array instead (e.g. x.numpy() or np.asarray(x))."
    )
    return InvalidArgumentError(msg, param=param)


def _copy_to_host(value: Any, param: str) -> np.ndarray[Any, Any]:
    """Copy a tensor in device memory to the host: one device-to-host copy."""
    try:
        return np.from_dlpack(value, device="cpu", copy=True)
    except (BufferError, NotImplementedError, RuntimeError, TypeError, ValueError):
        pass  # numpy < 2.1, or a producer that cannot copy across devices itself
    cpu = getattr(value, "cpu", None)
    if callable(cpu):  # torch
        return _host_view(cpu(), param)
    get = getattr(value, "get", None)
    if callable(get) and hasattr(value, "__cuda_array_interface__"):  # cupy
        return np.asarray(get())
    if hasattr(value, "__array__"):  # jax: what jax.device_get does
        return np.asarray(value)
    msg = (
        f"{param} is a tensor ({type(value).__name__}) in device memory that cannot be copied "
        "to the host by DLPack, .cpu(), .get() or __array__. Move it to the CPU first "
        "(x.cpu(), cupy.asnumpy(x), jax.device_get(x))."
    )
    raise InvalidArgumentError(msg, param=param)
