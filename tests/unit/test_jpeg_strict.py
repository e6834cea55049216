"""make_encoded_image_msg: a JPEG is valid only if libjpeg-turbo decodes it strictly."""

from __future__ import annotations

import io

import numpy as np
import pytest
import simplejpeg
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageCms

import rerun_core as rc
from rerun_core.errors import DecodeError

H, W = 37, 53
PIXELS = np.random.default_rng(7).integers(0, 256, (H, W, 3), dtype=np.uint8)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg(mode: str = "RGB", pixels: np.ndarray = PIXELS, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(out, "JPEG", **options)
    return out.getvalue()


def exif() -> bytes:
    tags = Image.Exif()
    tags[0x010F] = "rerun-core camera"
    return tags.tobytes()


def scan_start(data: bytes) -> int:
    """Offset of the first entropy-coded byte (after the first SOS segment)."""
    sos = data.index(b"\xff\xda")
    return sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")


VALID = {
    "baseline-444": jpeg(subsampling=0),
    "baseline-422": jpeg(subsampling=1),
    "baseline-420": jpeg(subsampling=2),
    "progressive": jpeg(progressive=True),
    "grayscale": jpeg("L"),
    "grayscale-progressive": jpeg("L", progressive=True),
    "exif": jpeg(exif=exif()),
    "icc": jpeg(icc_profile=SRGB),
    "restart-markers": jpeg(restart_marker_blocks=1),
    "restart-rows-progressive": jpeg(progressive=True, restart_marker_rows=1),
    "optimized-huffman": jpeg(optimize=True),
    "quality-1": jpeg(quality=1),
    "1x1": jpeg(pixels=PIXELS[:1, :1]),
}


@pytest.mark.parametrize("name", VALID)
def test_every_valid_variant_is_accepted(name: str) -> None:
    msg = rc.make_encoded_image_msg(VALID[name])
    channels = 1 if name.startswith("grayscale") else 3
    expected = (1, 1, 3) if name == "1x1" else (H, W, channels)
    assert msg.shape == expected
    assert msg.encoded == VALID[name]


def _sof_claims_more_than_the_scan() -> bytes:
    """An 8x8 4:4:4 JPEG whose frame header says 16x16 (Pillow decodes it with a warning)."""
    data = bytearray(jpeg(pixels=np.full((8, 8, 3), 100, np.uint8), subsampling=0))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (16).to_bytes(2, "big") * 2
    return bytes(data)


def _garbage_scan() -> bytes:
    """A valid header, then scan data cut short and the end-of-image marker."""
    data = VALID["baseline-420"]
    return data[: scan_start(data) + 20] + b"\xff\xd9"


@pytest.mark.parametrize(
    "data",
    [_sof_claims_more_than_the_scan(), _garbage_scan()],
    ids=["sof-claims-16x16-over-8x8-scan", "scan-cut-short"],
)
def test_jpeg_that_no_strict_decoder_reads_is_refused(data: bytes) -> None:
    Image.open(io.BytesIO(data)).load()  # Pillow alone accepts it: not the criterion
    with pytest.raises(DecodeError, match="JPEG pixel data cannot be decoded"):
        rc.make_encoded_image_msg(data)


def _strictly_decodable(data: bytes) -> bool:
    try:
        simplejpeg.decode_jpeg(data, strict=True)
    except ValueError:
        return False
    return True


@given(st.data())
def test_mutated_scan_data_is_accepted_only_if_it_decodes(draw: st.DataObject) -> None:
    base = VALID[draw.draw(st.sampled_from(["baseline-420", "progressive", "restart-markers"]))]
    data = bytearray(base)
    start = scan_start(base)
    for _ in range(draw.draw(st.integers(1, 4))):
        data[draw.draw(st.integers(start, len(data) - 3))] = draw.draw(st.integers(0, 255))
    try:
        msg = rc.make_encoded_image_msg(bytes(data))
    except (DecodeError, rc.InvalidArgumentError):
        return
    assert _strictly_decodable(bytes(data))
    assert msg.encoded == bytes(data)
