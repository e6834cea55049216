"""``log_image`` takes tensors and ``layout="CHW"``, on the recording and the facade."""

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
