"""Tensors from other frameworks: DLPack and ``__array__`` intake, device copies, layout.

torch is not installed in CI: the doubles below speak the same protocols (a CPU tensor's
``__dlpack__`` / ``__dlpack_device__``, ``__array__``, a CUDA tensor that only an explicit
copy brings to the host) over numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_core._arrays import to_numpy
from rerun_core.errors import InvalidArgumentError, UnsupportedDtypeError

KDL_CPU, KDL_CUDA, KDL_CUDA_HOST = 1, 2, 3


class DLPackOnly:
    """A CPU tensor that speaks only DLPack (like torch or cupy without ``__array__``)."""

    def __init__(self, arr: np.ndarray, *, device: Any = (KDL_CPU, 0)) -> None:
        self.arr = arr
        self.device = device
        self.exports = 0

    def __dlpack__(self, **kwargs: Any) -> Any:
        self.exports += 1
        return self.arr.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self.device


class ArrayOnly:
    """An object that speaks only ``__array__`` (like pandas or xarray)."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.arr if dtype is None else self.arr.astype(dtype)


class Named(DLPackOnly):
    """A DLPack tensor whose dtype numpy cannot hold, named as torch names it."""

    def __init__(self, arr: np.ndarray, dtype: str) -> None:
        super().__init__(arr)
        self.dtype = dtype


class GradTensor(DLPackOnly):
    """A tensor that requires grad: like torch, it refuses DLPack export until detached."""

    def __init__(self, arr: np.ndarray, *, requires_grad: bool = True) -> None:
        super().__init__(arr)
        self.requires_grad = requires_grad
        self.detached = 0

    def __dlpack__(self, **kwargs: Any) -> Any:
        if self.requires_grad:
            msg = "Can't export tensors that require gradient, use tensor.detach()"
            raise BufferError(msg)
        return super().__dlpack__(**kwargs)

    def detach(self) -> GradTensor:
        self.detached += 1
        return GradTensor(self.arr, requires_grad=False)


class CudaTensor:
    """Device memory: the host sees it only through an explicit copy, which is recorded.

    Its ``__dlpack__`` follows DLPack 1.0: it copies to the CPU when asked for
    ``dl_device=(kDLCPU, 0), copy=True`` and refuses any other export.
    """

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.copies: list[str] = []

    def __dlpack_device__(self) -> tuple[int, int]:
        return (KDL_CUDA, 0)

    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: Any = None,
        dl_device: Any = None,
        copy: bool | None = None,
    ) -> Any:
        if dl_device is None or dl_device[0] != KDL_CPU or copy is not True:
            msg = "device memory: the CPU cannot read it without a copy"
            raise BufferError(msg)
        return self._copy("dlpack").__dlpack__(max_version=max_version)

    def _copy(self, how: str) -> np.ndarray:
        self.copies.append(how)
        return self.arr.copy()


class LegacyCudaTensor(CudaTensor):
    """A producer from before DLPack 1.0: no ``dl_device`` / ``copy`` keywords."""

    def __dlpack__(self, stream: Any = None) -> Any:  # type: ignore[override]
        msg = "device memory: the CPU cannot read it without a copy"
        raise BufferError(msg)


class TorchCuda(LegacyCudaTensor):
    def cpu(self) -> DLPackOnly:
        return DLPackOnly(self._copy("cpu"))


class TorchCudaNumpy(CudaTensor):
    """torch >= 1.13: ``x.numpy(force=True)`` is ``x.detach().cpu()...numpy()``."""

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if not force:
            msg = "can't convert cuda:0 device type tensor to numpy"
            raise TypeError(msg)
        return self._copy("numpy")


class CupyArray(LegacyCudaTensor):
    __cuda_array_interface__: dict[str, Any] = {}  # noqa: RUF012 (presence is the signal)

    def get(self) -> np.ndarray:
        return self._copy("get")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        msg = "Implicit conversion to a NumPy array is not allowed. Please use `.get()`"
        raise TypeError(msg)


class JaxArray(LegacyCudaTensor):
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self._copy("array")


IMAGE = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
DEVICE_DOUBLES: list[tuple[Callable[[np.ndarray], CudaTensor], str]] = [
    (CudaTensor, "dlpack"),
    (TorchCudaNumpy, "numpy"),
    (TorchCuda, "cpu"),
    (CupyArray, "get"),
    (JaxArray, "array"),
]


