"""The legacy-compatible facade: recordings, resolution, time, lenient/strict, legacy bugs."""

from __future__ import annotations

import inspect
import io
import threading
import warnings

import attrs
import numpy as np
import pytest
from PIL import Image

import rerun_core as rc
import rerun_sinks as rr
from rerun_core import TimeValue

RGB = np.zeros((4, 6, 3), np.uint8)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((3, 5, 3), 7, np.uint8)).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 99, np.uint8)).save(out, format="JPEG")
    return out.getvalue()


def test_init_makes_a_global_recording(clock):
    rec = rr.init("app", clock=clock)
    assert rr.get_global_data_recording() is rec
    assert rr.get_data_recording() is rec
    assert rec.application_id == "app"
    assert rec.strict is False
    mem = rr.memory_recording()
    rr.log_image("cam/rgb", RGB)
    [record] = mem.records
    assert record.entity_path == ("cam", "rgb")
    assert record.msg == rc.make_image_msg(RGB)
    assert record.log_time_ns == 1000
    assert record.log_tick == 0


def test_every_builder_function_logs_its_message():
    rec = rr.new_recording("app")
    mem = rec.memory_recording()
    classes = [(1, "box", (255, 0, 0))]
    rr.log_image("i", RGB, draw_order=2.0, ext={"a": 1}, recording=rec, color_model="BGR")
    rr.log_image("j", RGB, jpeg_quality=80, recording=rec)
    rr.log_image_file("f", img_bytes=png_bytes(), recording=rec)
    rr.log_depth_image("d", np.ones((3, 3), np.uint16), meter=1000, recording=rec)
    rr.log_segmentation_image("s", np.ones((3, 3), np.uint8), draw_order=1, recording=rec)
    rr.log_annotation_context("/", classes, recording=rec)
    rr.log_extension_components("e", {"v": [1, 2]}, identifiers=[3, 4], recording=rec)
    expected = [
        rc.make_image_msg(RGB, draw_order=2.0, ext={"a": 1}, color_model="BGR"),
        rc.make_image_msg(RGB, jpeg_quality=80),
        rc.make_encoded_image_msg(png_bytes()),
        rc.make_depth_msg(np.ones((3, 3), np.uint16), meter=1000),
        rc.make_segmentation_msg(np.ones((3, 3), np.uint8), draw_order=1),
        rc.make_annotation_context_msg(classes),
        rc.make_extension_msg({"v": [1, 2]}, identifiers=[3, 4]),
    ]
    assert [r.msg for r in mem.records] == expected
    assert [r.log_tick for r in mem.records] == list(range(7))
    assert [r.timeless for r in mem.records] == [False] * 5 + [True, False]
    assert mem.records[5].entity_path == ()
    assert rec.stats == rr.RecordingStats(logged=7, dropped=0, bytes=rec.stats.bytes)


def test_recording_methods_mirror_the_facade(tmp_path):
    rec = rr.new_recording("app")
    rec.set_time_sequence("frame", 1)
    rec.log_image("i", RGB)
    rec.log_depth_image("d", np.ones((2, 2), np.float32))
    rec.log_segmentation_image("s", np.ones((2, 2), np.uint8))
    rec.log_annotation_context("a", [(0, "bg")])
    rec.log_extension_components("e", {"x": 1.5})
    rec.log_image_file("f", img_path=_write(tmp_path / "x.jpg", jpeg_bytes()))
    rec.save(tmp_path / "out.rrc")
    rec.flush()
    records = list(rc.iter_records((tmp_path / "out.rrc").read_bytes()))
    assert len(records) == 6
    assert records[0].timepoint == {"frame": TimeValue("sequence", 1)}
    assert records[5].msg.encoded == jpeg_bytes()


def _write(path, data):
    path.write_bytes(data)
    return path


