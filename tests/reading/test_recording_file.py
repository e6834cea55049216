"""``open_recording``: the RecordingFile API of SPEC section 5, rule by rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rerun_core as rc
from rerun_core.errors import InvalidArgumentError
from rerun_sinks import FileSink, RecordingFile, open_recording, read_records, verify


def _records() -> list[rc.Record]:
    context = rc.make_annotation_context_msg([(0, "bg"), (1, "thing", (255, 0, 0))])
    rgb = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    records = [rc.make_record("world", context, timeless=True)]
    for frame in range(4):
        time = {"frame": ("sequence", frame), "clock": ("time", 1_000 * frame)}
        records += [
            rc.make_record("world/rgb", rc.make_image_msg(rgb + frame), timepoint=time),
            rc.make_record(
                "world/depth", rc.make_depth_msg(np.full((6, 8), frame, np.uint16)), timepoint=time
            ),
            rc.make_record(
                "world/seg", rc.make_segmentation_msg(np.eye(6, 8, dtype=np.uint8)), timepoint=time
            ),
        ]
    records.append(rc.make_record("other", rc.make_extension_msg({"x": 1.5})))
    return records


@pytest.fixture
def path(tmp_path: Path) -> Path:
    out = tmp_path / "rec.rrc"
    with FileSink(out) as sink:
        for record in _records():
            sink.write(record)
    return out


def _frame_offsets(path: Path) -> list[int]:
    return [span.offset for span in rc.scan_records(path.read_bytes())]


class TestSequence:
    def test_len_iteration_and_indexing(self, path: Path) -> None:
        records = _records()
        with open_recording(path) as f:
            assert isinstance(f, RecordingFile)
            assert len(f) == len(records)
            assert list(f) == records
            assert f[0] == records[0]
            assert f[-1] == records[-1]
            assert f[-len(records)] == records[0]
            assert f[np.int64(2)] == records[2]

    @pytest.mark.parametrize("index", [14, 100, -15, -100])
    def test_index_past_the_end_raises_index_error(self, path: Path, index: int) -> None:
        with open_recording(path) as f, pytest.raises(IndexError, match="out of range"):
            f[index]

    def test_non_int_index_raises_type_error(self, path: Path) -> None:
        with open_recording(path) as f, pytest.raises(TypeError, match="must be int"):
            f["0"]  # type: ignore[index]

    def test_payloads_are_read_only_views_of_the_file(self, path: Path) -> None:
        with open_recording(path) as f:
            image = f[1].msg
            assert isinstance(image, rc.ImageMsg)
            assert image.pixels is not None
            assert not image.pixels.flags.owndata
            with pytest.raises(ValueError, match="WRITEABLE"):
                image.pixels.setflags(write=True)

    def test_records_read_before_close_stay_valid(self, path: Path) -> None:
        with open_recording(path) as f:
            kept = f[1]
        assert kept == _records()[1]
        with pytest.raises(ValueError, match="closed"):
            f[1]
        f.close()  # idempotent


class TestSummary:
    def test_entities_timelines_and_ranges(self, path: Path) -> None:
        with open_recording(path) as f:
            assert f.entities == ("other", "world", "world/depth", "world/rgb", "world/seg")
            assert f.timelines == {"clock": "time", "frame": "sequence"}
            assert f.time_range("frame") == (0, 3)
            assert f.time_range("clock") == (0, 3000)
            assert f.time_range("nope") is None

    def test_root_entity_is_a_slash(self, tmp_path: Path) -> None:
        out = tmp_path / "root.rrc"
        msg = rc.make_annotation_context_msg([(0, "bg")])
        with FileSink(out) as sink:
            sink.write(rc.make_record("/", msg, timeless=True))
        with open_recording(out) as f:
            assert f.entities == ("/",)
            assert [r.entity_path for r in f.query("/")] == [()]
            assert len(list(f.query("/**"))) == 1

    def test_empty_file_is_an_empty_recording(self, tmp_path: Path) -> None:
        empty = tmp_path / "empty.rrc"
        empty.write_bytes(b"")
        with open_recording(empty) as f:
            assert (len(f), list(f), f.entities, f.timelines) == (0, [], (), {})
            assert f.time_range("frame") is None
            assert list(f.query(timeline="frame", start=0)) == []
            assert f.latest_at("a", "frame", 0) is None
            with pytest.raises(IndexError):
                f[0]


class TestQuery:
    def test_exact_entity(self, path: Path) -> None:
        with open_recording(path) as f:
            assert [r.log_tick for r in f.query("world/rgb")] == [0] * 4
            assert {rc.format_entity_path(r.entity_path) for r in f.query("world")} == {"world"}

    def test_prefix_matches_the_path_and_below_only(self, path: Path) -> None:
        with open_recording(path) as f:
            paths = [rc.format_entity_path(r.entity_path) for r in f.query("world/**")]
            assert set(paths) == {"world", "world/rgb", "world/depth", "world/seg"}
            assert list(f.query("wor/**")) == []
            assert len(list(f.query("/**"))) == len(f)

    def test_time_range_is_half_open_and_keeps_timeless(self, path: Path) -> None:
        with open_recording(path) as f:
            got = list(f.query(timeline="frame", start=1, stop=3))
            frames = [r.timepoint["frame"].value for r in got if not r.timeless]
            assert frames == [1, 1, 1, 2, 2, 2]
            assert [r.timeless for r in got].count(True) == 1

    def test_timed_record_without_the_timeline_never_matches(self, path: Path) -> None:
        with open_recording(path) as f:
            assert [r.timeless for r in f.query(timeline="unknown")] == [True]
            got = list(f.query("other", timeline="frame"))
            assert got == []  # "other" is timed (not timeless) but has no timeline

    def test_kinds(self, path: Path) -> None:
        with open_recording(path) as f:
            got = list(f.query(kinds={"depth", "annotation_context"}))
            assert {type(r.msg) for r in got} == {rc.DepthMsg, rc.AnnotationContextMsg}
            assert list(f.query(kinds=set())) == []

    def test_conditions_combine(self, path: Path) -> None:
        with open_recording(path) as f:
            got = list(f.query("world/**", timeline="clock", start=2000, kinds=["image"]))
            assert [r.timepoint["clock"].value for r in got] == [2000, 3000]


class TestLatestAt:
    def test_greatest_time_at_or_before_t(self, path: Path) -> None:
        with open_recording(path) as f:
            got = f.latest_at("world/rgb", "frame", 2)
            assert got is not None
            assert got.timepoint["frame"].value == 2
            later = f.latest_at("world/rgb", "frame", 10**30)
            assert later is not None
            assert later.timepoint["frame"].value == 3

    def test_falls_back_to_timeless_then_none(self, path: Path) -> None:
        with open_recording(path) as f:
            assert f.latest_at("world/rgb", "frame", -1) is None
            context = f.latest_at("world", "frame", -1)
            assert context is not None
            assert context.timeless


BAD_ARGS: list[tuple[str, str, tuple[Any, ...], dict[str, Any], str]] = [
    ("start-without-timeline", "query", (), {"start": 0}, "need a timeline"),
    ("stop-without-timeline", "query", (), {"stop": 0}, "need a timeline"),
    ("kinds-str", "query", (), {"kinds": "image"}, "set of message kinds"),
    ("kinds-unknown", "query", (), {"kinds": {"picture"}}, "unknown message kind 'picture'"),
    ("kinds-not-iterable", "query", (), {"kinds": 3}, "set of message kinds"),
    ("entity-int", "query", (3,), {}, "entity must be an entity path str"),
    ("entity-empty", "query", ("",), {}, "entity must be an entity path str"),
    ("entity-bad-part", "query", ("a/ b",), {}, "whitespace"),
    ("timeline-empty", "query", (), {"timeline": ""}, "timeline must be a non-empty str"),
    ("timeline-int", "query", (), {"timeline": 3}, "timeline must be a non-empty str"),
    ("start-float", "query", (), {"timeline": "frame", "start": 1.5}, "start must be an int"),
    ("stop-bool", "query", (), {"timeline": "frame", "stop": True}, "stop must be an int"),
    ("latest-prefix", "latest_at", ("world/**", "frame", 1), {}, "one exact entity path"),
    ("latest-t-float", "latest_at", ("world", "frame", 1.0), {}, "t must be an int"),
    ("latest-t-none", "latest_at", ("world", "frame", None), {}, "t must be an int"),
    ("latest-timeline", "latest_at", ("world", None, 1), {}, "timeline must be"),
    ("range-timeline", "time_range", (None,), {}, "timeline must be"),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "fragment"),
    [case[1:] for case in BAD_ARGS],
    ids=[case[0] for case in BAD_ARGS],
)
def test_bad_arguments_raise_invalid_argument_error(
    path: Path, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], fragment: str
) -> None:
    with open_recording(path) as f, pytest.raises(InvalidArgumentError, match=fragment):
        getattr(f, method)(*args, **kwargs)


class TestDamage:
    def test_every_truncation_opens_as_the_complete_prefix(
        self, path: Path, tmp_path: Path
    ) -> None:
        data = path.read_bytes()
        ends = _frame_offsets(path)[1:]  # where each log record ends; the index is last
        records = _records()
        cut = tmp_path / "cut.rrc"
        for size in range(0, len(data) + 1, 7):
            cut.write_bytes(data[:size])
            with open_recording(cut) as f:
                assert list(f) == records[: sum(end <= size for end in ends)]

    def test_a_damaged_record_is_skipped_like_verify_counts(
        self, path: Path, tmp_path: Path
    ) -> None:
        data = bytearray(path.read_bytes())
        offsets = _frame_offsets(path)
        data[offsets[3] + 30] ^= 0xFF
        bad = tmp_path / "bad.rrc"
        bad.write_bytes(bytes(data[: offsets[-1]]))  # without its index: a scan
        records = _records()
        with open_recording(bad) as f:
            assert not f.indexed
            assert list(f) == records[:3] + records[4:]
            assert len(f) == verify(bad).count

    def test_a_damaged_record_listed_by_a_valid_index_raises_when_read(
        self, path: Path, tmp_path: Path
    ) -> None:
        data = bytearray(path.read_bytes())
        offsets = _frame_offsets(path)
        data[offsets[3] + 30] ^= 0xFF
        bad = tmp_path / "bad.rrc"
        bad.write_bytes(bytes(data))
        with open_recording(bad) as f:
            assert f.indexed
            assert len(f) == len(_records())
            assert f[4] == _records()[4]
            with pytest.raises(rc.DecodeError, match="CRC") as caught:
                f[3]
            assert caught.value.offset == offsets[3]


def test_same_answers_as_read_records(path: Path) -> None:
    with open_recording(path) as f:
        assert list(f) == list(read_records(path))
