"""read_rrd_records: .rrd files written by rerun-sdk itself (and by RerunSink) read back."""

from __future__ import annotations

import io
import sys

import attrs
import numpy as np
import pytest
from PIL import Image

import rerun_core as rc
from rerun_sinks import ForeignDataError, read_rrd_records

rr = pytest.importorskip("rerun", reason="needs the [rerun] extra: pip install 'rerun-core[rerun]'")

BASE_NS = 1_700_000_000_000_000_000


def jpeg_bytes() -> bytes:
    rgb = np.random.default_rng(1).integers(0, 255, (8, 12, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_rrd(path, log) -> None:
    rec = rr.RecordingStream("test_rrd_reader", recording_id="r")
    rec.save(str(path))
    log(rec)
    rec.flush()
    rec.disconnect()


def by_entity(records):
    grouped: dict[tuple[str, ...], list[rc.Record]] = {}
    for record in records:
        grouped.setdefault(record.entity_path, []).append(record)
    return grouped


def test_rerun_sdk_archetypes_become_records(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (4, 5, 3), dtype=np.uint8)
    gray16 = rng.integers(0, 65535, (3, 4), dtype=np.uint16)
    f16 = rng.random((3, 4, 4)).astype(np.float16)
    depth = rng.integers(0, 9999, (3, 4), dtype=np.uint16)
    depth_f = rng.random((2, 3)).astype(np.float32)
    seg = rng.integers(0, 20, (3, 4), dtype=np.uint8)
    jpeg = jpeg_bytes()

    def log(rec) -> None:
        rec.log(
            "ctx",
            rr.AnnotationContext(
                [
                    rr.ClassDescription(
                        info=rr.AnnotationInfo(id=1, label="person", color=(255, 0, 0)),
                        keypoint_annotations=[
                            rr.AnnotationInfo(id=0, label="head"),
                            rr.AnnotationInfo(id=1),
                        ],
                        keypoint_connections=[(0, 1)],
                    ),
                    (2, "car"),
                ]
            ),
            static=True,
        )
        for i in range(2):
            rec.set_time("frame", sequence=10 + i)
            rec.set_time("sim", timestamp=np.datetime64(BASE_NS + i, "ns"))
            rec.set_time("elapsed", duration=np.timedelta64(5 + i, "ns"))
            rec.log("cam/bgr", rr.Image(rgb, "BGR", draw_order=2.0))
            rec.log("cam/gray16", rr.Image(gray16))
            rec.log("cam/f16", rr.Image(f16, "RGBA"))
            rec.log("cam/jpeg", rr.EncodedImage(contents=jpeg, media_type="image/jpeg"))
            rec.log("cam/depth", rr.DepthImage(depth, meter=1000.0))
            rec.log("cam/depth_f", rr.DepthImage(depth_f))
            rec.log("cam/seg", rr.SegmentationImage(seg, draw_order=-1.0))

    write_rrd(tmp_path / "sdk.rrd", log)
    records = list(read_rrd_records(tmp_path / "sdk.rrd"))
    assert [r.log_tick for r in records] == list(range(len(records)))
    grouped = by_entity(records)
    assert set(grouped) == {
        ("ctx",),
        *(("cam", name) for name in ("bgr", "gray16", "f16", "jpeg", "depth", "depth_f", "seg")),
    }

    (context,) = grouped[("ctx",)]
    assert context.timeless
    assert not context.timepoint
    assert context.msg == rc.make_annotation_context_msg(
        [
            rc.ClassDescription(
                info=rc.AnnotationInfo(1, "person", (255, 0, 0, 255)),
                keypoint_annotations=[rc.AnnotationInfo(0, "head"), rc.AnnotationInfo(1)],
                keypoint_connections=[(0, 1)],
            ),
            rc.AnnotationInfo(2, "car"),
        ]
    )

    expected = {
        "bgr": rc.make_image_msg(rgb, color_model="BGR", draw_order=2.0),
        "gray16": rc.make_image_msg(gray16),
        "f16": rc.make_image_msg(f16, color_model="RGBA"),
        "jpeg": rc.make_encoded_image_msg(jpeg),
        "depth": rc.make_depth_msg(depth, meter=1000.0),
        "depth_f": rc.make_depth_msg(depth_f),  # no meter logged: none read
        "seg": rc.make_segmentation_msg(seg, draw_order=-1.0),
    }
    for name, msg in expected.items():
        got = grouped[("cam", name)]
        assert [r.msg for r in got] == [msg, msg], name
        for i, record in enumerate(got):
            assert not record.timeless
            assert record.timepoint["frame"] == rc.TimeValue("sequence", 10 + i)
            assert record.timepoint["sim"] == rc.TimeValue("time", BASE_NS + i)
            assert record.timepoint["elapsed"] == rc.TimeValue("time", 5 + i)
            assert record.timepoint["log_time"].kind == "time"
            assert record.log_time_ns == record.timepoint["log_time"].value > 0


def test_records_written_by_rerun_sink_read_back(tmp_path, records):
    from rerun_sinks._rerun import RerunSink

    with RerunSink(path=tmp_path / "ours.rrd") as sink:
        for record in records:
            sink.write(record)
    got = {(r.entity_path, r.timepoint.get("log_tick")): r for r in read_rrd_records(sink.path)}
    checked = 0
    for record in records:
        if isinstance(record.msg, rc.ExtensionMsg):
            continue  # rr.AnyValues: not an image archetype
        tick = None if record.timeless else rc.TimeValue("sequence", record.log_tick)
        back = got.pop((record.entity_path, tick))
        assert back.timeless == record.timeless
        if not record.timeless:
            assert back.log_time_ns == record.log_time_ns
            assert dict(back.timepoint) == {
                **record.timepoint,
                "log_tick": tick,
                "log_time": rc.TimeValue("time", record.log_time_ns),
            }
        msg = record.msg
        if isinstance(msg, rc.DepthMsg):
            msg = attrs.evolve(msg, meter=msg.effective_meter)  # rerun stores the meter
        if not isinstance(msg, rc.AnnotationContextMsg):
            msg = attrs.evolve(msg, ext={})  # ext went to rr.AnyValues
        assert back.msg == msg, record.entity_path
        checked += 1
    assert checked == len(records) - 1
    assert not got


def test_unsupported_pixel_format_names_the_entity(tmp_path):
    def log(rec) -> None:
        rec.set_time("frame", sequence=0)
        nv12 = np.zeros(4 * 4 * 3 // 2, np.uint8)
        rec.log("cam/nv12", rr.Image(bytes=nv12.tobytes(), width=4, height=4, pixel_format="NV12"))

    write_rrd(tmp_path / "nv12.rrd", log)
    with pytest.raises(ForeignDataError, match=r"/cam/nv12 row 0: .*pixel format"):
        list(read_rrd_records(tmp_path / "nv12.rrd"))


def test_other_archetypes_are_skipped(tmp_path):
    def log(rec) -> None:
        rec.set_time("frame", sequence=0)
        rec.log("points", rr.Points3D([[0, 0, 0]]))
        rec.log("cam", rr.SegmentationImage(np.ones((2, 2), np.uint16)))

    write_rrd(tmp_path / "mixed.rrd", log)
    (record,) = read_rrd_records(tmp_path / "mixed.rrd")
    assert record.entity_path == ("cam",)
    assert record.msg == rc.make_segmentation_msg(np.ones((2, 2), np.uint16))


def test_missing_extra_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rerun.chunk", None)
    with pytest.raises(ImportError, match=r"pip install 'rerun-core\[rerun\]'"):
        read_rrd_records(tmp_path / "x.rrd")  # raises at the call, not at iteration


def test_open_recording_reads_records_again_in_any_order(tmp_path):
    from rerun_sinks import open_recording

    rng = np.random.default_rng(4)
    frames = rng.integers(0, 255, (12, 6, 8, 3), dtype=np.uint8)

    def log(rec) -> None:
        for i, frame in enumerate(frames):
            rec.set_time("frame", sequence=i)
            rec.log(f"cam/{i % 3}", rr.Image(frame))
            if i % 4 == 0:
                rec.log("depth", rr.DepthImage(frame[..., 0].astype(np.uint16)))

    write_rrd(tmp_path / "a.rrd", log)
    records = list(read_rrd_records(tmp_path / "a.rrd"))
    assert len(records) == 15
    with open_recording(tmp_path / "a.rrd") as f:
        assert list(f) == records
        order = np.random.default_rng(2).permutation(len(records)).tolist()
        assert [f[i] for i in order] == [records[i] for i in order]  # backwards: a new pass
        assert list(f.query("cam/**", timeline="frame", start=3, stop=7)) == [
            r for r in records if r.entity_path[0] == "cam" and 3 <= r.timepoint["frame"].value < 7
        ]
        [depth8] = [
            r for r in records if r.entity_path == ("depth",) and r.timepoint["frame"].value == 8
        ]
        assert f.latest_at("depth", "frame", 9) == depth8
