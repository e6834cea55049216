"""Tests for rerun_core._png.decode_png: every colour type, bit depth, interlace; framing errors."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import imagecodecs
import numpy as np
import png
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from rerun_core._png import decode_png
from rerun_core.errors import DecodeError, InvalidArgumentError, UnrecognizedImageFormatError

H, W = 13, 17  # odd sizes exercise Adam7 passes and padded low-bit-depth rows
MAX = 1_000_000
SIG = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- helpers


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, type, body) of every chunk of a well-formed PNG."""
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        out.append((pos, data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def rebuild(parts: list[tuple[bytes, bytes]]) -> bytes:
    return SIG + b"".join(chunk(t, b) for t, b in parts)


def ihdr_fields(data: bytes) -> tuple[int, int, int]:
    """(bit depth, colour type, interlace) of a PNG."""
    body = chunks(data)[0][2]
    return body[8], body[9], body[12]


def pil_png(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def pypng_png(rows: np.ndarray, **kw: object) -> bytes:
    buf = io.BytesIO()
    png.Writer(width=W, height=H, **kw).write(buf, rows.reshape(H, -1).tolist())
    return buf.getvalue()


@dataclass
class Case:
    id: str
    data: bytes
    expected: np.ndarray
    header: tuple[int, int, int]  # (bit depth, colour type, interlace) the bytes must have


def _rng(seed: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(seed.encode()))


def gray_case(bits: int, interlace: bool, trns: bool = False) -> Case:
    rng = _rng(f"g{bits}{interlace}{trns}")
    raw = rng.integers(0, 2**bits, (H, W))
    dtype = np.uint16 if bits == 16 else np.uint8
    expected = (raw if bits == 16 else raw * (255 // (2**bits - 1))).astype(dtype)
    if interlace or trns:
        extra = {"transparent": int(raw[0, 0])} if trns else {}
        data = pypng_png(raw, greyscale=True, bitdepth=bits, interlace=interlace, **extra)
    elif bits == 1:
        data = pil_png(Image.fromarray(raw.astype(bool)))
    elif bits == 16:
        data = pil_png(Image.fromarray(expected))
    else:
        data = pil_png(Image.fromarray(expected, "L"), bits=bits)
    name = f"gray{bits}{'-trns' if trns else ''}{'-interlaced' if interlace else ''}"
    return Case(name, data, expected[:, :, None], (bits, 0, int(interlace)))


def color_case(kind: str, bits: int, interlace: bool, trns: bool = False) -> Case:
    """kind is 'LA', 'RGB' or 'RGBA'."""
    rng = _rng(f"{kind}{bits}{interlace}{trns}")
    dtype = np.uint16 if bits == 16 else np.uint8
    raw = rng.integers(0, 2**bits, (H, W, len(kind))).astype(dtype)
    expected = raw[:, :, [0, 0, 0, 1]] if kind == "LA" else raw
    ctype = {"LA": 4, "RGB": 2, "RGBA": 6}[kind]
    if bits == 8 and not interlace:
        extra_pil = {"transparency": tuple(int(v) for v in raw[0, 0])} if trns else {}
        data = pil_png(Image.fromarray(raw, kind), **extra_pil)
    else:
        extra = {"transparent": tuple(int(v) for v in raw[0, 0])} if trns else {}
        data = pypng_png(
            raw,
            greyscale=kind == "LA",
            alpha=kind != "RGB",
            bitdepth=bits,
            interlace=interlace,
            **extra,
        )
    name = f"{kind.lower()}{bits}{'-trns' if trns else ''}{'-interlaced' if interlace else ''}"
    return Case(name, data, np.ascontiguousarray(expected), (bits, ctype, int(interlace)))


def palette_case(bits: int, trns: bool, interlace: bool) -> Case:
    rng = _rng(f"p{bits}{trns}{interlace}")
    size = 2**bits if bits < 8 else 200
    pal = rng.integers(0, 256, (size, 3)).astype(np.uint8)
    alpha = rng.integers(0, 256, size).astype(np.uint8)
    idx = rng.integers(0, size, (H, W))
    expected = np.concatenate([pal, alpha[:, None]], axis=1)[idx] if trns else pal[idx]
    if interlace:
        table = np.concatenate([pal, alpha[:, None]], axis=1) if trns else pal
        entries = [tuple(int(v) for v in row) for row in table]
        data = pypng_png(idx, palette=entries, bitdepth=bits, interlace=True)
    else:
        im = Image.fromarray(idx.astype(np.uint8), "P")
        im.putpalette(pal.tobytes())
        data = pil_png(im, bits=bits, **({"transparency": alpha.tobytes()} if trns else {}))
    name = f"palette{bits}{'-trns' if trns else ''}{'-interlaced' if interlace else ''}"
    return Case(name, data, expected, (bits, 3, int(interlace)))


def all_cases() -> list[Case]:
    cases = []
    for interlace in (False, True):
        cases += [gray_case(bits, interlace) for bits in (1, 2, 4, 8, 16)]
        cases += [palette_case(bits, trns, interlace) for bits in (1, 2, 4, 8) for trns in (0, 1)]
        cases += [color_case(k, b, interlace) for k in ("LA", "RGB", "RGBA") for b in (8, 16)]
    cases += [gray_case(8, False, trns=True), gray_case(16, False, trns=True)]
    cases += [color_case("RGB", 8, False, trns=True), color_case("RGB", 16, False, trns=True)]
    return cases


CASES = all_cases()


# ---------------------------------------------------------------- decoding


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decodes_every_color_type_and_depth(case: Case) -> None:
    assert ihdr_fields(case.data) == case.header, "test fixture has the wrong PNG header"
    out = decode_png(case.data, max_pixels=MAX)
    assert out.dtype == case.expected.dtype
    assert out.shape == case.expected.shape
    np.testing.assert_array_equal(out, case.expected)
    assert out.flags.c_contiguous
    assert out.flags.writeable
    assert out.flags.owndata
    assert out.dtype.byteorder in ("=", "|")
    if out.dtype == np.uint16:
        assert out.max() > 255, "16-bit values must survive"


def test_each_call_returns_a_fresh_array() -> None:
    case = color_case("RGBA", 16, False)
    a = decode_png(case.data, max_pixels=MAX)
    b = decode_png(case.data, max_pixels=MAX)
    assert not np.shares_memory(a, b)


def test_ancillary_chunks_are_ignored() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "x" * 5000, zip=True)
    img = np.zeros((H, W, 3), np.uint8)
    out = decode_png(pil_png(Image.fromarray(img), pnginfo=info), max_pixels=MAX)
    np.testing.assert_array_equal(out, img)


def test_imagecodecs_written_16bit_png() -> None:
    img = np.arange(H * W * 3, dtype=np.uint16).reshape(H, W, 3) * 97
    out = decode_png(imagecodecs.png_encode(img), max_pixels=MAX)
    np.testing.assert_array_equal(out, img)


def test_exactly_max_pixels_is_allowed() -> None:
    case = gray_case(8, False)
    assert decode_png(case.data, max_pixels=H * W).shape == (H, W, 1)


# ---------------------------------------------------------------- framing errors

VALID = color_case("RGB", 8, False).data


def _idat_offset(data: bytes) -> int:
    return next(off for off, t, _ in chunks(data) if t == b"IDAT")


def test_flipped_byte_in_idat_fails_crc() -> None:
    off = _idat_offset(VALID)
    bad = bytearray(VALID)
    bad[off + 8 + 5] ^= 0x01
    with pytest.raises(DecodeError, match="CRC") as info:
        decode_png(bytes(bad), max_pixels=MAX)
    assert info.value.offset == off


def test_flipped_byte_in_ihdr_fails_crc() -> None:
    bad = bytearray(VALID)
    bad[8 + 8 + 3] ^= 0x01  # width's low byte
    with pytest.raises(DecodeError, match="CRC") as info:
        decode_png(bytes(bad), max_pixels=MAX)
    assert info.value.offset == 8


@pytest.mark.parametrize("cut", [0, 4, 8, 12, 20, 33, 40, -20, -13, -12, -4, -1])
def test_truncated(cut: int) -> None:
    with pytest.raises(DecodeError):
        decode_png(VALID[:cut], max_pixels=MAX)


def test_missing_iend() -> None:
    data = VALID[:-12]
    with pytest.raises(DecodeError, match="truncated") as info:
        decode_png(data, max_pixels=MAX)
    assert info.value.offset == len(data)


def test_ihdr_over_max_pixels_raises_before_decoding() -> None:
    huge = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = SIG + chunk(b"IHDR", huge)  # nothing after IHDR: only the header was read
    with pytest.raises(InvalidArgumentError, match="max_pixels") as info:
        decode_png(data, max_pixels=MAX)
    assert info.value.param == "max_pixels"
    with pytest.raises(InvalidArgumentError, match="max_pixels"):
        decode_png(VALID, max_pixels=H * W - 1)


def _parts(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(t, b) for _, t, b in chunks(data)]


def test_ihdr_not_first() -> None:
    parts = _parts(VALID)
    data = rebuild([(b"tEXt", b"k\x00v"), *parts])
    with pytest.raises(DecodeError, match="IHDR") as info:
        decode_png(data, max_pixels=MAX)
    assert info.value.offset == 8


def test_second_ihdr() -> None:
    parts = _parts(VALID)
    with pytest.raises(DecodeError, match="second IHDR"):
        decode_png(rebuild([parts[0], *parts]), max_pixels=MAX)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("short", b"\x00" * 12),
        ("zero-width", struct.pack(">IIBBBBB", 0, 5, 8, 2, 0, 0, 0)),
        ("rgb-4bit", struct.pack(">IIBBBBB", 5, 5, 4, 2, 0, 0, 0)),
        ("bad-colour-type", struct.pack(">IIBBBBB", 5, 5, 8, 5, 0, 0, 0)),
        ("bad-interlace", struct.pack(">IIBBBBB", 5, 5, 8, 2, 0, 0, 2)),
        ("bad-compression", struct.pack(">IIBBBBB", 5, 5, 8, 2, 1, 0, 0)),
    ],
)
def test_invalid_ihdr(name: str, body: bytes) -> None:
    parts = _parts(VALID)
    with pytest.raises(DecodeError, match="IHDR") as info:
        decode_png(rebuild([(b"IHDR", body), *parts[1:]]), max_pixels=MAX)
    assert info.value.offset == 8


def test_no_idat() -> None:
    parts = [p for p in _parts(VALID) if p[0] != b"IDAT"]
    with pytest.raises(DecodeError, match="IDAT"):
        decode_png(rebuild(parts), max_pixels=MAX)


def test_palette_without_plte() -> None:
    parts = [p for p in _parts(palette_case(4, False, False).data) if p[0] != b"PLTE"]
    with pytest.raises(DecodeError, match="PLTE"):
        decode_png(rebuild(parts), max_pixels=MAX)


def test_bad_signature() -> None:
    with pytest.raises(DecodeError, match="signature") as info:
        decode_png(b"\x89PNX" + VALID[4:], max_pixels=MAX)
    assert info.value.offset == 0


def test_chunk_length_past_end() -> None:
    bad = bytearray(VALID)
    bad[33:37] = struct.pack(">I", 0x7FFFFFFF)
    with pytest.raises(DecodeError, match="declares") as info:
        decode_png(bytes(bad), max_pixels=MAX)
    assert info.value.offset == 33


def _with_idat_body(data: bytes, body: bytes) -> bytes:
    parts = [p for p in _parts(data) if p[0] != b"IDAT"]
    return rebuild([*parts[:-1], (b"IDAT", body), parts[-1]])


DECODER_IDS = ["pillow", "pillow-palette", "imagecodecs-16bit", "pypng-16bit-interlaced"]
DECODER_CASES = [
    VALID,
    palette_case(2, True, False).data,
    color_case("RGBA", 16, False).data,
    color_case("RGB", 16, True).data,
]


@pytest.mark.parametrize("data", DECODER_CASES, ids=DECODER_IDS)
@pytest.mark.parametrize(
    "body",
    [b"not zlib at all", b"", zlib.compress(b"\x00" * 10)],
    ids=["garbage", "empty", "too-short"],
)
def test_decoder_errors_become_decode_error(data: bytes, body: bytes) -> None:
    bad = _with_idat_body(data, body)
    with pytest.raises(DecodeError, match="could not be decoded") as info:
        decode_png(bad, max_pixels=MAX)
    assert info.value.offset == _idat_offset(bad)


# ---------------------------------------------------------------- fuzzing

ALLOWED = (DecodeError, InvalidArgumentError, UnrecognizedImageFormatError)
SMALL = [gray_case(2, False).data, *DECODER_CASES, gray_case(4, True).data]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_or_allowed(data: bytes) -> None:
    try:
        out = decode_png(data, max_pixels=4096)
    except ALLOWED:
        return
    assert out.ndim == 3
    assert out.shape[2] in (1, 3, 4)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    _decode_or_allowed(data)
    _decode_or_allowed(SIG + data)


@FUZZ
@given(st.sampled_from(SMALL), st.data())
def test_mutated_png(base: bytes, draw: st.DataObject) -> None:
    data = bytearray(base)
    for _ in range(draw.draw(st.integers(1, 4))):
        pos = draw.draw(st.integers(0, len(data) - 1))
        data[pos] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(data)))
    _decode_or_allowed(bytes(data[:cut]) if draw.draw(st.booleans()) else bytes(data))