# -- CPU tensors: a view, no copy -------------------------------------------------------------


def test_numpy_arrays_pass_through_as_they_are():
    assert to_numpy(IMAGE, param="image") is IMAGE


@pytest.mark.parametrize(
    "arr",
    [
        IMAGE,
        np.asfortranarray(IMAGE),
        np.zeros((8, 12, 3), np.uint16)[::2, 1::3],
        IMAGE[::-1, ::-2],
    ],
    ids=["contiguous", "fortran", "strided", "negative-strides"],
)
def test_a_cpu_dlpack_tensor_is_viewed_with_its_strides(arr):
    view = to_numpy(DLPackOnly(arr), param="image")
    assert np.shares_memory(view, arr)
    assert (view.shape, view.strides, view.dtype) == (arr.shape, arr.strides, arr.dtype)
    assert rc.make_image_msg(DLPackOnly(arr)) == rc.make_image_msg(arr)


class TorchCpu(DLPackOnly):
    """torch's own ``x.numpy(force=True)``: a view of a CPU tensor, detached."""

    def __init__(self, arr: np.ndarray) -> None:
        super().__init__(arr)
        self.forced = 0

    def numpy(self, *, force: bool = False) -> np.ndarray:
        self.forced += force
        return self.arr


class OtherNumpy(DLPackOnly):
    """A framework whose ``.numpy()`` takes no ``force``: DLPack is used instead."""

    def numpy(self) -> np.ndarray:
        return self.arr.copy()  # never reached: numpy(force=True) is a TypeError


def test_torchs_own_numpy_force_is_used_when_present():
    tensor = TorchCpu(IMAGE)
    view = to_numpy(tensor, param="image")
    assert view is IMAGE
    assert (tensor.forced, tensor.exports) == (1, 0)


def test_a_numpy_method_without_force_falls_back_to_dlpack():
    tensor = OtherNumpy(IMAGE)
    assert np.shares_memory(to_numpy(tensor, param="image"), IMAGE)
    assert tensor.exports == 1


def test_pinned_host_memory_is_viewed_too():
    view = to_numpy(DLPackOnly(IMAGE, device=(KDL_CUDA_HOST, 0)), param="image")
    assert np.shares_memory(view, IMAGE)


def test_the_message_owns_its_pixels_and_ignores_later_mutation():
    arr = IMAGE.copy()
    tensor = DLPackOnly(arr)
    msg = rc.make_image_msg(tensor)
    assert tensor.exports == 1
    assert not np.shares_memory(msg.pixels, arr)
    arr[...] = 0
    assert np.array_equal(msg.pixels, IMAGE)


def test_an_array_only_object_gives_the_numpy_message():
    assert rc.make_image_msg(ArrayOnly(IMAGE)) == rc.make_image_msg(IMAGE)


def test_every_builder_and_ext_take_tensors():
    depth = np.arange(20, dtype=np.float32).reshape(4, 5)
    ids = np.arange(20, dtype=np.int64).reshape(4, 5, 1)
    assert rc.make_depth_msg(DLPackOnly(depth)) == rc.make_depth_msg(depth)
    assert rc.make_segmentation_msg(DLPackOnly(ids)) == rc.make_segmentation_msg(ids)
    ext = {"score": np.array([0.5])}
    expected = rc.make_image_msg(IMAGE, ext=ext)
    assert rc.make_image_msg(IMAGE, ext={"score": DLPackOnly(ext["score"])}) == expected


def test_a_tensor_that_requires_grad_is_detached():
    tensor = GradTensor(IMAGE)
    assert rc.make_image_msg(tensor) == rc.make_image_msg(IMAGE)
    assert tensor.detached == 1


class NegView(DLPackOnly):
    """Like torch's ``z.conj().imag``: the memory holds -x, its export ignores the sign."""

    def resolve_neg(self) -> DLPackOnly:
        return DLPackOnly(-self.arr)


def test_a_negative_bit_view_is_resolved_before_export():
    arr = np.linspace(0, 1, 60, dtype=np.float32).reshape(4, 5, 3)
    assert rc.make_image_msg(NegView(-arr)) == rc.make_image_msg(arr)


