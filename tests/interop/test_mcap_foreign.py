"""read_mcap_records on MCAP files of another writer: foxglove-sdk's images, protobuf and JSON."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

import rerun_core as rc
from rerun_sinks import ForeignDataError, read_mcap_records

foxglove = pytest.importorskip("foxglove", reason="needs the [mcap] extra (foxglove-sdk)")

from foxglove.channels import CompressedImageChannel, RawImageChannel  # noqa: E402
from foxglove.messages import CompressedImage, RawImage, Timestamp  # noqa: E402

BASE_NS = 1_700_000_000_000_000_000
RNG = np.random.default_rng(7)
RGB = RNG.integers(0, 255, (4, 6, 3), dtype=np.uint8)
BGRA = RNG.integers(0, 255, (4, 6, 4), dtype=np.uint8)
GRAY = RNG.integers(0, 255, (4, 6), dtype=np.uint8)
GRAY16 = RNG.integers(0, 65535, (4, 6), dtype=np.uint16)
DEPTH16 = RNG.integers(0, 9999, (4, 6), dtype=np.uint16)
DEPTH32 = RNG.random((4, 6)).astype(np.float32)


def encoded(array: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt)
    return buffer.getvalue()


def raw(pixels: np.ndarray, encoding: str, *, pad: int = 0) -> dict:
    """RawImage fields; ``pad`` bytes of padding at the end of every row."""
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1).view(np.uint8)
    padded = np.concatenate([rows, np.full((height, pad), 0xAB, np.uint8)], axis=1)
    fields = {"width": width, "height": height, "encoding": encoding, "step": padded.shape[1]}
    return {**fields, "data": padded.tobytes()}


CASES = {  # topic -> (RawImage fields, the record's message)
    "/cam/rgb": (raw(RGB, "rgb8"), rc.make_image_msg(RGB)),
    "/cam/bgra": (raw(BGRA, "bgra8", pad=8), rc.make_image_msg(BGRA, color_model="BGRA")),
    "/cam/bgr": (raw(RGB, "8UC3"), rc.make_image_msg(RGB, color_model="BGR")),
    "/cam/gray": (raw(GRAY, "mono8", pad=2), rc.make_image_msg(GRAY)),
    "/cam/gray8": (raw(GRAY, "8UC1"), rc.make_image_msg(GRAY)),
    "/cam/gray16": (raw(GRAY16, "mono16"), rc.make_image_msg(GRAY16)),
    "/depth/mm": (raw(DEPTH16, "16UC1"), rc.make_depth_msg(DEPTH16)),
    "/depth/m": (raw(DEPTH32, "32FC1", pad=4), rc.make_depth_msg(DEPTH32)),
}
JPEG = encoded(RGB, "JPEG")
PNG = encoded(GRAY, "PNG")


def write_protobuf(path, *, extra=None) -> None:
    context = foxglove.Context()
    with foxglove.open_mcap(path, context=context):
        for i, (topic, (fields, _)) in enumerate(CASES.items()):
            channel = RawImageChannel(topic, context=context)
            channel.log(
                RawImage(timestamp=Timestamp(1, 2), frame_id="f", **fields), log_time=BASE_NS + i
            )
        channel = CompressedImageChannel("/cam/jpeg", context=context)
        channel.log(CompressedImage(data=JPEG, format="jpeg"), log_time=BASE_NS + 100)
        channel = CompressedImageChannel("/cam/png", context=context)
        channel.log(CompressedImage(data=PNG, format="png"), log_time=BASE_NS + 101)
        other = foxglove.Channel("/text", message_encoding="json", context=context)
        other.log({"hello": "world"}, log_time=BASE_NS + 102)
        if extra is not None:
            extra(context)


def write_json(path) -> None:
    context = foxglove.Context()
    with foxglove.open_mcap(path, context=context):
        for i, (topic, (fields, _)) in enumerate(CASES.items()):
            schema = foxglove.Schema(name="foxglove.RawImage", encoding="jsonschema", data=b"{}")
            channel = foxglove.Channel(
                topic, schema=schema, message_encoding="json", context=context
            )
            body = {**fields, "timestamp": {"sec": 1, "nsec": 2}, "frame_id": "f"}
            body["data"] = base64.b64encode(fields["data"]).decode()
            channel.log(body, log_time=BASE_NS + i)
        schema = foxglove.Schema(name="foxglove.CompressedImage", encoding="jsonschema", data=b"{}")
        channel = foxglove.Channel(
            "/cam/jpeg", schema=schema, message_encoding="json", context=context
        )
        jpeg = {"timestamp": {"sec": 1, "nsec": 2}, "frame_id": "f", "format": "jpeg"}
        channel.log({**jpeg, "data": base64.b64encode(JPEG).decode()}, log_time=BASE_NS + 100)


def expected_records(*, png: bool) -> list[rc.Record]:
    items = [(topic, msg, BASE_NS + i) for i, (topic, (_, msg)) in enumerate(CASES.items())]
    items.append(("/cam/jpeg", rc.make_encoded_image_msg(JPEG), BASE_NS + 100))
    if png:
        items.append(("/cam/png", rc.make_encoded_image_msg(PNG), BASE_NS + 101))
    return [
        rc.make_record(
            topic,
            msg,
            timepoint={"log_time": rc.TimeValue("time", time)},
            log_tick=tick,
            log_time_ns=time,
        )
        for tick, (topic, msg, time) in enumerate(items)
    ]


def test_foxglove_sdk_protobuf_images_become_records(tmp_path):
    write_protobuf(tmp_path / "fox.mcap")
    assert list(read_mcap_records(tmp_path / "fox.mcap")) == expected_records(png=True)


def test_foxglove_sdk_json_images_become_records(tmp_path):
    write_json(tmp_path / "fox.mcap")
    assert list(read_mcap_records(tmp_path / "fox.mcap")) == expected_records(png=False)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (raw(GRAY, "yuv422"), r"'/bad': .*encoding 'yuv422' is not supported; .*mono8"),
        ({**raw(GRAY, "mono8"), "step": 3}, r"needs step >= 6 .*got step 3"),
        ({**raw(GRAY, "mono8"), "data": b"\x00" * 23}, r"step x height bytes; got step 6 and 23"),
    ],
)
def test_images_the_core_cannot_hold_raise_naming_the_topic(tmp_path, fields, match):
    def bad(context) -> None:
        channel = RawImageChannel("/bad", context=context)
        channel.log(RawImage(timestamp=Timestamp(1, 2), frame_id="f", **fields), log_time=BASE_NS)

    write_protobuf(tmp_path / "bad.mcap", extra=bad)
    with pytest.raises(ForeignDataError, match=match):
        list(read_mcap_records(tmp_path / "bad.mcap"))


def test_unsupported_compressed_format_raises(tmp_path):
    def webp(context) -> None:
        channel = CompressedImageChannel("/webp", context=context)
        channel.log(CompressedImage(data=b"RIFF", format="webp"), log_time=BASE_NS)

    write_protobuf(tmp_path / "webp.mcap", extra=webp)
    with pytest.raises(ForeignDataError, match=r"'/webp': .*format 'webp' is not supported"):
        list(read_mcap_records(tmp_path / "webp.mcap"))


def test_undecodable_json_raises(tmp_path):
    def broken(context) -> None:
        schema = foxglove.Schema(name="foxglove.RawImage", encoding="jsonschema", data=b"{}")
        channel = foxglove.Channel(
            "/broken", schema=schema, message_encoding="json", context=context
        )
        channel.log({"width": 1}, log_time=BASE_NS)

    write_protobuf(tmp_path / "broken.mcap", extra=broken)
    with pytest.raises(ForeignDataError, match=r"'/broken' .*not a JSON foxglove.RawImage"):
        list(read_mcap_records(tmp_path / "broken.mcap"))