@FUZZ
@given(st.sampled_from(SMALL), st.data())
def test_mutated_chunk_bodies_with_valid_crc(base: bytes, draw: st.DataObject) -> None:
    """Corrupt IHDR/IDAT bodies but fix the CRCs, so the decoders see the damage."""
    parts = _parts(base)
    i = draw.draw(st.sampled_from([k for k, (t, _) in enumerate(parts) if t != b"IEND"]))
    body = bytearray(parts[i][1])
    for _ in range(draw.draw(st.integers(1, 4))):
        if body:
            body[draw.draw(st.integers(0, len(body) - 1))] = draw.draw(st.integers(0, 255))
    parts[i] = (parts[i][0], bytes(body[: draw.draw(st.integers(0, len(body)))]))
    _decode_or_allowed(rebuild(parts))


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (W, H), 7),
        Image.new("1", (W, H), 1),
        Image.new("LA", (W, H), (7, 9)),
        Image.new("P", (W, H), 3),
        Image.new("RGB", (W, H), (1, 2, 3)),
    ],
    ids=lambda im: im.mode,
)
def test_pillows_own_pixel_limit_does_not_apply(image: Image.Image, monkeypatch) -> None:
    """Only max_pixels limits a decode: PNGs above Pillow's MAX_IMAGE_PIXELS decode too."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # H * W > 2 x 10: a "bomb" to Pillow
    out = decode_png(pil_png(image), max_pixels=H * W)
    assert out.shape[:2] == (H, W)


def test_16bit_rgba_bomb_raises_before_any_pixel_is_decoded() -> None:
    """A small 16-bit RGBA file declaring more than max_pixels is refused from its header."""
    side = 1500
    rows = zlib.compress(b"".join(b"\x00" + bytes(side * 8) for _ in range(side)), 9)
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    data = SIG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    assert len(data) < side * side * 8 // 500
    with pytest.raises(InvalidArgumentError, match=f"{side}x{side} = {side * side} pixels"):
        decode_png(data, max_pixels=side * side - 1)
    assert decode_png(data, max_pixels=side * side).shape == (side, side, 4)
