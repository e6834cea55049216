"""McapSink: files read with the mcap library's own reader and Foxglove's protobuf schemas."""

from __future__ import annotations

import io
import math
import os
import stat
import sys
import threading
from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_sinks import ForeignDataError, McapSink, read_mcap_records
from rerun_sinks.errors import SinkClosedError

pytest.importorskip(
    "foxglove", reason="McapSink needs the [mcap] extra: pip install 'rerun-core[mcap]'"
)

from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf import descriptor_pb2, message_factory
from mcap.reader import make_reader

from .conftest import build_golden_records

GOLDEN = Path(__file__).resolve().parent.parent / "golden"

# The Foxglove form, written out independently of the implementation:
# (dtype, colour model) -> (encoding, exact); uint16/float colour is shown as 8-bit.
IMAGE_ENCODINGS = {
    **{("uint8", m): (e, True) for m, e in [("L", "mono8"), ("RGB", "rgb8"), ("BGR", "bgr8")]},
    **{("uint8", m): (e, True) for m, e in [("RGBA", "rgba8"), ("BGRA", "bgra8")]},
    ("uint16", "L"): ("mono16", True),
    ("float32", "L"): ("32FC1", True),
    ("float16", "L"): ("32FC1", False),
    ("float64", "L"): ("32FC1", False),
    **{
        (d, m): (m.lower() + "8", False)
        for d in ("uint16", "float16", "float32", "float64")
        for m in ("RGB", "BGR", "RGBA", "BGRA")
    },
}
LAYOUTS = {  # encoding -> (little-endian dtype, channels)
    "mono8": ("u1", 1),
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "mono16": ("<u2", 1),
    "16UC1": ("<u2", 1),
    "32FC1": ("<f4", 1),
}


def write_mcap(target, records, **options) -> None:
    with McapSink(target, **options) as sink:
        for record in records:
            sink.write(record)


def read_all(path):
    """Every (schema, channel, message) in file order, CRCs checked."""
    with open(path, "rb") as file:
        reader = make_reader(file, validate_crcs=True)
        return list(reader.iter_messages(log_time_order=False))


def side_class(schema):
    """The side message class, built from the schema stored in the file (as Foxglove does)."""
    files = descriptor_pb2.FileDescriptorSet.FromString(schema.data).file
    return message_factory.GetMessages(files)[schema.name]


def decode_raw(message: RawImage) -> np.ndarray:
    dtype, channels = LAYOUTS[message.encoding]
    assert message.step == message.width * channels * np.dtype(dtype).itemsize
    assert len(message.data) == message.step * message.height
    return np.frombuffer(message.data, dtype).reshape(message.height, message.width, channels)


def expected_raw(record: rc.Record) -> tuple[str, np.ndarray, bool]:
    """The documented Foxglove form: (encoding, H x W x C pixels, exact)."""
    msg = record.msg
    if isinstance(msg, rc.ImageMsg):
        return expected_image(msg)
    if isinstance(msg, rc.DepthMsg):
        if msg.pixels.dtype.kind == "f":
            metres = (msg.pixels.astype(np.float64) / msg.effective_meter).astype(np.float32)
            exact = msg.pixels.dtype == np.float32 and msg.effective_meter == 1.0
            return "32FC1", metres[..., None], exact
        return "16UC1", msg.pixels.astype(np.uint16)[..., None], True
    assert isinstance(msg, rc.SegmentationMsg)
    encoding = "mono8" if msg.pixels.dtype == np.uint8 else "mono16"
    return encoding, msg.pixels[..., None], True


def expected_image(msg: rc.ImageMsg) -> tuple[str, np.ndarray, bool]:
    pixels = msg.pixels
    encoding, exact = IMAGE_ENCODINGS[(pixels.dtype.name, msg.color_model.value)]
    if encoding == "32FC1":
        pixels = pixels.astype(np.float32)
    elif pixels.dtype == np.uint16 and encoding != "mono16":
        pixels = (pixels >> 8).astype(np.uint8)
    elif pixels.dtype.kind == "f":
        unit = np.clip(np.nan_to_num(pixels.astype(np.float64), nan=0.0), 0, 1)
        pixels = np.rint(unit * 255).astype(np.uint8)
    return encoding, pixels, exact


