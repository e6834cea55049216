"""send_columns: one validation per batch, the per-frame loop's bytes, all or nothing."""

from __future__ import annotations

import io
import warnings
from typing import Any

import attrs
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


SINKS = ("memory", "file", "file-zstd", "file-buffered", "tee", "backlog")
# Where a CBOR integer's encoded length changes (and the int64 ends).
CBOR_EDGES = sorted(
    {
        sign * edge + shift
        for edge in (0, 24, 256, 2**16, 2**32)
        for sign in (1, -1)
        for shift in (-1, 0)
    }
    | {2**63 - 1, -(2**63)}
)


class _Target:
    """Where a recording writes: a MemorySink, a FileSink (its index too; plain, compressed
    or buffered), a sink without ``write_batch`` (a TeeSink), or the backlog until a
    MemorySink is set at the end."""

    def __init__(self, rec: rr.RecordingStream, sink: str) -> None:
        self.rec, self.sink = rec, sink
        self.mem: rr.MemorySink | None = None
        self.stream = io.BytesIO()
        if sink == "memory":
            self.mem = rec.memory_recording()
        elif sink == "file":
            rec.set_sink(rr.FileSink(self.stream))
        elif sink == "file-zstd":  # compressed records: the batch goes through write_many
            rec.set_sink(rr.FileSink(self.stream, compression="zstd"))
        elif sink == "file-buffered":  # records before the batch wait in the buffer
            rec.set_sink(rr.FileSink(self.stream, buffer_bytes=1 << 16))
        elif sink == "tee":
            self.mem = rr.MemorySink()
            rec.set_sink(rr.TeeSink(self.mem))

    def result(self) -> tuple[bytes, list[rc.Record] | None]:
        if self.sink == "backlog":
            self.mem = self.rec.memory_recording()
        if self.mem is None:
            self.rec.disconnect()  # FileSink.close appends the index
            return self.stream.getvalue(), None
        return self.mem.getvalue(), self.mem.records


@attrs.frozen
class Scenario:
    """What both sides log: records before and after the batch, and the timelines."""

    sink: str
    ticks: list[int]
    nanos: list[int] | None  # a time column "t", or none
    shadow: bool  # the thread already has a "frame" timeline the column replaces
    before: bool
    after: bool

    def start(self) -> tuple[rr.RecordingStream, _Target]:
        rec = rr.new_recording("app", strict=True, clock=FakeClock())
        target = _Target(rec, self.sink)
        rec.set_time_sequence("other", 7)
        if self.shadow:
            rec.set_time_sequence("frame", 99)
        if self.before:
            rec.log_image("cam", np.zeros((2, 2), np.uint8))
        return rec, target

    def finish(self, rec: rr.RecordingStream, target: _Target) -> tuple[bytes, Any]:
        if self.after:
            rec.set_time_nanos("late", 5)
            rec.log_depth_image("cam", np.ones((3, 2), np.uint16))
        return target.result()


@st.composite
def scenarios(draw: st.DrawFn, count: int) -> Scenario:
    int64s = st.integers(-(2**63), 2**63 - 1)
    values = st.one_of(int64s, st.integers(-300, 300), st.sampled_from(CBOR_EDGES))
    not_nat = values.filter(lambda value: value != -(2**63))  # NaT as a timedelta64
    nanos = draw(st.none() | st.lists(not_nat, min_size=count, max_size=count))
    return Scenario(
        sink=draw(st.sampled_from(SINKS)),
        ticks=draw(st.lists(values, min_size=count, max_size=count)),
        nanos=nanos,
        shadow=draw(st.booleans()),
        before=draw(st.booleans()),
        after=draw(st.booleans()),
    )


def _per_frame(
    kind: str, frames: list[np.ndarray], scenario: Scenario, **options: Any
) -> tuple[bytes, Any]:
    rec, target = scenario.start()
    log = getattr(rec, LOG_METHODS[kind])
    for index, frame in enumerate(frames):
        rec.set_time_sequence("frame", scenario.ticks[index])
        if scenario.nanos is not None:
            rec.set_time_nanos("t", scenario.nanos[index])
        log("cam", frame, **options)
    rec.set_time_sequence("frame", 99 if scenario.shadow else None)
    rec.set_time_nanos("t", None)
    return scenario.finish(rec, target)


def _columns(kind: str, batch: Any, scenario: Scenario, **options: Any) -> tuple[bytes, Any]:
    rec, target = scenario.start()
    times: dict[str, Any] = {"frame": scenario.ticks}
    if scenario.nanos is not None:
        times["t"] = np.array(scenario.nanos, "timedelta64[ns]")
    logged = rec.stats.logged
    rec.send_columns("cam", batch, times=times, kind=kind, **options)
    assert rec.stats.logged == logged + len(scenario.ticks)
    return scenario.finish(rec, target)


@pytest.mark.parametrize("kind", sorted(PROTOTYPES))
@given(data=st.data())
def test_bytes_and_records_equal_the_per_frame_loop_for_every_sink(
    kind: str, data: st.DataObject
) -> None:
    batch, frames = data.draw(batches(kind))
    options = data.draw(options_for(kind))
    scenario = data.draw(scenarios(len(frames)))
    expected, expected_records = _per_frame(kind, frames, scenario, **options)
    got, records = _columns(kind, batch, scenario, **options)
    assert got == expected
    assert records == expected_records
    for record in records or ():
        assert not record.msg.pixels.flags.writeable


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64"])
@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_every_image_dtype_and_channel_count(dtype: str, channels: int | None) -> None:
    shape = (3, 4, 5) if channels is None else (3, 4, 5, channels)
    batch = (np.arange(np.prod(shape)) % 200).reshape(shape).astype(dtype)
    scenario = Scenario("memory", [0, 1, 2], None, shadow=False, before=False, after=False)
    assert _columns("image", batch, scenario) == _per_frame("image", list(batch), scenario)


