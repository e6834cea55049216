"""McapSink: files read back with the mcap library's own reader, as Foxglove would see them."""

from __future__ import annotations

import base64
import io
import json
import sys
import threading

import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks.errors import SinkClosedError

pytest.importorskip(
    "mcap", reason="McapSink needs the [mcap] extra: pip install 'rerun-core[mcap]'"
)

from mcap.reader import make_reader

from rerun_sinks._mcap import (
    COMPRESSED_IMAGE_SCHEMA,
    RAW_IMAGE_SCHEMA,
    McapSink,
    read_mcap_records,
)

# Expected Foxglove encodings, written out independently of the implementation.
IMAGE_ENCODINGS = {
    ("uint8", "L"): "mono8",
    ("uint8", "RGB"): "rgb8",
    ("uint8", "RGBA"): "rgba8",
    ("uint8", "BGR"): "bgr8",
    ("uint8", "BGRA"): "bgra8",
    **{("uint16", m): e for m, e in [("L", "mono16"), ("RGB", "16UC3"), ("BGR", "16UC3")]},
    **{("uint16", m): "16UC4" for m in ("RGBA", "BGRA")},
    **{(f, "L"): "32FC1" for f in ("float16", "float32", "float64")},
    **{(f, m): "32FC3" for f in ("float16", "float32", "float64") for m in ("RGB", "BGR")},
    **{(f, m): "32FC4" for f in ("float16", "float32", "float64") for m in ("RGBA", "BGRA")},
}
LAYOUTS = {  # encoding -> (little-endian dtype, channels)
    "mono8": ("u1", 1),
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "mono16": ("<u2", 1),
    "16UC1": ("<u2", 1),
    "16UC3": ("<u2", 3),
    "16UC4": ("<u2", 4),
    "32FC1": ("<f4", 1),
    "32FC3": ("<f4", 3),
    "32FC4": ("<f4", 4),
}


def write_mcap(path, records, **options) -> None:
    with McapSink(path, **options) as sink:
        for record in records:
            sink.write(record)


def read_all(path):
    """Every message as the mcap library yields it (log-time order), JSON decoded."""
    with open(path, "rb") as file:
        return [
            (
                schema,
                channel,
                message,
                json.loads(message.data) if channel.message_encoding == "json" else None,
            )
            for schema, channel, message in make_reader(file).iter_messages()
        ]


def decode_raw(message: dict) -> np.ndarray:
    dtype, channels = LAYOUTS[message["encoding"]]
    item = np.dtype(dtype).itemsize
    assert message["step"] == message["width"] * channels * item
    data = base64.b64decode(message["data"])
    assert len(data) == message["step"] * message["height"]
    return np.frombuffer(data, dtype).reshape(message["height"], message["width"], channels)


def expected_raw(record: rc.Record) -> tuple[str, np.ndarray, dict[str, str]]:
    """The documented conversion: (encoding, HxWxC pixels, channel metadata)."""
    msg = record.msg
    if isinstance(msg, rc.ImageMsg):
        pixels = msg.pixels
        encoding = IMAGE_ENCODINGS[(pixels.dtype.name, msg.color_model.value)]
        if pixels.dtype.kind == "f":
            pixels = pixels.astype(np.float32)
        return encoding, pixels, {"kind": "image", "color_model": msg.color_model.value}
    if isinstance(msg, rc.DepthMsg):
        if msg.pixels.dtype.kind == "f":
            metres = (msg.pixels.astype(np.float64) / msg.effective_meter).astype(np.float32)
            return "32FC1", metres[..., None], {"kind": "depth", "meter": "1.0"}
        meter = repr(msg.effective_meter)
        return "16UC1", msg.pixels.astype(np.uint16)[..., None], {"kind": "depth", "meter": meter}
    assert isinstance(msg, rc.SegmentationMsg)
    encoding = "mono8" if msg.pixels.dtype == np.uint8 else "mono16"
    return encoding, msg.pixels[..., None], {"kind": "segmentation"}


def topic(record: rc.Record) -> str:
    return "/" + "/".join(record.entity_path)