def topic(record: rc.Record) -> str:
    return "/" + "/".join(record.entity_path)


def first_timed_time(records) -> int:
    return next(r.log_time_ns for r in records if not r.timeless)


def test_file_has_zstd_chunks_indexes_statistics_and_valid_crcs(tmp_path, records):
    path = tmp_path / "all.mcap"
    write_mcap(path, records)
    with open(path, "rb") as file:
        reader = make_reader(file, validate_crcs=True)
        summary = reader.get_summary()
        messages = list(reader.iter_messages())
    assert summary.chunk_indexes
    assert {c.compression for c in summary.chunk_indexes} == {"zstd"}
    stats = summary.statistics
    images = [
        r for r in records if not isinstance(r.msg, rc.AnnotationContextMsg | rc.ExtensionMsg)
    ]
    assert stats.message_count == len(messages) == len(records) + len(images)
    assert sum(stats.channel_message_counts.values()) == stats.message_count
    assert stats.message_start_time == min(m.log_time for _, _, m in messages)
    assert stats.message_end_time == max(r.log_time_ns for r in records)


def test_every_image_decodes_with_foxglove_protobuf_schemas(tmp_path, records):
    path = tmp_path / "all.mcap"
    write_mcap(path, records)
    messages = read_all(path)
    images = {
        channel.topic: (schema, channel, message)
        for schema, channel, message in messages
        if schema.name.startswith("foxglove.")
    }
    sides = {
        channel.topic: side_class(schema).FromString(message.data)
        for schema, channel, message in messages
        if schema.name == "rerun_core.Record"
    }
    first = first_timed_time(records)
    checked = 0
    for record in records:
        side = sides.pop(topic(record).rstrip("/") + "/rerun_core")
        assert tuple(side.entity_path) == record.entity_path
        assert side.log_tick == record.log_tick
        if isinstance(record.msg, rc.AnnotationContextMsg | rc.ExtensionMsg):
            assert topic(record) not in images  # no Foxglove form: side record only
            continue
        schema, channel, message = images.pop(topic(record))
        assert schema.encoding == channel.message_encoding == "protobuf"
        assert channel.metadata == {
            "rerun_core.side_topic": topic(record).rstrip("/") + "/rerun_core"
        }
        assert side.image_sequence == message.sequence
        time = first if record.timeless else record.log_time_ns
        assert message.log_time == message.publish_time == time
        msg = record.msg
        if isinstance(msg, rc.ImageMsg) and msg.encoded is not None:
            assert schema.name == "foxglove.CompressedImage"
            image = CompressedImage.FromString(message.data)
            assert (image.format, image.data) == ("jpeg", msg.encoded)
            assert not side.HasField("pixels")
        else:
            assert schema.name == "foxglove.RawImage"
            image = RawImage.FromString(message.data)
            encoding, pixels, exact = expected_raw(record)
            assert image.encoding == encoding
            assert image.frame_id == rc.format_entity_path(record.entity_path)
            assert image.timestamp.seconds * 10**9 + image.timestamp.nanos == time
            np.testing.assert_array_equal(decode_raw(image), pixels)  # NaN equals NaN
            assert side.dtype == msg.pixels.dtype.str
            assert side.HasField("pixels") is not exact  # pixels stored once unless lossy
        checked += 1
    assert checked == 34  # 25 raw images, 1 timeless image, 2 JPEG, 4 depth, 2 segmentation
    assert not images
    assert not sides