# -- device memory: exactly one device-to-host copy -------------------------------------------


@pytest.mark.parametrize(("double", "how"), DEVICE_DOUBLES, ids=[h for _, h in DEVICE_DOUBLES])
def test_device_memory_is_copied_to_the_host_exactly_once(double, how):
    arr = IMAGE.copy()
    tensor = double(arr)
    msg = rc.make_image_msg(tensor, layout="HWC")
    assert tensor.copies == [how]
    assert msg == rc.make_image_msg(IMAGE)
    arr[...] = 0
    assert np.array_equal(msg.pixels, IMAGE)


def test_device_memory_that_cannot_reach_the_host_raises():
    with pytest.raises(InvalidArgumentError, match=r"x\.cpu\(\), cupy\.asnumpy\(x\)") as caught:
        rc.make_image_msg(LegacyCudaTensor(IMAGE))
    assert type(caught.value) is InvalidArgumentError


def test_a_bad_layout_raises_before_any_device_copy():
    tensor = CudaTensor(IMAGE)
    with pytest.raises(InvalidArgumentError, match="layout"):
        rc.make_image_msg(tensor, layout="NCHW")
    assert tensor.copies == []


# -- dtypes numpy cannot hold -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "fragment"),
    [
        ("torch.bfloat16", "x.float()"),
        ("torch.float8_e4m3fn", "x.astype(np.float32)"),
        ("float8_e5m2", "x.float()"),
        ("bfloat16", "Numpy has no bfloat16"),
        ("torch.complex64", "np.abs(x).astype(np.float32)"),
        ("complex128", "x.abs().float()"),
    ],
)
@pytest.mark.parametrize(
    "builder", [rc.make_image_msg, rc.make_depth_msg, rc.make_segmentation_msg]
)
def test_unsupported_tensor_dtypes_name_the_conversion_before_export(builder, dtype, fragment):
    tensor = Named(np.zeros((4, 5), np.uint16), dtype)
    with pytest.raises(UnsupportedDtypeError, match=r"dtype .*not supported") as caught:
        builder(tensor)
    assert fragment in str(caught.value)
    assert dtype in str(caught.value)
    assert tensor.exports == 0


@pytest.mark.parametrize(
    ("dtype", "numpy_dtype"),
    [
        ("torch.float64", np.float64),
        ("float64", np.float64),
        ("torch.float16", np.float16),
        ("torch.float32", np.float32),
        ("torch.uint8", np.uint8),
    ],
)
def test_supported_tensor_dtypes_pass_the_name_check(dtype, numpy_dtype):
    arr = np.ones((4, 5, 3), numpy_dtype)
    assert rc.make_image_msg(Named(arr, dtype)) == rc.make_image_msg(arr)


def test_a_dtype_numpy_cannot_read_from_the_capsule_is_unsupported():
    class Bfloat16Capsule(DLPackOnly):
        def __dlpack__(self, **kwargs: Any) -> Any:
            msg = "Unsupported dtype in DLTensor."
            raise RuntimeError(msg)

    with pytest.raises(UnsupportedDtypeError, match=r"x\.float\(\)"):
        rc.make_image_msg(Bfloat16Capsule(IMAGE))


def test_a_complex_numpy_array_names_the_conversion():
    with pytest.raises(UnsupportedDtypeError, match=r"np\.abs\(x\)\.astype\(np\.float32\)"):
        rc.make_image_msg(DLPackOnly(np.zeros((4, 5), np.complex64)))


@pytest.mark.parametrize(
    ("tensor", "fragment"),
    [
        (GradTensor(IMAGE), "could not read"),  # no detach(): the export error is reported
        (DLPackOnly(IMAGE, device="cpu"), "(device_type, device_id)"),
        (DLPackOnly(IMAGE, device=()), "(device_type, device_id)"),
    ],
    ids=["export-fails", "device-not-a-tuple", "device-empty"],
)
def test_a_broken_dlpack_producer_raises_a_typed_error(tensor, fragment):
    if isinstance(tensor, GradTensor):
        tensor.detach = None  # type: ignore[method-assign]
    with pytest.raises(InvalidArgumentError) as caught:
        rc.make_image_msg(tensor)
    assert type(caught.value) is InvalidArgumentError
    assert fragment in str(caught.value)


