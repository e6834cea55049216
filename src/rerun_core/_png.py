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
memory (about 4x for interlaced 16-bit colour, which pypng decodes).
Decoders: Pillow for depths <= 8 and 16-bit gray; Pillow truncates 16-bit colour to 8 bits, so
16-bit gray+alpha/RGB/RGBA use imagecodecs.png_decode (libpng). Measured on a 640x480 16-bit RGB
PNG: imagecodecs.png_decode 3.3 ms vs pypng 202 ms. Interlaced 16-bit colour goes to pypng
instead, because libpng (via imagecodecs) prints an interlace warning to stderr for those
(it can still print one for a crafted, CRC-valid but inconsistent 16-bit IDAT stream).
Any decoder failure becomes :class:`~rerun_core.errors.DecodeError` at the first IDAT's offset.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import imagecodecs
import numpy as np
import numpy.typing as npt
import png
from PIL import PngImagePlugin
from zlib_ng.zlib_ng import crc32

from rerun_core.errors import DecodeError, InvalidArgumentError

__all__ = ["decode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
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
    interlaced: bool
    has_trns: bool
    idat_offset: int
    stream: bytes  # signature + the chunks the decoder needs, as found


def _read_ihdr(body: bytes, offset: int, max_pixels: int) -> tuple[int, int, bool]:
    """Validate an IHDR body; return (colour type, bit depth, interlaced)."""
    if len(body) != 13:
        msg = f"PNG IHDR chunk has {len(body)} data bytes; it must have 13. The file is corrupt"
        raise DecodeError(msg, offset=offset)
    width = int.from_bytes(body[0:4], "big")
    height = int.from_bytes(body[4:8], "big")
    depth, color, compression, filtering, interlace = body[8:13]
    if not (0 < width < 2**31 and 0 < height < 2**31):
        msg = f"PNG IHDR declares {width}x{height} pixels; each must be 1..2**31-1"
        raise DecodeError(msg, offset=offset)
    if width * height > max_pixels:
        msg = (
            f"PNG header declares {width}x{height} = {width * height} pixels, more than "
            f"max_pixels={max_pixels} (decompression-bomb guard). Downscale the image or raise "
            "max_pixels"
        )
        raise InvalidArgumentError(msg, param="max_pixels")
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
    return color, depth, interlace == 1


def _walk_chunks(data: bytes, max_pixels: int) -> _Framing:
    """Check signature, chunk framing and every CRC up to IEND."""
    if not data.startswith(_SIGNATURE):
        msg = f"Expected the 8-byte PNG signature 89 50 4e 47 0d 0a 1a 0a, got {data[:8].hex(' ')}"
        raise DecodeError(msg, offset=0)
    n = len(data)
    view = memoryview(data)
    pos = len(_SIGNATURE)
    parts = [view[:pos]]
    ihdr: tuple[int, int, bool] | None = None
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
    return _Framing(ihdr[0], ihdr[1], ihdr[2], has_trns, idat_offset, b"".join(parts))


def _decode_pillow(frame: _Framing) -> npt.NDArray[np.generic]:
    """Decode every PNG except 16-bit colour with Pillow, converting to L/RGB/RGBA.

    The PNG plugin is used directly: ``Image.open`` would apply Pillow's own (process-wide)
    pixel limit, while ``max_pixels`` was already checked against the header.
    """
    with PngImagePlugin.PngImageFile(io.BytesIO(frame.stream)) as im:
        if frame.color_type == _PALETTE:
            return np.asarray(im.convert("RGBA" if frame.has_trns else "RGB"))
        if frame.color_type == _GRAY_ALPHA:
            return np.asarray(im.convert("RGBA"))
        if im.mode == "1":
            return np.asarray(im.convert("L"))
        return np.asarray(im)


def _decode_16bit_color(frame: _Framing) -> npt.NDArray[np.generic]:
    """Decode 16-bit gray+alpha/RGB/RGBA keeping 16 bits (libpng, or pypng if interlaced)."""
    if frame.interlaced:  # one flat array('H') of every sample, viewed without a copy
        width, height, flat, _ = png.Reader(bytes=frame.stream).read_flat()
        out: npt.NDArray[np.generic] = np.frombuffer(flat, np.uint16).reshape(height, width, -1)
    else:
        out = imagecodecs.png_decode(frame.stream)
    if frame.color_type == _GRAY_ALPHA:
        return out[:, :, [0, 0, 0, 1]]
    return out


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