def test_lossy_forms_keep_the_exact_pixels_in_the_side_record(tmp_path, records):
    path = tmp_path / "all.mcap"
    write_mcap(path, records)
    lossy = {
        tuple(side_class(schema).FromString(message.data).entity_path)
        for schema, _, message in read_all(path)
        if schema.name == "rerun_core.Record"
        and side_class(schema).FromString(message.data).HasField("pixels")
    }
    colour = ("RGB", "BGR", "RGBA", "BGRA")
    assert lossy == {
        ("image", "float16", "L"),
        ("image", "float64", "L"),
        *(("image", d, m) for d in ("uint16", "float16", "float32", "float64") for m in colour),
        ("depth", "float64"),  # metres = d / 4.0 in float32
    }


def test_read_back_gives_every_record_exactly(tmp_path, records):
    path = tmp_path / "back.mcap"
    write_mcap(path, records)
    assert list(read_mcap_records(path)) == records
    with open(path, "rb") as file:
        assert list(read_mcap_records(file)) == records


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rcst.records(), max_size=6))
def test_any_records_read_back_exactly(records):
    stream = io.BytesIO()
    write_mcap(stream, records)
    stream.seek(0)
    assert list(read_mcap_records(stream)) == records


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rcst.records(), max_size=8))
def test_records_of_one_entity_read_back_exactly(records):
    """One entity's side records share serialized static parts (per layout); none leaks."""
    records = [attrs.evolve(record, entity_path=("cam",)) for record in records]
    stream = io.BytesIO()
    write_mcap(stream, records)
    stream.seek(0)
    got = list(read_mcap_records(stream))
    assert got == records
    signs = [
        [
            math.copysign(1.0, value)
            for value in (r.msg.draw_order, getattr(r.msg, "meter", None))
            if value is not None
        ]
        for r in (*records, *got)
        if hasattr(r.msg, "draw_order")
    ]
    assert signs[: len(signs) // 2] == signs[len(signs) // 2 :]  # -0.0 stays -0.0


def test_draw_orders_zero_and_minus_zero_stay_apart(tmp_path):
    image = rc.make_image_msg(np.zeros((2, 2), np.uint8))
    orders = [0.0, -0.0, -0.0, 0.0, None, -0.0]
    records = [
        rc.make_record("cam", attrs.evolve(image, draw_order=order), log_tick=i, log_time_ns=i)
        for i, order in enumerate(orders)
    ]
    write_mcap(tmp_path / "zero.mcap", records)
    got = [r.msg.draw_order for r in read_mcap_records(tmp_path / "zero.mcap")]
    assert [None if o is None else math.copysign(1.0, o) for o in got] == [
        None if o is None else math.copysign(1.0, o) for o in orders
    ]


def timed(entity: str, time: int, tick: int) -> rc.Record:
    image = rc.make_image_msg(np.zeros((2, 2), np.uint8))
    return rc.make_record(
        entity,
        image,
        timepoint={"f": rc.TimeValue("sequence", tick)},
        log_tick=tick,
        log_time_ns=time,
    )


def timeless(entity: str, time: int, tick: int) -> rc.Record:
    context = rc.make_annotation_context_msg([(1, "a")])
    return rc.make_record(entity, context, timeless=True, log_tick=tick, log_time_ns=time)


def log_times(path) -> list[tuple[str, int]]:
    return [(channel.topic, message.log_time) for _, channel, message in read_all(path)]


def channels_by_topic(path) -> dict[str, list[tuple[str, dict[str, str]]]]:
    with open(path, "rb") as file:
        summary = make_reader(file, validate_crcs=True).get_summary()
    topics: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for channel in summary.channels.values():
        schema = summary.schemas[channel.schema_id].name
        topics.setdefault(channel.topic, []).append((schema, dict(channel.metadata)))
    return topics


def test_raw_and_jpeg_images_of_one_entity_get_a_topic_each(tmp_path):
    """Lichtblick decodes every message of a topic with one schema: one channel per topic."""
    raw = rc.make_image_msg(np.zeros((16, 24, 3), np.uint8))
    jpeg = rc.make_image_msg(np.zeros((16, 24, 3), np.uint8), jpeg_quality=90)
    records = [
        rc.make_record("cam", msg, log_tick=i, log_time_ns=i)
        for i, msg in enumerate([jpeg, raw, raw, jpeg])
    ]
    write_mcap(tmp_path / "both.mcap", records)
    side = {"rerun_core.side_topic": "/cam/rerun_core"}
    assert channels_by_topic(tmp_path / "both.mcap") == {
        "/cam": [("foxglove.CompressedImage", side)],  # the entity's first image schema
        "/cam/raw": [("foxglove.RawImage", side)],
        "/cam/rerun_core": [("rerun_core.Record", {})],
    }
    assert list(read_mcap_records(tmp_path / "both.mcap")) == records


def test_topics_taken_by_another_entity_get_a_number(tmp_path):
    raw = rc.make_image_msg(np.zeros((2, 2), np.uint8))
    jpeg = rc.make_image_msg(np.zeros((16, 16), np.uint8), jpeg_quality=90)
    records = [
        rc.make_record(entity, msg, log_tick=i, log_time_ns=i)
        for i, (entity, msg) in enumerate(
            [("a", raw), ("a", jpeg), ("a/compressed", raw), ("a/rerun_core", raw), ("a", raw)]
        )
    ]
    write_mcap(tmp_path / "taken.mcap", records)
    topics = channels_by_topic(tmp_path / "taken.mcap")
    assert all(len(channels) == 1 for channels in topics.values())
    assert sorted(topics) == [
        "/a",
        "/a/compressed",  # a's JPEG images
        "/a/compressed/rerun_core",
        "/a/compressed_2",  # entity a/compressed
        "/a/rerun_core",  # a's side records
        "/a/rerun_core/rerun_core",
        "/a/rerun_core_2",  # entity a/rerun_core
    ]
    assert topics["/a/rerun_core_2"] == [
        ("foxglove.RawImage", {"rerun_core.side_topic": "/a/rerun_core/rerun_core"})
    ]
    assert list(read_mcap_records(tmp_path / "taken.mcap")) == records


def test_timeless_records_take_the_first_timed_log_time(tmp_path):
    records = [
        timeless("ctx", 5, 0),
        timed("cam", 900, 1),
        timeless("late", 7, 2),
        timed("cam", 950, 3),
    ]
    write_mcap(tmp_path / "t.mcap", records)
    assert log_times(tmp_path / "t.mcap") == [
        ("/ctx/rerun_core", 900),  # waited for the first timed record
        ("/cam", 900),
        ("/cam/rerun_core", 900),
        ("/late/rerun_core", 900),
        ("/cam", 950),
        ("/cam/rerun_core", 950),
    ]
    assert list(read_mcap_records(tmp_path / "t.mcap")) == records


def test_only_timeless_records_keep_the_first_ones_log_time(tmp_path):
    records = [timeless("a", 40, 0), timeless("b", 70, 1)]
    write_mcap(tmp_path / "t.mcap", records)
    assert log_times(tmp_path / "t.mcap") == [("/a/rerun_core", 40), ("/b/rerun_core", 40)]


def test_negative_log_times_are_written_as_zero(tmp_path):
    records = [timed("cam", -5, 0)]
    write_mcap(tmp_path / "t.mcap", records)
    assert {t for _, t in log_times(tmp_path / "t.mcap")} == {0}
    assert list(read_mcap_records(tmp_path / "t.mcap")) == records


def test_rerun_reads_our_images(tmp_path, records):
    rrchunk = pytest.importorskip("rerun.chunk", reason="needs rerun-sdk >= 0.41 (McapReader)")
    path = tmp_path / "rerun.mcap"
    write_mcap(path, records)
    found: dict[str, set[str]] = {}
    for chunk in rrchunk.McapReader(path).stream().to_chunks():
        found.setdefault(chunk.entity_path, set()).update(chunk.to_record_batch().schema.names)
    for record in records:
        msg = record.msg
        if isinstance(msg, rc.AnnotationContextMsg | rc.ExtensionMsg):
            continue
        names = found[topic(record)]
        if isinstance(msg, rc.ImageMsg) and msg.encoded is not None:
            assert "EncodedImage:blob" in names, topic(record)
        else:
            assert {"Image:buffer", "Image:format"} <= names, topic(record)


def test_rerun_reads_raw_and_jpeg_images_of_one_entity(tmp_path):
    rrchunk = pytest.importorskip("rerun.chunk", reason="needs rerun-sdk >= 0.41 (McapReader)")
    raw = rc.make_image_msg(np.zeros((16, 24, 3), np.uint8))
    jpeg = rc.make_image_msg(np.zeros((16, 24, 3), np.uint8), jpeg_quality=90)
    records = [
        rc.make_record("cam", msg, log_tick=i, log_time_ns=10**18 + i)
        for i, msg in enumerate([raw, jpeg, raw, jpeg])
    ]
    write_mcap(tmp_path / "both.mcap", records)
    found: dict[str, set[str]] = {}
    for chunk in rrchunk.McapReader(tmp_path / "both.mcap").stream().to_chunks():
        found.setdefault(chunk.entity_path, set()).update(chunk.to_record_batch().schema.names)
    assert {"Image:buffer", "Image:format"} <= found["/cam"]
    assert "EncodedImage:blob" in found["/cam/compressed"]


@pytest.mark.parametrize("compression", ["zstd", "lz4", "none"])
def test_compressions_and_streams(compression, records):
    stream = io.BytesIO()
    write_mcap(stream, records[:5], compression=compression)
    assert not stream.closed  # a given stream is finished, never closed
    stream.seek(0)
    assert list(read_mcap_records(stream)) == records[:5]
    summary = make_reader(io.BytesIO(stream.getvalue()), validate_crcs=True).get_summary()
    expected = {"zstd": "zstd", "lz4": "lz4", "none": ""}[compression]
    assert {c.compression for c in summary.chunk_indexes} == {expected}


class TrickleStream(io.RawIOBase):
    """A pipe-like raw stream: not seekable (no tell), at most 7 bytes per write."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(memoryview(data)[:7])
        self.data += chunk
        return len(chunk)


def test_partial_writes_and_unseekable_streams(records):
    stream = TrickleStream()
    write_mcap(stream, records[:3])
    assert not stream.closed
    assert list(read_mcap_records(io.BytesIO(bytes(stream.data)))) == records[:3]


def test_stream_not_at_position_zero(records):
    stream = io.BytesIO()
    stream.write(b"prefix")
    write_mcap(stream, records[:3])
    mcap_bytes = stream.getvalue()[len(b"prefix") :]
    assert list(read_mcap_records(io.BytesIO(mcap_bytes))) == records[:3]


def test_lifecycle(tmp_path, records):
    sink = McapSink(tmp_path / "life.mcap")
    sink.write(records[0])
    sink.flush()
    sink.close()
    sink.close()  # idempotent
    with pytest.raises(SinkClosedError, match="closed"):
        sink.write(records[1])
    with pytest.raises(SinkClosedError):
        sink.flush()
    assert list(read_mcap_records(tmp_path / "life.mcap")) == records[:1]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="'zstd', 'lz4', 'none'; got 'gzip'"):
        McapSink(tmp_path / "x.mcap", compression="gzip")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="binary stream; got StringIO"):
        McapSink(io.StringIO())  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"McapSink cannot create .*missing.*x\.mcap"):
        McapSink(tmp_path / "missing" / "x.mcap")
    with pytest.raises(IsADirectoryError, match="cannot create"):
        McapSink(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and modes")
def test_an_existing_file_is_replaced_with_its_permissions(tmp_path, records):
    """Truncated, the old file would be written back whole by ext4 at close (_rewrite)."""
    path, link = tmp_path / "a.mcap", tmp_path / "link.mcap"
    write_mcap(path, records[:1])
    os.chmod(path, 0o640)
    old = os.open(path, os.O_RDONLY)
    try:
        write_mcap(path, records)
        assert os.fstat(old).st_nlink == 0  # a new file, not the old one truncated
    finally:
        os.close(old)
    assert list(read_mcap_records(path)) == records
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    link.symlink_to(path)
    write_mcap(link, records[:2])  # through a symlink: the target is written
    assert link.is_symlink()
    assert list(read_mcap_records(path)) == records[:2]


def test_missing_extra_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "foxglove", None)
    with pytest.raises(ImportError, match=r"pip install 'rerun-core\[mcap\]'"):
        McapSink(tmp_path / "x.mcap")
    assert not (tmp_path / "x.mcap").exists()
    monkeypatch.setitem(sys.modules, "mcap.records", None)
    with pytest.raises(ImportError, match=r"pip install 'rerun-core\[mcap\]'"):
        read_mcap_records(tmp_path / "x.mcap")  # raises at the call, not at iteration


def test_threads_lose_nothing(tmp_path):
    path = tmp_path / "threads.mcap"
    image = rc.make_image_msg(np.zeros((4, 4, 3), np.uint8))

    def log(thread: int) -> None:
        for i in range(50):
            sink.write(rc.make_record(f"t/{thread}", image, log_tick=i, log_time_ns=i))

    with McapSink(path) as sink:
        threads = [threading.Thread(target=log, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    got = list(read_mcap_records(path))
    assert len(got) == 200
    for n in range(4):
        assert [r.log_tick for r in got if r.entity_path == ("t", str(n))] == list(range(50))


def test_legacy_json_sidecar_files_still_read(records):
    """rerun-core 0.1 wrote base64 JSON images plus a `rerun-core-rrc` sidecar."""
    legacy = list(read_mcap_records(GOLDEN / "mcap-json-sidecar.mcap"))
    assert len(legacy) == len(records)
    for old, new in zip(legacy, records, strict=True):
        if isinstance(new.msg, rc.ImageMsg) and new.msg.encoded is not None:
            assert old.msg.shape == new.msg.shape  # JPEG bytes depend on the encoder's version
            continue
        assert old == new


@pytest.mark.parametrize(
    "name",
    [
        "mcap-protobuf-side-shared-topics.mcap",  # a raw and a JPEG channel on one topic
        "mcap-protobuf-side.mcap",  # a topic per image channel, static side parts shared
    ],
)
def test_protobuf_side_golden_files_read_back_exactly(name):
    golden = list(read_mcap_records(GOLDEN / name))
    expected = build_golden_records()
    assert len(golden) == len(expected)
    for old, new in zip(golden, expected, strict=True):
        if isinstance(new.msg, rc.ImageMsg) and new.msg.encoded is not None:
            assert old.msg.shape == new.msg.shape  # JPEG bytes depend on the encoder's version
            assert attrs.evolve(old, msg=new.msg) == new
            continue
        assert old == new


def damaged_file(path, side_fields: dict, image: RawImage | None = None, raw: bytes | None = None):
    """An MCAP with our side schema and one crafted side message (plus an image message)."""
    from mcap.writer import Writer

    from rerun_sinks._mcap_schema import SCHEMA_DATA, SIDE_SCHEMA, message_class

    with open(path, "wb") as file:
        writer = Writer(file)
        writer.start(profile="", library="test")
        if image is not None:
            files = descriptor_pb2.FileDescriptorSet()
            for proto in (RawImage.DESCRIPTOR.file.dependencies[0], RawImage.DESCRIPTOR.file):
                proto.CopyToProto(files.file.add())
            schema = writer.register_schema(
                "foxglove.RawImage", "protobuf", files.SerializeToString()
            )
            metadata = {"rerun_core.side_topic": "/cam/rerun_core"}
            channel = writer.register_channel("/cam", "protobuf", schema, metadata)
            writer.add_message(channel, 1, image.SerializeToString(), 1, sequence=1)
        schema = writer.register_schema(SIDE_SCHEMA, "protobuf", SCHEMA_DATA)
        channel = writer.register_channel("/cam/rerun_core", "protobuf", schema)
        data = (
            raw if raw is not None else message_class("Record")(**side_fields).SerializeToString()
        )
        writer.add_message(channel, 1, data, 1, sequence=1)
        writer.finish()


GRAY = RawImage(width=2, height=2, step=2, encoding="mono8", data=b"\x01\x02\x03\x04")
BASE_SIDE = {"entity_path": ["cam"], "kind": "image", "color_model": "L", "dtype": "|u1"}


@pytest.mark.parametrize(
    ("side", "image", "raw", "match"),
    [
        ({**BASE_SIDE, "kind": "bogus"}, None, None, "unknown record kind 'bogus'"),
        (
            {**BASE_SIDE, "image_sequence": 7, "dtype": "|u1"},
            GRAY,
            None,
            "RawImage 7, which is missing",
        ),
        (
            {**BASE_SIDE, "image_sequence": 1, "dtype": "<f8"},
            GRAY,
            None,
            "cannot hold '<f8' pixels",
        ),
        (
            {**BASE_SIDE, "pixels": {"dtype": "zzz", "shape": [1], "data": b"x"}},
            None,
            None,
            "unknown dtype",
        ),
        (
            {**BASE_SIDE, "pixels": {"dtype": "|O", "shape": [1], "data": b"x" * 8}},
            None,
            None,
            "; allowed: bool, int, float, str",
        ),
        (
            {**BASE_SIDE, "pixels": {"dtype": "|u1", "shape": [2**40, 2**40, 1], "data": b"xy"}},
            None,
            None,
            "2 bytes cannot be",
        ),
        (
            {**BASE_SIDE, "image_sequence": 1, "dtype": "|u1"},
            RawImage(width=9, height=9, step=9, encoding="mono8", data=b"1"),
            None,
            "1 bytes cannot be",
        ),
        ({}, None, b"\xff\xff\xff", "not a protobuf rerun_core.Record"),
        (
            {**BASE_SIDE, "timepoint": [{"timeline": "t", "kind": "bogus", "value": 1}]},
            None,
            None,
            "breaks a rule",
        ),
    ],
)
def test_damaged_side_records_raise_foreign_data_error(tmp_path, side, image, raw, match):
    damaged_file(tmp_path / "bad.mcap", side, image, raw)
    with pytest.raises(ForeignDataError, match=match):
        list(read_mcap_records(tmp_path / "bad.mcap"))


def test_a_cut_file_gives_the_records_of_its_complete_chunks(tmp_path):
    frames = np.random.default_rng(3).integers(0, 255, (4, 64, 64, 3), dtype=np.uint8)
    records = [
        rc.make_record("cam", rc.make_image_msg(frames[i % 4]), log_tick=i, log_time_ns=i)
        for i in range(250)  # 3 MB: three chunks of 1 MiB
    ]
    stream = io.BytesIO()
    write_mcap(stream, records, compression="none")
    data = stream.getvalue()
    counts = set()
    for cut in range(0, len(data), len(data) // 7):
        got = []
        with pytest.raises(rc.DecodeError, match="damaged or ends early") as error:
            got.extend(read_mcap_records(io.BytesIO(data[:cut])))
        assert got == records[: len(got)]
        assert 0 <= error.value.offset <= cut
        counts.add(len(got))
    assert len(counts) >= 3  # chunk by chunk
    assert list(read_mcap_records(io.BytesIO(data))) == records


def test_flush_makes_every_record_written_so_far_read_back(tmp_path):
    image = rc.make_image_msg(np.zeros((4, 4, 3), np.uint8))
    records = [rc.make_record("cam", image, log_tick=i, log_time_ns=i + 1) for i in range(5)]
    with McapSink(tmp_path / "live.mcap") as sink:
        for count, record in enumerate(records, start=1):
            sink.write(record)
            sink.flush()
            got: list[rc.Record] = []
            with pytest.raises(rc.DecodeError, match="ends early"):  # no summary yet
                got.extend(read_mcap_records(io.BytesIO((tmp_path / "live.mcap").read_bytes())))
            assert got == records[:count]
