"""send_columns: one validation per batch, the per-frame loop's bytes, all or nothing."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rerun_core as rc
import rerun_sinks as rr
from rerun_core import TimeValue
from rerun_core import strategies as rcst

from .conftest import FakeClock

PROTOTYPES = {
    "image": rcst.image_arrays(max_side=5),
    "depth": rcst.depth_arrays(max_side=5),
    "segmentation": rcst.segmentation_arrays(max_side=5),
}
LOG_METHODS = {
    "image": "log_image",
    "depth": "log_depth_image",
    "segmentation": "log_segmentation_image",
}


@st.composite
def batches(draw: st.DrawFn, kind: str) -> tuple[Any, list[np.ndarray]]:
    """A batch (a stacked array or a list) and its frames, each a valid ``kind`` frame."""
    proto = draw(PROTOTYPES[kind])
    dtype = proto.dtype
    if dtype.kind == "b":
        elements: st.SearchStrategy[Any] = st.booleans()
    elif kind == "segmentation":
        elements = st.integers(0, min(65535, int(np.iinfo(dtype).max)))
    else:
        elements = hnp.from_dtype(dtype.newbyteorder("="))
    count = draw(st.integers(1, 4))
    frames = [proto] + [
        draw(hnp.arrays(dtype, proto.shape, elements=elements)) for _ in range(count - 1)
    ]
    if draw(st.booleans()):
        return list(frames), frames
    return np.stack(frames), frames


@st.composite
def options_for(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["draw_order"] = draw(rcst.draw_orders())
    if draw(st.booleans()):
        options["ext"] = draw(rcst.ext_components())
    if kind == "depth" and draw(st.booleans()):
        options["meter"] = draw(rcst.meters())
    return options


def _per_frame(kind: str, frames: list[np.ndarray], ticks: list[int], **options: Any) -> bytes:
    rec = rr.new_recording("app", strict=True, clock=FakeClock())
    mem = rec.memory_recording()
    rec.set_time_sequence("other", 7)
    log = getattr(rec, LOG_METHODS[kind])
    for frame, tick in zip(frames, ticks, strict=True):
        rec.set_time_sequence("frame", tick)
        log("cam", frame, **options)
    return mem.getvalue()


def _columns(kind: str, batch: Any, ticks: list[int], **options: Any) -> bytes:
    rec = rr.new_recording("app", strict=True, clock=FakeClock())
    mem = rec.memory_recording()
    rec.set_time_sequence("other", 7)
    rec.send_columns("cam", batch, times={"frame": ticks}, kind=kind, **options)
    assert rec.stats.logged == len(ticks)
    return mem.getvalue()


@pytest.mark.parametrize("kind", sorted(PROTOTYPES))
@given(data=st.data())
def test_bytes_equal_the_per_frame_loop(kind: str, data: st.DataObject) -> None:
    batch, frames = data.draw(batches(kind))
    options = data.draw(options_for(kind))
    ticks = data.draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=len(frames)))[
        : len(frames)
    ]
    if len(ticks) < len(frames):
        ticks += list(range(len(frames) - len(ticks)))
    expected = _per_frame(kind, frames, ticks, **options)
    assert _columns(kind, batch, ticks, **options) == expected


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64"])
@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_every_image_dtype_and_channel_count(dtype: str, channels: int | None) -> None:
    shape = (3, 4, 5) if channels is None else (3, 4, 5, channels)
    batch = (np.arange(np.prod(shape)) % 200).reshape(shape).astype(dtype)
    assert _columns("image", batch, [0, 1, 2]) == _per_frame("image", list(batch), [0, 1, 2])


def test_a_list_of_frames_of_different_sizes():
    frames = [np.zeros((2, 3), np.uint16), np.ones((4, 5, 3), np.uint8), np.zeros((2, 3), ">u2")]
    assert _columns("image", frames, [5, 6, 7]) == _per_frame("image", frames, [5, 6, 7])


def test_segmentation_frames_are_stored_narrow_each_on_its_own():
    batch = np.zeros((3, 2, 2), np.int32)
    batch[1, 0, 0] = 300
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    rec.send_columns("seg", batch, times={"f": [0, 1, 2]}, kind="segmentation")
    assert [r.msg.pixels.dtype for r in mem.records] == [np.uint8, np.uint16, np.uint8]


def test_times_of_every_kind():
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    rec.set_time_sequence("kept", 1)
    rec.send_columns(
        "cam",
        np.zeros((2, 2, 2), np.uint8),
        times={
            "frame": np.array([3, 4], np.uint32),
            "seconds": [0.5, 1.25],
            "wall": np.array(["1970-01-01T00:00:01", "2024-01-01"], "datetime64[ms]"),
            "delta": np.array([1, 2], "timedelta64[us]"),
        },
    )
    first, second = (r.timepoint for r in mem.records)
    assert first == {
        "kept": TimeValue("sequence", 1),
        "frame": TimeValue("sequence", 3),
        "seconds": TimeValue("time", 500_000_000),
        "wall": TimeValue("time", 10**9),
        "delta": TimeValue("time", 1000),
    }
    assert second["wall"] == TimeValue("time", 1_704_067_200 * 10**9)
    assert [r.log_tick for r in mem.records] == [0, 1]
    rec.log_image("after", np.zeros((2, 2), np.uint8))  # the thread's own time is unchanged
    assert mem.records[-1].timepoint == {"kept": TimeValue("sequence", 1)}


@pytest.mark.parametrize(
    ("times", "error", "match"),
    [
        ([1, 2], TypeError, "dict"),
        ({"f": 3}, TypeError, "sequence of values"),
        ({"f": [1]}, ValueError, "one value per frame"),
        ({"f": [[1, 2]]}, ValueError, "1-D"),
        ({"f": [True, False]}, TypeError, "ints"),
        ({"f": ["a", "b"]}, TypeError, "ints"),
        ({"f": [2**63, 1]}, OverflowError, "int64"),
        ({"f": [float("nan"), 1.0]}, ValueError, "finite"),
        ({"f": np.array([1, 2], "datetime64[M]")}, ValueError, "unit"),
        ({"f": np.array(["NaT", "2020-01-01"], "datetime64[s]")}, ValueError, "NaT"),
        ({"f": np.array(["3000-01-01", "2020-01-01"], "datetime64[s]")}, OverflowError, "int64"),
        ({"": [1, 2]}, ValueError, "timeline"),
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_bad_times_are_usage_errors_in_both_modes(times, error, match, strict):
    rec = rr.new_recording("app", strict=strict)
    mem = rec.memory_recording()
    with pytest.raises(error, match=match):
        rec.send_columns("cam", np.zeros((2, 2, 2), np.uint8), times=times)
    assert mem.records == []


def test_unknown_options_and_kinds():
    rec = rr.new_recording("app", strict=True)
    with pytest.raises(TypeError, match="unexpected options meter"):
        rec.send_columns("cam", np.zeros((1, 2, 2), np.uint8), times={}, meter=3.0)
    with pytest.raises(rc.InvalidArgumentError, match="kind must be one of"):
        rec.send_columns("cam", np.zeros((1, 2, 2), np.uint8), times={}, kind="points")


def _bad_batch() -> list[np.ndarray]:
    frames = [np.zeros((2, 2), np.uint8) for _ in range(4)]
    frames[2] = np.zeros((2, 2), np.int32)  # images take no int32
    return frames


def test_a_bad_frame_anywhere_writes_nothing_in_strict_mode(tmp_path):
    rec = rr.new_recording("app", strict=True)
    rec.save(tmp_path / "a.rrc")
    with pytest.raises(rc.UnsupportedDtypeError, match="image dtype int32") as info:
        rec.send_columns("cam", _bad_batch(), times={"f": range(4)})
    assert "frames[2]" in " ".join(info.value.__notes__)
    rec.flush()
    assert (tmp_path / "a.rrc").read_bytes() == b""
    assert rec.stats.logged == 0


def test_lenient_drops_the_whole_batch_with_one_warning_and_counts_it():
    rec = rr.new_recording("app")
    mem = rec.memory_recording()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):  # one call site: one warning
            rec.send_columns("cam", _bad_batch(), times={"f": range(4)})
    assert [str(w.message) for w in caught if "send_columns" in str(w.message)] == [
        str(caught[0].message)
    ]
    assert "whole batch of 4 frames" in str(caught[0].message)
    assert caught[0].filename == __file__
    assert mem.records == []
    assert rec.stats.dropped == 8


def test_segmentation_out_of_range_anywhere_raises_the_builders_error():
    batch = np.zeros((3, 2, 2), np.int64)
    batch[2, 1, 1] = -1
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    with pytest.raises(rc.InvalidArgumentError, match=r"got values in -1\.\.0") as info:
        rec.send_columns("seg", batch, times={"f": range(3)}, kind="segmentation")
    assert "frames[2]" in " ".join(info.value.__notes__)
    assert mem.records == []


@pytest.mark.parametrize(
    ("frames", "match"),
    [(np.zeros((2, 2), np.uint8), "N x H x W"), (object(), "dtype object")],
)
def test_frames_that_are_not_a_batch(frames, match):
    rec = rr.new_recording("app", strict=True)
    with pytest.raises(rc.InvalidArgumentError, match=match):
        rec.send_columns("cam", frames, times={})


def test_an_empty_batch_writes_nothing():
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    rec.send_columns("cam", [], times={"f": []})
    rec.send_columns("cam", np.zeros((0, 2, 2), np.uint8), times={})
    assert mem.records == []


def test_the_facade_and_a_batch_sink(tmp_path):
    rec = rr.new_recording("app", strict=True)
    rec.set_sink(rr.FileSink(tmp_path / "a.rrc"))
    rr.send_columns(
        "cam", np.ones((3, 2, 2), np.uint16), times={"f": [1, 2, 3]}, kind="depth", recording=rec
    )
    rec.flush()
    records = list(rc.iter_records((tmp_path / "a.rrc").read_bytes()))
    assert [r.timepoint["f"].value for r in records] == [1, 2, 3]
    assert all(isinstance(r.msg, rc.DepthMsg) for r in records)


def test_a_disabled_recording_and_no_recording_do_nothing():
    rec = rr.new_recording("app", default_enabled=False)
    mem = rec.memory_recording()
    rec.send_columns("cam", np.zeros((1, 2, 2), np.uint8), times={})
    assert mem.records == []
    with pytest.warns(rr.RerunWarning, match="no recording"):
        rr.send_columns("cam", np.zeros((1, 2, 2), np.uint8), times={})


def test_make_column_msgs_equals_the_builder_per_frame():
    batch = np.random.default_rng(0).random((3, 4, 5, 3)).astype(np.float32)
    messages = rc.make_column_msgs(batch, draw_order=1.5)
    assert messages == [rc.make_image_msg(frame, draw_order=1.5) for frame in batch]
    jpegs = rc.make_column_msgs((batch * 255).astype(np.uint8), jpeg_quality=80)
    assert [m.encoded for m in jpegs] == [
        rc.make_image_msg(f, jpeg_quality=80).encoded for f in (batch * 255).astype(np.uint8)
    ]