# -- layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("batch", [False, True])
def test_chw_moves_the_channel_axis_last(channels, batch):
    hwc = np.arange(4 * 5 * channels, dtype=np.float32).reshape(4, 5, channels)
    chw = np.moveaxis(hwc, -1, 0)
    if batch:
        chw = chw[np.newaxis]
    assert rc.make_image_msg(chw, layout="CHW") == rc.make_image_msg(hwc)
    assert rc.make_image_msg(DLPackOnly(chw), layout="CHW") == rc.make_image_msg(hwc)


def test_chw_keeps_a_2d_gray_image():
    gray = np.ones((4, 5), np.uint8)
    assert rc.make_image_msg(gray, layout="CHW") == rc.make_image_msg(gray)


def test_hwc_is_the_default_and_never_guesses():
    chw = np.zeros((3, 48, 64), np.uint8)
    with pytest.raises(InvalidArgumentError, match="layout='CHW'"):
        rc.make_image_msg(chw)
    with pytest.raises(InvalidArgumentError, match="layout='CHW'"):
        rc.make_image_msg(chw, layout="HWC")
    hwc = np.zeros((3, 4, 3), np.uint8)  # 3x4x3 reads as HxWxC, never as CxHxW
    assert rc.make_image_msg(hwc).pixels.shape == (3, 4, 3)
    assert rc.make_image_msg(hwc, layout="CHW").pixels.shape == (4, 3, 3)


@pytest.mark.parametrize(
    "layout", ["chw", "hwc", "NCHW", "", None, 3, ("CHW",), np.array(["HWC", "CHW"])]
)
def test_any_other_layout_is_an_invalid_argument(layout):
    with pytest.raises(InvalidArgumentError, match="layout must be 'HWC'") as caught:
        rc.make_image_msg(IMAGE, layout=layout)
    assert type(caught.value) is InvalidArgumentError
    assert caught.value.param == "layout"


@pytest.mark.parametrize("shape", [(2, 4, 5), (5, 4, 5), (2, 3, 4, 5), (4,), (3, 0, 5)])
def test_chw_rejects_what_is_not_channels_first(shape):
    with pytest.raises(InvalidArgumentError) as caught:
        rc.make_image_msg(np.zeros(shape, np.uint8), layout="CHW")
    assert type(caught.value) is InvalidArgumentError


# -- properties: every dtype x channel combination gives the numpy message --------------------


def _native(arr: np.ndarray) -> np.ndarray:
    """A tensor is always in native byte order; numpy refuses to export anything else."""
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64"])
@given(data=st.data())
def test_tensor_images_give_the_numpy_message(dtype, channels, data):
    arr = data.draw(rcst.image_arrays(dtype=dtype, channels=channels), label="image")
    expected = rc.make_image_msg(arr)
    assert rc.make_image_msg(DLPackOnly(_native(arr))) == expected
    assert rc.make_image_msg(ArrayOnly(arr)) == expected
    chw = np.moveaxis(arr if arr.ndim > 2 else arr[:, :, np.newaxis], -1, -3)
    assert rc.make_image_msg(DLPackOnly(_native(chw)), layout="CHW") == expected


@given(arr=rcst.depth_arrays())
def test_tensor_depth_gives_the_numpy_message(arr):
    expected = rc.make_depth_msg(arr)
    assert rc.make_depth_msg(DLPackOnly(_native(arr))) == expected
    assert rc.make_depth_msg(ArrayOnly(arr)) == expected


@given(arr=rcst.segmentation_arrays())
def test_tensor_segmentation_gives_the_numpy_message(arr):
    expected = rc.make_segmentation_msg(arr)
    assert rc.make_segmentation_msg(DLPackOnly(_native(arr))) == expected
    assert rc.make_segmentation_msg(ArrayOnly(arr)) == expected


@given(arr=rcst.image_arrays())
def test_mutating_a_tensor_after_the_build_does_not_change_the_message(arr):
    source = _native(arr).copy()  # writable memory the caller owns
    msg = rc.make_image_msg(DLPackOnly(source))
    before = msg.pixels.copy()
    source[...] = 0 if source.flat[0] == 1 else 1
    assert np.array_equal(msg.pixels, before, equal_nan=True)