class TestResolution:
    def test_explicit_beats_thread_local_beats_global(self):
        glob = rr.init("global")
        local = rr.new_recording("local", make_thread_default=True)
        explicit = rr.new_recording("explicit")
        assert rr.get_thread_local_data_recording() is local
        assert rr.get_data_recording() is local
        assert rr.get_data_recording(explicit) is explicit  # legacy raised TypeError here
        assert rr.set_thread_local_data_recording(None) is local
        assert rr.get_data_recording() is glob

    def test_setters_return_the_previous_recording(self):
        first, second = rr.new_recording("a"), rr.new_recording("b")
        assert rr.set_global_data_recording(first) is None
        assert rr.set_global_data_recording(second) is first
        assert rr.set_thread_local_data_recording(first) is None
        assert rr.set_thread_local_data_recording(second) is first

    def test_with_sets_and_restores_the_thread_local_recording(self):
        outer, inner = rr.new_recording("outer"), rr.new_recording("inner")
        mem = inner.memory_recording()
        with outer:
            with inner as entered:
                assert entered is inner
                rr.log_image("x", RGB)
            assert rr.get_thread_local_data_recording() is outer
        assert rr.get_thread_local_data_recording() is None
        assert len(mem.records) == 1
        inner.log_image("still/open", RGB)  # leaving the block does not close it
        assert len(mem.records) == 2

    def test_thread_local_recording_is_per_thread(self):
        rec = rr.new_recording("app", make_thread_default=True)
        seen = []
        thread = threading.Thread(target=lambda: seen.append(rr.get_data_recording()))
        thread.start()
        thread.join()
        assert seen == [None]
        assert rr.get_data_recording() is rec

    def test_wrong_recording_type_raises(self):
        with pytest.raises(TypeError, match="RecordingStream"):
            rr.log_image("x", RGB, recording="rec")
        with pytest.raises(TypeError, match="RecordingStream"):
            rr.set_global_data_recording(object())

    def test_make_default(self):
        rec = rr.new_recording("app", make_default=True)
        assert rr.get_global_data_recording() is rec


def _log_without_a_recording() -> None:
    rr.log_image("x", RGB)
    rr.log_depth_image("x", np.ones((2, 2), np.uint16))
    rr.save("nothing.rrc")


def _log_bad_images_from_two_lines() -> int:
    """Log five bad images from two lines; return the first line's number."""
    first = inspect.currentframe().f_lineno + 2
    for _ in range(3):
        rr.log_image("x", np.zeros((4, 4, 2), np.uint8))
    for dtype in ("int64", "bool"):
        rr.log_image("x", np.zeros((4, 4), dtype))
    return first


def _log_images(rec, count: int) -> None:
    for _ in range(count):
        rec.log_image("x", RGB)