def test_every_cbor_integer_length_and_a_clock_reading_zero():
    """Ticks, timeline values and clock readings that cross every encoded-length edge."""
    edges = [edge for edge in CBOR_EDGES if edge != -(2**63)]
    frames = [np.full((2, 3), index, np.uint8) for index in range(len(edges))]
    clock_values = [0, 5, *edges[1:]]

    def record_all(columnar: bool) -> bytes:
        readings = iter(clock_values * 3)
        rec = rr.new_recording("app", strict=True, clock=lambda: next(readings))
        mem = rec.memory_recording()
        if columnar:
            times = {"frame": edges, "t": np.array(edges[::-1], "timedelta64[ns]")}
            rec.send_columns("a/b", np.stack(frames), times=times)
        else:
            for frame, value, nanos in zip(frames, edges, edges[::-1], strict=True):
                rec.set_time_sequence("frame", value)
                rec.set_time_nanos("t", nanos)
                rec.log_image("a/b", frame)
        return mem.getvalue()

    assert record_all(columnar=True) == record_all(columnar=False)


def test_a_batch_sink_gets_one_record_batch_and_a_failing_one_logs_nothing():
    class Batches(rr.MemorySink):
        def __init__(self) -> None:
            super().__init__()
            self.batches: list[rc.RecordBatch] = []

        def write_batch(self, batch: rc.RecordBatch) -> None:
            self.batches.append(batch)
            if len(self.batches) > 1:
                msg = "disk full"
                raise OSError(msg)
            for record in batch.records():
                self.write(record)

    sink = Batches()
    rec = rr.new_recording("app", strict=True, sink=sink)
    rec.send_columns("cam", np.zeros((3, 2, 2), np.uint8), times={"f": [1, 2, 3]})
    assert len(sink.batches) == 1
    assert [r.log_tick for r in sink.records] == [0, 1, 2]
    with pytest.raises(OSError, match="disk full"):
        rec.send_columns("cam", np.zeros((2, 2, 2), np.uint8), times={"f": [4, 5]})
    assert rec.stats.logged == 3  # the failed batch is not counted and its ticks are unused
    rec.log_image("cam", np.zeros((2, 2), np.uint8))
    assert [r.log_tick for r in sink.records] == [0, 1, 2, 3]


@pytest.mark.parametrize("sink", SINKS)
def test_changing_the_frames_after_the_call_changes_nothing_logged(sink: str) -> None:
    batch = np.zeros((3, 4, 4, 3), np.uint8)
    rec = rr.new_recording("app", strict=True, clock=FakeClock())
    target = _Target(rec, sink)
    rec.send_columns("cam", batch, times={"f": [0, 1, 2]})
    batch[:] = 255
    data, records = target.result()
    assert all(r.msg.pixels.max() == 0 for r in rc.iter_records(data))
    assert records is None or all(r.msg.pixels.max() == 0 for r in records)


@pytest.mark.parametrize("reading", [2**63, -(2**63) - 1, 1.5, "now"])
def test_a_bad_clock_reading_raises_what_a_per_frame_call_raises(reading: object) -> None:
    def log(columnar: bool) -> type[Exception]:
        rec = rr.new_recording("app", strict=True, clock=lambda: reading)
        mem = rec.memory_recording()

        def call() -> None:
            if columnar:
                rec.send_columns("cam", np.zeros((2, 2, 2), np.uint8), times={})
            else:
                rec.log_image("cam", np.zeros((2, 2), np.uint8))

        with pytest.raises(rc.InvalidArgumentError) as info:
            call()
        assert mem.getvalue() == b""
        assert rec.stats.logged == 0
        return type(info.value)

    assert log(columnar=True) is log(columnar=False)


def test_numpy_clock_readings_are_ints():
    readings = iter(np.arange(10, 20, dtype=np.int64))
    rec = rr.new_recording("app", strict=True, clock=lambda: next(readings))
    mem = rec.memory_recording()
    rec.send_columns("cam", np.zeros((3, 2, 2), np.uint8), times={})
    assert [r.log_time_ns for r in mem.records] == [10, 11, 12]


def test_a_list_of_frames_of_different_sizes():
    frames = [np.zeros((2, 3), np.uint16), np.ones((4, 5, 3), np.uint8), np.zeros((2, 3), ">u2")]
    scenario = Scenario("file", [5, 6, 7], [1, 2, 3], shadow=True, before=True, after=True)
    assert _columns("image", frames, scenario) == _per_frame("image", frames, scenario)


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


def test_time_columns_scale_to_nanoseconds_at_the_int64_ends():
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    wall = np.array(["1677-09-22", "1969-12-31T23:59:59", "2262-04-11"], "datetime64[s]")
    big = np.array([0, 2**63 - 1, 5], np.uint64)
    rec.send_columns("cam", np.zeros((3, 2, 2), np.uint8), times={"wall": wall, "big": big})
    assert [r.timepoint["wall"].value for r in mem.records] == [
        int(value) * 10**9 for value in wall.view(np.int64)
    ]
    assert [r.timepoint["big"].value for r in mem.records] == [0, 2**63 - 1, 5]


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