def test_every_kind_reads_back_as_foxglove_images(tmp_path, records):
    path = tmp_path / "all.mcap"
    write_mcap(path, records)
    foxglove = {
        ch.topic: (schema, ch, msg, body) for schema, ch, msg, body in read_all(path) if body
    }

    checked = 0
    for record in records:
        msg = record.msg
        if isinstance(msg, rc.AnnotationContextMsg | rc.ExtensionMsg):
            assert topic(record) not in foxglove  # sidecar only
            continue
        schema, channel, message, body = foxglove.pop(topic(record))
        assert channel.message_encoding == "json"
        assert schema.encoding == "jsonschema"
        stamp = record.log_time_ns
        assert body["timestamp"] == {"sec": stamp // 10**9, "nsec": stamp % 10**9}
        assert body["frame_id"] == "/".join(record.entity_path)
        assert message.publish_time == stamp
        assert message.log_time == (0 if record.timeless else stamp)
        assert message.sequence == record.log_tick
        if isinstance(msg, rc.ImageMsg) and msg.encoded is not None:
            assert schema.name == "foxglove.CompressedImage"
            assert schema.data == COMPRESSED_IMAGE_SCHEMA
            assert body["format"] == "jpeg"
            assert base64.b64decode(body["data"]) == msg.encoded
        else:
            encoding, pixels, metadata = expected_raw(record)
            assert schema.name == "foxglove.RawImage"
            assert schema.data == RAW_IMAGE_SCHEMA
            assert channel.metadata == metadata
            assert body["encoding"] == encoding
            assert (body["height"], body["width"]) == pixels.shape[:2]
            decoded = decode_raw(body)
            assert decoded.dtype == pixels.dtype.newbyteorder("<")
            np.testing.assert_array_equal(decoded, pixels)  # NaN equals NaN here
        checked += 1
    assert checked == 34  # 25 raw images, 1 timeless image, 2 JPEG, 4 depth, 2 segmentation
    assert not foxglove


def test_schemas_are_foxglove_published_json_schemas():
    raw = json.loads(RAW_IMAGE_SCHEMA)
    compressed = json.loads(COMPRESSED_IMAGE_SCHEMA)
    assert raw["title"] == "foxglove.RawImage"
    assert set(raw["properties"]) == {
        "timestamp",
        "frame_id",
        "width",
        "height",
        "encoding",
        "step",
        "data",
    }
    assert raw["properties"]["data"]["contentEncoding"] == "base64"
    assert compressed["title"] == "foxglove.CompressedImage"
    assert set(compressed["required"]) == {"timestamp", "frame_id", "data", "format"}


def test_timeless_records_come_first_in_log_time_order(tmp_path, records):
    path = tmp_path / "order.mcap"
    write_mcap(path, records)
    messages = read_all(path)
    times = [message.log_time for _, _, message, _ in messages]
    assert times == sorted(times)
    timeless_topics = {topic(r) for r in records if r.timeless}
    timeless = {t for t in timeless_topics if t != "/"} | {
        t.rstrip("/") + "/rerun_core" for t in timeless_topics
    }  # the root's annotation context is sidecar-only
    first = [channel.topic for _, channel, _, _ in messages[: len(timeless)]]
    assert set(first) == timeless
    assert times[len(timeless) - 1] == 0 < times[len(timeless)]


def test_sidecar_gives_back_equal_records(tmp_path, records):
    path = tmp_path / "sidecar.mcap"
    write_mcap(path, records)
    assert list(read_mcap_records(path)) == records
    with open(path, "rb") as file:
        assert list(read_mcap_records(file)) == records
    sidecars = [
        (schema, channel)
        for schema, channel, _, _ in read_all(path)
        if channel.message_encoding == "rerun-core-rrc"
    ]
    assert len(sidecars) == len(records)
    for schema, channel in sidecars:
        assert (schema.name, schema.encoding, schema.data) == ("rerun_core.Record", "", b"")
        assert channel.topic.endswith("/rerun_core")


def test_sidecar_bytes_are_exactly_encode_record(tmp_path, records):
    path = tmp_path / "bytes.mcap"
    write_mcap(path, records)
    with open(path, "rb") as file:
        payloads = [
            message.data
            for _, channel, message in make_reader(file).iter_messages(log_time_order=False)
            if channel.message_encoding == "rerun-core-rrc"
        ]
    assert payloads == [rc.encode_record(r) for r in records]


@pytest.mark.parametrize("compression", ["zstd", "lz4", "none"])
def test_compressions_and_streams(compression, records):
    stream = io.BytesIO()
    write_mcap(stream, records[:5], compression=compression)
    assert not stream.closed  # a given stream is finished, never closed
    stream.seek(0)
    assert list(read_mcap_records(stream)) == records[:5]
    summary = make_reader(io.BytesIO(stream.getvalue())).get_summary()
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


def test_missing_extra_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mcap.writer", None)
    with pytest.raises(ImportError, match=r"pip install 'rerun-core\[mcap\]'"):
        McapSink(tmp_path / "x.mcap")
    assert not (tmp_path / "x.mcap").exists()
    monkeypatch.setitem(sys.modules, "mcap.reader", None)
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
