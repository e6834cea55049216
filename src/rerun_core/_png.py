"""Decode a PNG to a fresh HxWxC numpy array, checking its framing first.

Rules: the chunks are walked here for framing only (signature, lengths, every chunk's CRC with
zlib's CRC-32, IHDR first, IEND required, ``width * height <= max_pixels`` checked right after
IHDR); pixels are always decoded by maintained libraries, never by hand. Output: gray 1/2/4/8-bit
-> uint8 L (low depths scaled to 0..255), gray 16 -> uint16 L, RGB -> RGB, palette -> uint8 RGB
(RGBA with tRNS), gray+alpha -> RGBA (gray replicated), RGBA -> RGBA, 16-bit kept as uint16.
tRNS is ignored for gray and RGB images (it names a transparent colour; no alpha is made).
Only IHDR, PLTE, tRNS (palette only), IDAT and IEND reach the decoder, so ancillary chunks
(text, ICC profiles, ...) can neither fail nor slow decoding.
The only size limit is ``max_pixels`` (Pillow's own process-wide limit does not apply), and
it is checked against IHDR before any decoder runs, so memory and time are bounded by what
the caller allows: about 2x the declared output with the builder's copy into immutable
memory.
Decoders, each imported on first use: Pillow for depths <= 8 and 16-bit gray; Pillow truncates
16-bit colour to 8 bits, so 16-bit RGB/RGBA (interlaced too) use pyspng (libspng, 0.4 MB) and
16-bit gray+alpha, which pyspng does not decode, uses pypng (pure Python, slow but exact); pypng
also stands in for pyspng where pyspng is not installed. The three agree with libpng on every
PngSuite image (tests/unit/test_pngsuite.py); speed in benchmarks/README.md (Footprint).
Any decoder failure becomes :class:`~rerun_core.errors.DecodeError` at the first IDAT's offset.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from zlib_ng.zlib_ng import crc32

from rerun_core._scalars import check_pixel_count
from rerun_core._sniff import PNG_SIGNATURE
from rerun_core.errors import DecodeError

__all__ = ["decode_png"]

_GRAY, _RGB, _PALETTE, _GRAY_ALPHA, _RGBA = 0, 2, 3, 4, 6
_ALLOWED_DEPTHS = {
    _GRAY: (1, 2, 4, 8, 16),
    _RGB: (8, 16),
    _PALETTE: (1, 2, 4, 8),
    _GRAY_ALPHA: (8, 16),
    _RGBA: (8, 16),
}
_DECODED_CHUNKS = (b"IHDR", b"PLTE", b"IDAT", b"IEND")


@dataclass(frozen=True)
class _Framing:
    """What the chunk walk found: IHDR fields and the chunks to hand to a decoder."""

    color_type: int
    bit_depth: int
    has_trns: bool
    idat_offset: int
    stream: bytes  # signature + the chunks the decoder needs, as found


def _read_ihdr(body: bytes, offset: int, max_pixels: int) -> tuple[int, int]:
    """Validate an IHDR body; return (colour type, bit depth)."""
    if len(body) != 13:
        msg = f"PNG IHDR chunk has {len(body)} data bytes; it must have 13. The file is corrupt"
        raise DecodeError(msg, offset=offset)
    width = int.from_bytes(body[0:4], "big")
    height = int.from_bytes(body[4:8], "big")
    depth, color, compression, filtering, interlace = body[8:13]
    if not (0 < width < 2**31 and 0 < height < 2**31):
        msg = f"PNG IHDR declares {width}x{height} pixels; each must be 1..2**31-1"
        raise DecodeError(msg, offset=offset)
    check_pixel_count(height, width, max_pixels, what="PNG header")
    if depth not in _ALLOWED_DEPTHS.get(color, ()):
        msg = (
            f"PNG IHDR declares colour type {color} with bit depth {depth}, which is not a "
            f"valid combination (allowed: {_ALLOWED_DEPTHS}). The file is corrupt"
        )
        raise DecodeError(msg, offset=offset)
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        msg = (
            f"PNG IHDR declares compression {compression}, filter {filtering}, interlace "
            f"{interlace}; allowed are 0, 0 and 0 or 1. The file is corrupt"
        )
        raise DecodeError(msg, offset=offset)
    return color, depth


def _walk_chunks(data: bytes, max_pixels: int) -> _Framing:
    """Check signature, chunk framing and every CRC up to IEND."""
    if not data.startswith(PNG_SIGNATURE):
        msg = f"Expected the 8-byte PNG signature 89 50 4e 47 0d 0a 1a 0a, got {data[:8].hex(' ')}"
        raise DecodeError(msg, offset=0)
    n = len(data)
    view = memoryview(data)
    pos = len(PNG_SIGNATURE)
    parts = [view[:pos]]
    ihdr: tuple[int, int] | None = None
    has_plte = has_trns = False
    idat_offset = -1
    while True:
        if pos + 12 > n:
            msg = f"PNG is truncated: {n - pos} bytes left where a chunk (>= 12 bytes) was due"
            raise DecodeError(msg, offset=pos)
        length = int.from_bytes(data[pos : pos + 4], "big")
        ctype = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length >= 2**31 or end > n:
            msg = f"PNG chunk {ctype!r} declares {length} data bytes but only {n - pos - 12} remain"
            raise DecodeError(msg, offset=pos)
        crc = int.from_bytes(data[end - 4 : end], "big")
        if crc32(view[pos + 4 : end - 4]) != crc:
            msg = f"PNG chunk {ctype!r} fails its CRC check: the file is corrupt"
            raise DecodeError(msg, offset=pos)
        if ihdr is None:
            if ctype != b"IHDR":
                msg = f"PNG must start with an IHDR chunk, found {ctype!r}. The file is corrupt"
                raise DecodeError(msg, offset=pos)
            ihdr = _read_ihdr(data[pos + 8 : end - 4], pos, max_pixels)
        elif ctype == b"IHDR":
            msg = "PNG has a second IHDR chunk. The file is corrupt"
            raise DecodeError(msg, offset=pos)
        elif ctype == b"IDAT" and idat_offset < 0:
            idat_offset = pos
        has_plte = has_plte or ctype == b"PLTE"
        has_trns = has_trns or (ctype == b"tRNS" and ihdr[0] == _PALETTE)
        if ctype in _DECODED_CHUNKS or (ctype == b"tRNS" and ihdr[0] == _PALETTE):
            parts.append(view[pos:end])
        if ctype == b"IEND":
            break
        pos = end
    if idat_offset < 0 or (ihdr[0] == _PALETTE and not has_plte):
        what = "IDAT (pixel data)" if idat_offset < 0 else "PLTE (palette)"
        msg = f"PNG has no {what} chunk before IEND. The file is incomplete or corrupt"
        raise DecodeError(msg, offset=pos)
    return _Framing(ihdr[0], ihdr[1], has_trns, idat_offset, b"".join(parts))


def _decode_pillow(frame: _Framing) -> npt.NDArray[np.generic]:
    """Decode every PNG except 16-bit colour with Pillow, converting to L/RGB/RGBA.

    The PNG plugin is used directly: ``Image.open`` would apply Pillow's own (process-wide)
    pixel limit, while ``max_pixels`` was already checked against the header. Pillow is
    imported here, on first use, so that ``import rerun_core`` stays light.
    """
    from PIL import PngImagePlugin  # noqa: PLC0415

    with PngImagePlugin.PngImageFile(io.BytesIO(frame.stream)) as im:
        if frame.color_type == _PALETTE:
            return np.asarray(im.convert("RGBA" if frame.has_trns else "RGB"))
        if frame.color_type == _GRAY_ALPHA:
            return np.asarray(im.convert("RGBA"))
        if im.mode == "1":
            return np.asarray(im.convert("L"))
        return np.asarray(im)


def _decode_pypng(stream: bytes) -> npt.NDArray[np.uint16]:
    """Decode a 16-bit PNG's samples to HxWxC with pypng, the pure-Python decoder."""
    import png  # noqa: PLC0415 (imported on first use)

    width, height, flat, info = png.Reader(bytes=stream).read_flat()  # one array('H')
    return np.frombuffer(flat, np.uint16).reshape(height, width, info["planes"])