class TestNoRecording:
    def test_log_calls_are_no_ops_that_warn_once_per_process(self):
        with pytest.warns(rr.RerunWarning, match=r"init\(\)|no recording") as caught:
            _log_without_a_recording()
        assert len(caught) == 1
        assert caught[0].filename == __file__

    def test_time_flush_and_disconnect_do_nothing(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rr.set_time_sequence("f", 1)
            rr.set_time_seconds("t", 1.0)
            rr.set_time_nanos("t", 1)
            rr.reset_time()
            rr.flush()
            rr.disconnect()

    def test_memory_recording_returns_an_empty_sink(self):
        with pytest.warns(rr.RerunWarning):
            mem = rr.memory_recording()
        assert mem.records == []

    def test_usage_errors_still_raise(self):
        with pytest.raises(TypeError, match="exactly one"):
            rr.log_image_file("x")
        with pytest.raises(TypeError):
            rr.set_time_sequence("f", 1.5)


class TestTime:
    def test_sequence_seconds_and_nanos(self):
        rec = rr.init("app")
        mem = rr.memory_recording()
        rr.set_time_sequence("frame", np.int64(-5))
        rr.set_time_seconds("sim", 1.5)
        rr.set_time_nanos("ns", 7)
        rr.log_image("x", RGB)
        assert mem.records[0].timepoint == {
            "frame": TimeValue("sequence", -5),
            "sim": TimeValue("time", 1_500_000_000),
            "ns": TimeValue("time", 7),
        }
        rr.set_time_sequence("sim", None)  # other kind: kept
        rr.set_time_seconds("sim", None)
        rr.set_time_nanos("ns", None)
        rec.log_image("x", RGB)
        assert mem.records[1].timepoint == {"frame": TimeValue("sequence", -5)}
        rr.reset_time()
        rr.log_image("x", RGB)
        assert mem.records[2].timepoint == {}

    def test_records_keep_the_time_they_were_logged_at(self):
        rr.init("app")
        mem = rr.memory_recording()
        rr.set_time_sequence("frame", 1)
        rr.log_image("x", RGB)
        rr.set_time_sequence("frame", 2)
        rr.set_time_nanos("t", 5)
        rr.log_depth_image("d", np.ones((2, 2), np.uint16))
        rr.reset_time()
        rr.log_segmentation_image("s", np.ones((2, 2), np.uint8))
        first, second, third = mem.records
        assert first.timepoint == {"frame": TimeValue("sequence", 1)}
        assert second.timepoint == {"frame": TimeValue("sequence", 2), "t": TimeValue("time", 5)}
        assert third.timepoint == {}
        for record in mem.records:  # the stamping fast path makes only valid records
            assert attrs.evolve(record) == record

    def test_seconds_are_rounded_to_nanoseconds(self):
        rr.init("app")
        mem = rr.memory_recording()
        rr.set_time_seconds("t", 0.1 + 0.2)
        rr.log_image("x", RGB)
        assert mem.records[0].timepoint["t"].value == round((0.1 + 0.2) * 1e9)

    def test_timeless_records_carry_no_timelines_but_use_a_tick(self):
        rr.init("app")
        mem = rr.memory_recording()
        rr.set_time_sequence("frame", 1)
        rr.log_image("x", RGB, timeless=True)
        rr.log_annotation_context("ctx", [(1, "a")])
        rr.log_annotation_context("ctx", [(1, "a")], timeless=False)
        assert [r.timepoint for r in mem.records][:2] == [{}, {}]
        assert mem.records[2].timepoint == {"frame": TimeValue("sequence", 1)}
        assert [r.log_tick for r in mem.records] == [0, 1, 2]

    def test_a_new_thread_starts_with_no_timelines(self):
        rec = rr.init("app")
        mem = rr.memory_recording()
        rr.set_time_sequence("frame", 9)
        thread = threading.Thread(target=lambda: rec.log_image("t", RGB))
        thread.start()
        thread.join()
        rr.log_image("main", RGB)
        assert mem.records[0].timepoint == {}
        assert mem.records[1].timepoint == {"frame": TimeValue("sequence", 9)}

    def test_time_is_per_recording(self):
        first, second = rr.new_recording("a"), rr.new_recording("b")
        mem = second.memory_recording()
        first.set_time_sequence("frame", 1)
        second.log_image("x", RGB)
        assert mem.records[0].timepoint == {}

    @pytest.mark.parametrize(
        ("func", "value", "error"),
        [
            (rr.set_time_sequence, 1.5, TypeError),
            (rr.set_time_sequence, "1", TypeError),
            (rr.set_time_sequence, True, TypeError),
            (rr.set_time_sequence, 2**70, OverflowError),
            (rr.set_time_nanos, 2.0, TypeError),
            (rr.set_time_nanos, -(2**63) - 1, OverflowError),
            (rr.set_time_seconds, "1", TypeError),
            (rr.set_time_seconds, float("nan"), ValueError),
            (rr.set_time_seconds, 1e300, OverflowError),
        ],
    )
    @pytest.mark.parametrize("strict", [False, True])
    def test_bad_values_raise_in_both_modes(self, func, value, error, strict):
        rr.init("app", strict=strict)
        with pytest.raises(error):
            func("t", value)

    @pytest.mark.parametrize("timeline", ["", 3, "a\n"])
    def test_bad_timeline_names_raise(self, timeline):
        rr.init("app")
        with pytest.raises((TypeError, ValueError), match="timeline"):
            rr.set_time_sequence(timeline, 1)


class TestLogImageFile:
    def test_reads_the_path_and_accepts_str_formats(self, tmp_path):
        rr.init("app")
        mem = rr.memory_recording()
        path = _write(tmp_path / "photo.png", png_bytes())
        rr.log_image_file("a", img_path=path, img_format="PNG")
        rr.log_image_file("b", img_path=str(path), img_format=rr.ImageFormat.PNG)
        rr.log_image_file("c", img_bytes=np.frombuffer(png_bytes(), np.uint8))
        expected = rc.make_encoded_image_msg(png_bytes())
        assert [r.msg for r in mem.records] == [expected] * 3

    @pytest.mark.parametrize("strict", [False, True])
    def test_both_or_neither_is_a_type_error(self, strict):
        rr.init("app", strict=strict)
        with pytest.raises(TypeError, match="neither"):
            rr.log_image_file("x")
        with pytest.raises(TypeError, match="both"):
            rr.log_image_file("x", img_bytes=png_bytes(), img_path="x.png")

    def test_missing_file_raises_in_strict_mode(self, tmp_path):
        rr.init("app", strict=True)
        with pytest.raises(FileNotFoundError):
            rr.log_image_file("x", img_path=tmp_path / "missing.png")

    def test_missing_file_is_dropped_in_lenient_mode(self, tmp_path):
        rec = rr.init("app")
        mem = rr.memory_recording()
        with pytest.warns(rr.RerunWarning, match="missing.png"):
            rr.log_image_file("x", img_path=tmp_path / "missing.png")
        assert mem.records == []
        assert rec.stats.dropped == 1

    def test_format_disagreeing_with_bytes(self):
        rr.init("app", strict=True)
        with pytest.raises(rc.InvalidArgumentError, match="does not match"):
            rr.log_image_file("x", img_bytes=png_bytes(), img_format="jpeg")


class TestLenient:
    def test_bad_data_is_dropped_counted_and_warned_once_per_call_site(self):
        rec = rr.init("app")
        mem = rr.memory_recording()
        with pytest.warns(rr.RerunWarning) as caught:
            first_line = _log_bad_images_from_two_lines()
        assert len(caught) == 2  # two call sites, whatever the texts
        assert [w.lineno for w in caught] == [first_line, first_line + 2]
        assert all(w.filename == __file__ for w in caught)
        assert mem.records == []
        assert rec.stats.dropped == 5
        assert rec.stats.logged == 0

    def test_dedup_ignores_the_warnings_filters(self):
        rr.init("app")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                rr.log_depth_image("x", np.zeros((2, 2), np.int64))
        assert len(caught) == 1

    def test_bad_entity_path_is_dropped(self):
        rec = rr.init("app")
        with pytest.warns(rr.RerunWarning, match="entity_path"):
            rr.log_image("", RGB)
        assert rec.stats.dropped == 1

    def test_nothing_half_valid_reaches_the_sink(self):
        rec = rr.init("app")
        mem = rr.memory_recording()
        with pytest.warns(rr.RerunWarning):
            rr.log_image("x", RGB, draw_order=1.0, ext={"bad": [1, 2, 3]})
        assert mem.records == []
        assert rec.stats.dropped == 1

    def test_explicit_recording_warns_instead_of_attribute_error(self):
        """Legacy 0.8 raised AttributeError whenever recording= was given."""
        rec = rr.new_recording("app")
        with pytest.warns(rr.RerunWarning):
            rr.log_image("x", np.zeros((4, 4, 2), np.uint8), recording=rec)
        with pytest.warns(rr.RerunWarning):
            rec.log_image("x", np.zeros((4, 4, 2), np.uint8))
        assert rec.stats.dropped == 2

    def test_strict_raises_the_core_error(self):
        rec = rr.init("app", strict=True)
        with pytest.raises(rc.UnsupportedDtypeError):
            rr.log_image("x", np.zeros((4, 4), np.int64))
        with pytest.raises(rc.InvalidArgumentError, match="entity_path"):
            rr.log_image("", RGB)
        assert rec.stats.dropped == 0

    def test_strict_is_per_recording(self):
        strict = rr.new_recording("a", strict=True)
        lenient = rr.new_recording("b")
        with pytest.warns(rr.RerunWarning):
            lenient.log_image("x", np.zeros((4, 4), np.int64))
        with pytest.raises(rc.UnsupportedDtypeError):
            strict.log_image("x", np.zeros((4, 4), np.int64))

    def test_non_bool_timeless_is_a_usage_error(self):
        rr.init("app")
        with pytest.raises(TypeError, match="timeless"):
            rr.log_image("x", RGB, timeless=1)


class TestLegacyBugsAreGone:
    def test_jpeg_quality_keeps_recording_draw_order_and_ext(self):
        rec = rr.new_recording("app")  # no global recording at all
        mem = rec.memory_recording()
        rr.log_image("x", RGB, jpeg_quality=70, draw_order=3.0, ext={"k": 1}, recording=rec)
        [record] = mem.records
        assert record.msg.media_type is rr.ImageFormat.JPEG
        assert record.msg.draw_order == 3.0
        assert set(record.msg.ext) == {"ext.k"}

    def test_save_works_without_a_global_recording(self, tmp_path):
        rec = rr.new_recording("app")
        rec.log_image("x", RGB)
        rr.save(tmp_path / "a.rrc", recording=rec)
        rec.flush()
        assert len(list(rc.iter_records((tmp_path / "a.rrc").read_bytes()))) == 1


class TestSinksOfARecording:
    def test_backlog_goes_to_the_first_sink_first(self, tmp_path, clock):
        rec = rr.init("app", clock=clock)
        rr.log_image("early", RGB)
        rr.log_annotation_context("ctx", [(1, "a")])
        rr.save(tmp_path / "run.rrc")
        rr.log_image("late", RGB)
        rr.flush()
        records = list(rc.iter_records((tmp_path / "run.rrc").read_bytes()))
        assert [r.entity_path for r in records] == [("early",), ("ctx",), ("late",)]
        assert [r.log_tick for r in records] == [0, 1, 2]
        assert rec.stats.logged == 3

    def test_sink_given_at_init(self):
        mem = rr.MemorySink()
        rr.init("app", sink=mem)
        rr.log_image("x", RGB)
        assert len(mem.records) == 1

    def test_replacing_a_sink_closes_the_old_one(self):
        rec = rr.init("app")
        first = rr.memory_recording()
        rr.log_image("a", RGB)
        second = rr.memory_recording()
        rr.log_image("b", RGB)
        assert [r.entity_path for r in first.records] == [("a",)]
        assert [r.entity_path for r in second.records] == [("b",)]
        with pytest.raises(rr.SinkClosedError):
            first.write(second.records[0])
        rec.disconnect()
        rr.log_image("c", RGB)  # buffered again, for the next sink
        third = rr.memory_recording()
        assert [r.entity_path for r in third.records] == [("c",)]

    def test_save_rejects_unknown_extensions(self, tmp_path):
        rr.init("app")
        with pytest.raises(ValueError, match=r"\.rrc"):
            rr.save(tmp_path / "run.mp4")
        with pytest.raises(ValueError, match=r"\.rrc"):
            rr.save(tmp_path / "run")

    def test_save_truncates(self, tmp_path):
        path = _write(tmp_path / "run.RRC", b"old garbage")
        rr.init("app")
        rr.save(path)
        rr.flush()
        assert path.read_bytes() == b""

    def test_set_sink_rejects_non_sinks(self):
        rec = rr.new_recording("app")
        with pytest.raises(TypeError, match="write"):
            rec.set_sink("file.rrc")

    def test_stats_include_background_drops(self):
        rec = rr.new_recording("app")
        inner = SlowSink()
        bg = rr.BackgroundSink(inner, max_bytes=1, policy="drop_newest")
        rec.set_sink(bg)
        with pytest.warns(rr.RerunWarning, match="dropped"):
            _log_images(rec, 5)
        stats = rec.stats
        assert stats.logged == 5
        assert stats.sink_dropped_records == bg.dropped_records >= 1
        rec.disconnect()
        assert rec.stats.sink_dropped_records == stats.sink_dropped_records


class SlowSink(rr.MemorySink):
    def write(self, record):
        threading.Event().wait(0.01)
        super().write(record)


class TestRecordingOptions:
    def test_disabled_recording_logs_nothing(self, monkeypatch):
        monkeypatch.delenv("RERUN", raising=False)
        rec = rr.init("app", default_enabled=False)
        mem = rr.memory_recording()
        rr.log_image("x", RGB)
        rr.log_image("x", np.zeros((2, 2), np.int64))
        assert not rec.is_enabled()
        assert mem.records == []

    @pytest.mark.parametrize(("env", "enabled"), [("off", False), ("ON", True), ("0", False)])
    def test_rerun_env_var_overrides_default_enabled(self, monkeypatch, env, enabled):
        monkeypatch.setenv("RERUN", env)
        assert rr.new_recording("app", default_enabled=not enabled).is_enabled() is enabled

    def test_unknown_rerun_env_value_warns(self, monkeypatch):
        monkeypatch.setenv("RERUN", "maybe")
        with pytest.warns(rr.RerunWarning, match="maybe"):
            assert rr.new_recording("app").is_enabled()

    def test_recording_id(self):
        assert rr.new_recording("app", recording_id="rec-1").recording_id == "rec-1"
        assert rr.new_recording("app").recording_id == rr.new_recording("app").recording_id
        assert rr.new_recording("app").recording_id != rr.new_recording("other").recording_id

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"application_id": ""},
            {"application_id": 3},
            {"application_id": "a", "strict": 1},
            {"application_id": "a", "clock": 5},
            {"application_id": "a", "recording_id": 5},
        ],
    )
    def test_bad_options_raise(self, kwargs):
        with pytest.raises(TypeError):
            rr.new_recording(**kwargs)

    def test_spawn_streams_to_a_viewer_sink(self, monkeypatch):
        started = []

        class FakeViewer(rr.MemorySink):
            def __init__(self, *, spawn, application_id, recording_id):
                super().__init__()
                started.append((spawn, application_id, recording_id))

        monkeypatch.setattr("rerun_sinks._api.RerunSink", FakeViewer)
        rec = rr.init("app", spawn=True, strict=True)
        rec.log_image("cam", np.zeros((2, 2), np.uint8))
        assert started == [(True, "app", rec.recording_id)]
        rr.init("app", recording_id="run-1", spawn=True)
        assert started[1] == (True, "app", "run-1")

    def test_repr(self):
        rec = rr.new_recording("app", recording_id="r")
        assert repr(rec) == (
            "RecordingStream(application_id='app', recording_id='r', strict=False, sink=None)"
        )


