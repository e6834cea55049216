"""``log_image`` and ``send_columns`` take tensors and ``layout="CHW"`` (recording and facade)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import rerun_core as rc
import rerun_sinks as rr
from rerun_core.errors import InvalidArgumentError

HWC = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)


class DLPackOnly:
    """A CPU tensor that speaks only DLPack."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.arr.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)


def test_log_image_takes_a_chw_tensor_on_the_recording_and_the_facade():
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    chw = np.ascontiguousarray(np.moveaxis(HWC, -1, 0))
    rec.log_image("a", DLPackOnly(chw), layout="CHW")
    rr.log_image("b", DLPackOnly(chw), layout="CHW", recording=rec)
    rr.log_image("c", HWC, recording=rec)
    assert [r.msg for r in mem.records] == [rc.make_image_msg(HWC)] * 3


def test_a_bad_layout_raises_in_strict_mode():
    rec = rr.new_recording("app", strict=True)
    with pytest.raises(InvalidArgumentError, match="layout"):
        rec.log_image("a", HWC, layout="chw")


class CudaBatch:
    """A batch in device memory: one explicit copy reaches the host, and it is recorded."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.copies = 0

    def __dlpack_device__(self) -> tuple[int, int]:
        return (2, 0)  # kDLCUDA

    def __dlpack__(self, *, dl_device: Any = None, copy: bool | None = None, **kw: Any) -> Any:
        if dl_device is None or dl_device[0] != 1 or copy is not True:
            msg = "device memory: the CPU cannot read it without a copy"
            raise BufferError(msg)
        self.copies += 1
        return self.arr.copy().__dlpack__(**kw)


def test_send_columns_takes_a_chw_tensor_batch():
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    frames = np.stack([HWC, HWC[::-1], HWC * 2])
    nchw = np.ascontiguousarray(np.moveaxis(frames, -1, 1))
    rec.send_columns("a", DLPackOnly(nchw), times={"frame": [0, 1, 2]}, layout="CHW")
    rr.send_columns(
        "b", [DLPackOnly(f) for f in nchw], times={"frame": [0, 1, 2]}, layout="CHW", recording=rec
    )
    expected = [rc.make_image_msg(f) for f in frames]
    assert [r.msg for r in mem.records] == expected * 2


def test_send_columns_copies_a_device_batch_to_the_host_once():
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    frames = np.stack([HWC, HWC + 1])
    batch = CudaBatch(np.ascontiguousarray(np.moveaxis(frames, -1, 1)))
    rec.send_columns("a", batch, times={"frame": [0, 1]}, layout="CHW")
    assert batch.copies == 1
    assert [r.msg for r in mem.records] == [rc.make_image_msg(f) for f in frames]


def test_send_columns_rejects_a_bad_layout():
    rec = rr.new_recording("app", strict=True)
    with pytest.raises(InvalidArgumentError, match="layout must be 'HWC'"):
        rec.send_columns("a", np.stack([HWC, HWC]), times={"frame": [0, 1]}, layout="NCHW")