def _decode_spng(stream: bytes) -> npt.NDArray[np.uint16] | None:
    """Decode 16-bit RGB/RGBA with pyspng (RGB comes back as opaque RGBA); ``None`` without it."""
    try:
        import pyspng  # noqa: PLC0415 (imported on first use)
    except ImportError:
        return None
    out: npt.NDArray[np.uint16] = pyspng.load(stream)
    return out


def _decode_16bit_color(frame: _Framing) -> npt.NDArray[np.generic]:
    """Decode 16-bit gray+alpha/RGB/RGBA keeping 16 bits (pyspng, else pypng)."""
    if frame.color_type == _GRAY_ALPHA:
        return _decode_pypng(frame.stream)[:, :, [0, 0, 0, 1]]
    out = _decode_spng(frame.stream)
    if out is None:
        return _decode_pypng(frame.stream)
    return out[:, :, :3] if frame.color_type == _RGB else out


def decode_png(data: bytes, *, max_pixels: int) -> npt.NDArray[np.generic]:
    """Decode PNG bytes to a fresh C-contiguous HxWxC uint8/uint16 array (C in 1, 3, 4)."""
    frame = _walk_chunks(data, max_pixels)
    is_16bit_color = frame.bit_depth == 16 and frame.color_type != _GRAY
    try:
        out = _decode_16bit_color(frame) if is_16bit_color else _decode_pillow(frame)
    except Exception as exc:  # any decoder failure is corrupt data to the caller
        msg = f"PNG pixel data could not be decoded ({type(exc).__name__}: {exc}); corrupt file"
        raise DecodeError(msg, offset=frame.idat_offset) from exc
    if out.ndim == 2:
        out = out[:, :, np.newaxis]
    dtype = np.uint16 if frame.bit_depth == 16 else np.uint8
    return np.require(out, dtype=dtype, requirements=["C", "W", "O"])