def test_a_sink_error_propagates_and_is_not_counted():
    rec = rr.new_recording("app")
    mem = rec.memory_recording()
    mem.close()
    with pytest.raises(rr.SinkClosedError):
        rec.log_image("x", RGB)
    assert rec.stats.logged == 0
    fresh = rec.memory_recording()
    rec.log_image("x", RGB)
    assert [r.log_tick for r in fresh.records] == [0]


@pytest.mark.parametrize("strict", [False, True])
def test_log_takes_built_messages_only(strict):
    rec = rr.new_recording("app", strict=strict)
    mem = rec.memory_recording()
    rec.log("a/b", rc.make_depth_msg(np.ones((2, 2), np.float32)), timeless=True)
    assert mem.records[0].timeless
    with pytest.raises(TypeError, match="make_"):
        rec.log("a", RGB)


def test_public_names_are_sorted_and_exist():
    assert rr.__all__ == sorted(rr.__all__)
    assert all(hasattr(rr, name) for name in rr.__all__)
    assert rr.ImageFormat is rc.ImageFormat
    assert rr.ClassDescription is rc.ClassDescription


def test_every_facade_function_is_a_recording_method_too():
    facade = [name for name in rr.__all__ if name.startswith(("log_", "set_time", "reset"))]
    facade += ["save", "memory_recording", "flush", "disconnect"]
    assert all(callable(getattr(rr.RecordingStream, name)) for name in facade)
