"""Tests for rerun_core._jpeg.read_jpeg_header: header fields, marker walk, errors, fuzzing."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import rerun_core as rc
from rerun_core._jpeg import read_jpeg_header
from rerun_core.errors import DecodeError, InvalidArgumentError, UnrecognizedImageFormatError

H, W = 37, 53
MAX = 1_000_000
EXIF = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"


def jpeg(mode: str = "RGB", size: tuple[int, int] = (W, H), **kw: object) -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, "JPEG", **kw)
    return buf.getvalue()


def sof_offset(data: bytes) -> int:
    """Offset of the SOF0/SOF2 marker."""
    return min(i for i in (data.find(b"\xff\xc0"), data.find(b"\xff\xc2")) if i >= 0)


BASELINE = jpeg()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(BASELINE, (H, W, 3), id="baseline-rgb"),
        pytest.param(jpeg(progressive=True), (H, W, 3), id="progressive-rgb"),
        pytest.param(jpeg("L"), (H, W, 1), id="grayscale"),
        pytest.param(jpeg("L", progressive=True), (H, W, 1), id="progressive-grayscale"),
        pytest.param(jpeg(subsampling=0, quality=95), (H, W, 3), id="no-subsampling"),
        pytest.param(jpeg(restart_marker_blocks=1), (H, W, 3), id="restart-every-block"),
        pytest.param(jpeg(restart_marker_rows=1), (H, W, 3), id="restart-every-row"),
        pytest.param(
            jpeg(progressive=True, restart_marker_blocks=2), (H, W, 3), id="progressive-restart"
        ),
        pytest.param(jpeg(exif=EXIF, comment=b"hi"), (H, W, 3), id="exif-and-comment"),
        pytest.param(jpeg(icc_profile=b"\x00" * 70_000), (H, W, 3), id="multi-app2-icc"),
        pytest.param(jpeg(size=(1, 1)), (1, 1, 3), id="1x1"),
        pytest.param(jpeg(size=(640, 480), quality=100), (480, 640, 3), id="640x480"),
    ],
)
def test_reads_header(data: bytes, expected: tuple[int, int, int]) -> None:
    assert read_jpeg_header(data, max_pixels=MAX) == expected


def test_fixtures_contain_what_they_claim() -> None:
    assert jpeg(progressive=True).count(b"\xff\xda") > 1  # several scans
    restart = jpeg(restart_marker_blocks=1)
    assert all(bytes([0xFF, 0xD0 + k]) in restart for k in range(8))
    assert b"\xff\xe1" in jpeg(exif=EXIF)


def test_fill_bytes_before_markers_and_trailing_data() -> None:
    sof = sof_offset(BASELINE)
    data = BASELINE[:sof] + b"\xff\xff\xff" + BASELINE[sof:-2] + b"\xff\xff\xd9" + b"junk"
    assert read_jpeg_header(data, max_pixels=MAX) == (H, W, 3)


def test_cmyk_is_rejected_with_hint() -> None:
    with pytest.raises(InvalidArgumentError, match=r'CMYK.*convert\("RGB"\)'):
        read_jpeg_header(jpeg("CMYK"), max_pixels=MAX)


def _patch_size(data: bytes, height: int, width: int) -> bytes:
    at = sof_offset(data) + 5
    return data[:at] + struct.pack(">HH", height, width) + data[at + 4 :]


def test_too_many_pixels_raises_before_walking_on() -> None:
    big = _patch_size(BASELINE, 65_535, 65_535)
    with pytest.raises(InvalidArgumentError, match="max_pixels") as info:
        read_jpeg_header(big, max_pixels=MAX)
    assert info.value.param == "max_pixels"
    truncated_after_sof = big[: sof_offset(big) + 30]
    with pytest.raises(InvalidArgumentError, match="max_pixels"):
        read_jpeg_header(truncated_after_sof, max_pixels=MAX)
    assert read_jpeg_header(BASELINE, max_pixels=H * W) == (H, W, 3)
    with pytest.raises(InvalidArgumentError):
        read_jpeg_header(BASELINE, max_pixels=H * W - 1)


@pytest.mark.parametrize(("height", "width"), [(0, W), (H, 0)], ids=["height-0-dnl", "width-0"])
def test_zero_size(height: int, width: int) -> None:
    with pytest.raises(DecodeError, match="> 0") as info:
        read_jpeg_header(_patch_size(BASELINE, height, width), max_pixels=MAX)
    assert info.value.offset == sof_offset(BASELINE) + 5


@pytest.mark.parametrize("cut", [0, 1, 2, 3, 5, 20, 200, -200, -3, -2, -1])
def test_truncated(cut: int) -> None:
    with pytest.raises(DecodeError):
        read_jpeg_header(BASELINE[:cut], max_pixels=MAX)


def test_missing_eoi_reports_the_end() -> None:
    data = BASELINE[:-2]
    with pytest.raises(DecodeError, match="truncated") as info:
        read_jpeg_header(data, max_pixels=MAX)
    assert info.value.offset == len(data)


def test_progressive_truncated_between_scans() -> None:
    data = jpeg(progressive=True)
    second_scan = data.find(b"\xff\xda", data.find(b"\xff\xda") + 2)
    with pytest.raises(DecodeError, match="truncated"):
        read_jpeg_header(data[:second_scan], max_pixels=MAX)


def test_segment_length_past_end() -> None:
    data = BASELINE[:2] + b"\xff\xe0\xff\xff" + BASELINE[2:40]
    with pytest.raises(DecodeError, match="length") as info:
        read_jpeg_header(data, max_pixels=MAX)
    assert info.value.offset == 2


def test_sos_before_sof() -> None:
    sof = sof_offset(BASELINE)
    length = int.from_bytes(BASELINE[sof + 2 : sof + 4], "big")
    data = BASELINE[:sof] + BASELINE[sof + 2 + length :]
    with pytest.raises(DecodeError, match="before any frame header") as info:
        read_jpeg_header(data, max_pixels=MAX)
    assert info.value.offset == data.find(b"\xff\xda")


def test_bad_marker_byte() -> None:
    sof = sof_offset(BASELINE)
    data = BASELINE[:sof] + b"\x12" + BASELINE[sof + 1 :]
    with pytest.raises(DecodeError, match="Expected a JPEG marker") as info:
        read_jpeg_header(data, max_pixels=MAX)
    assert info.value.offset == sof


@pytest.mark.parametrize("code", [0x00, 0xD8], ids=["ff00", "second-soi"])
def test_invalid_marker_between_segments(code: int) -> None:
    data = BASELINE[:2] + bytes([0xFF, code]) + BASELINE[2:]
    with pytest.raises(DecodeError, match="Invalid JPEG marker") as info:
        read_jpeg_header(data, max_pixels=MAX)
    assert info.value.offset == 2


def test_not_a_jpeg() -> None:
    with pytest.raises(DecodeError, match="SOI") as info:
        read_jpeg_header(b"\x89PNG\r\n\x1a\n", max_pixels=MAX)
    assert info.value.offset == 0


def test_eoi_without_sof_or_scan() -> None:
    with pytest.raises(DecodeError, match="SOF"):
        read_jpeg_header(b"\xff\xd8\xff\xd9", max_pixels=MAX)
    sos = BASELINE.find(b"\xff\xda")
    with pytest.raises(DecodeError, match="SOS"):
        read_jpeg_header(BASELINE[:sos] + b"\xff\xd9", max_pixels=MAX)


def test_second_sof() -> None:
    sof = sof_offset(BASELINE)
    length = int.from_bytes(BASELINE[sof + 2 : sof + 4], "big")
    segment = BASELINE[sof : sof + 2 + length]
    with pytest.raises(DecodeError, match="second frame header"):
        read_jpeg_header(BASELINE[:sof] + segment + BASELINE[sof:], max_pixels=MAX)


@pytest.mark.parametrize(
    ("body", "match"),
    [(b"\x08\x00\x10", "at least 6"), (b"\x08\x00\x10\x00\x10\x03", "need"), ("two", "2 comp")],
    ids=["too-short", "component-count-mismatch", "two-components"],
)
def test_malformed_sof(body: bytes | str, match: str) -> None:
    if body == "two":
        body = b"\x08\x00\x10\x00\x10\x02" + b"\x01\x11\x00\x02\x11\x00"
    assert isinstance(body, bytes)
    segment = b"\xff\xc0" + struct.pack(">H", len(body) + 2) + body
    with pytest.raises(DecodeError, match=match):
        read_jpeg_header(b"\xff\xd8" + segment + b"\xff\xd9", max_pixels=MAX)


def test_multi_megabyte_jpeg() -> None:
    data = jpeg(size=(3000, 2000), quality=95)
    assert len(data) > 5_000_000
    assert read_jpeg_header(data, max_pixels=10**7) == (2000, 3000, 3)


# ---------------------------------------------------------------- fuzzing

ALLOWED = (DecodeError, InvalidArgumentError, UnrecognizedImageFormatError)
SMALL = [jpeg(size=(9, 7)), jpeg(size=(9, 7), progressive=True), jpeg("L", size=(5, 5))]
FUZZ = settings(max_examples=200, deadline=1000)


def _read_or_allowed(data: bytes) -> None:
    try:
        height, width, channels = read_jpeg_header(data, max_pixels=4096)
    except ALLOWED:
        return
    assert 0 < height * width <= 4096
    assert channels in (1, 3)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _read_or_allowed(data)
    _read_or_allowed(b"\xff\xd8" + data)


@FUZZ
@given(st.sampled_from(SMALL), st.data())
def test_mutated_jpeg(base: bytes, draw: st.DataObject) -> None:
    data = bytearray(base)
    for _ in range(draw.draw(st.integers(1, 6))):
        pos = draw.draw(st.integers(0, len(data) - 1))
        data[pos] = draw.draw(st.sampled_from([0x00, 0xFF, 0xD9, 0xDA, 0xC0, 0xC2, 0xC4]))
        if draw.draw(st.booleans()):
            data[pos] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(data)))
    _read_or_allowed(bytes(data[:cut]) if draw.draw(st.booleans()) else bytes(data))


def test_complete_false_stops_at_the_frame_header() -> None:
    data = jpeg()
    cut = data[: len(data) // 2]
    assert read_jpeg_header(cut, max_pixels=2**28, complete=False) == (H, W, 3)
    with pytest.raises(DecodeError, match="truncated"):
        read_jpeg_header(cut, max_pixels=2**28)
    with pytest.raises(InvalidArgumentError, match="max_pixels"):
        read_jpeg_header(cut, max_pixels=W * H - 1, complete=False)


def test_encoded_builder_still_rejects_truncated_jpeg() -> None:
    with pytest.raises(DecodeError, match="truncated"):
        rc.make_encoded_image_msg(jpeg()[:-40])
