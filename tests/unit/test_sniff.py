"""Tests for rerun_core._sniff.sniff_format: magic bytes only."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from rerun_core._enums import ImageFormat
from rerun_core._sniff import sniff_format
from rerun_core.errors import UnrecognizedImageFormatError


def encode(fmt: str, mode: str = "RGB") -> bytes:
    pixels = np.random.default_rng(3).integers(0, 256, (8, 9, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(encode("JPEG"), ImageFormat.JPEG, id="jpeg"),
        pytest.param(encode("JPEG", "L"), ImageFormat.JPEG, id="jpeg-gray"),
        pytest.param(encode("PNG"), ImageFormat.PNG, id="png"),
        pytest.param(encode("PNG", "P"), ImageFormat.PNG, id="png-palette"),
        pytest.param(b"\xff\xd8\xff", ImageFormat.JPEG, id="jpeg-magic-only"),
        pytest.param(b"\x89PNG\r\n\x1a\n", ImageFormat.PNG, id="png-signature-only"),
    ],
)
def test_recognises_jpeg_and_png(data: bytes, expected: ImageFormat) -> None:
    assert sniff_format(data) is expected


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(encode("BMP"), "BMP", id="bmp"),
        pytest.param(encode("GIF"), "GIF", id="gif"),
        pytest.param(encode("TIFF"), "TIFF", id="tiff-little-endian"),
        pytest.param(b"MM\x00*\x00\x00\x00\x08", "TIFF", id="tiff-big-endian"),
        pytest.param(b"GIF87a\x01\x00", "GIF", id="gif87a"),
        pytest.param(encode("WEBP"), "WebP", id="webp"),
    ],
)
def test_names_unsupported_formats(data: bytes, name: str) -> None:
    expected = rf"^{name} images are not supported; only JPEG and PNG\. Convert with Pillow"
    with pytest.raises(UnrecognizedImageFormatError, match=expected):
        sniff_format(data)


def test_empty_bytes() -> None:
    with pytest.raises(UnrecognizedImageFormatError, match="got 0 bytes"):
        sniff_format(b"")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xd8", id="jpeg-soi-without-marker"),
        pytest.param(b"\x89PNG\r\n\x1a", id="png-signature-cut"),
        pytest.param(b"RIFF\x10\x00\x00\x00WAVEfmt ", id="riff-wave"),
        pytest.param(b"hello world", id="text"),
        pytest.param(b"\x00", id="one-zero-byte"),
    ],
)
def test_unknown_bytes_are_named_in_hex(data: bytes) -> None:
    with pytest.raises(UnrecognizedImageFormatError, match="neither JPEG") as info:
        sniff_format(data)
    assert data[:12].hex(" ") in str(info.value)


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_random_bytes_give_a_format_or_the_error(data: bytes) -> None:
    try:
        fmt = sniff_format(data)
    except UnrecognizedImageFormatError:
        return
    assert data.startswith(b"\xff\xd8\xff" if fmt is ImageFormat.JPEG else b"\x89PNG\r\n\x1a\n")
