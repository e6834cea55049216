"""Read a JPEG's size and channel count from its header, without decoding pixels.

Rules: the marker segments are walked from SOI (``FF D8``) to EOI (``FF D9``) using their
lengths; entropy-coded data after each SOS is skipped by searching for the next marker (``FF``
followed by anything but ``00``, RST0-7 or a fill ``FF``), so baseline and progressive files
(several scans, DHT between them) both work. The SOFn frame header gives height, width and
components: 1 -> 1 channel (grayscale), 3 -> 3 channels (YCbCr), 4 (CMYK/YCCK) is rejected. A
header declaring more than ``max_pixels`` raises before the walk goes on. Truncated or malformed
bytes raise :class:`~rerun_core.errors.DecodeError` with the offending byte offset. Linear
time: one vectorised pass finds every candidate marker.

The walk cannot see garbage inside the entropy-coded data (nor a frame header claiming more
pixels than the scans hold), and Pillow decodes such files with a warning at most, so
:func:`check_jpeg_decodes` is the criterion for new JPEG bytes: libjpeg-turbo (simplejpeg)
decodes every scan with its warnings raised as errors, at 1/8 scale (the entropy decoding
is complete, the inverse DCT keeps only the DC term).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rerun_core._scalars import check_pixel_count
from rerun_core.errors import DecodeError, InvalidArgumentError

__all__ = ["check_jpeg_decodes", "read_jpeg_header"]

_SOI = 0xD8
_EOI = 0xD9
_SOS = 0xDA
# SOF0..SOF15 minus DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone (no length field): TEM and RST0-7.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _parse_sof(data: bytes, start: int, end: int, max_pixels: int) -> tuple[int, int, int]:
    """Parse the SOFn segment body ``data[start:end]``; return (height, width, channels)."""
    if end - start < 6:
        msg = f"JPEG frame header (SOF) is {end - start} bytes long; at least 6 are required"
        raise DecodeError(msg, offset=start)
    height = int.from_bytes(data[start + 1 : start + 3], "big")
    width = int.from_bytes(data[start + 3 : start + 5], "big")
    components = data[start + 5]
    if end - start != 6 + 3 * components:
        msg = (
            f"JPEG frame header (SOF) is {end - start} bytes long but declares {components} "
            f"components, which need {6 + 3 * components} bytes; the file is corrupt"
        )
        raise DecodeError(msg, offset=start)
    if height == 0 or width == 0:
        msg = (
            f"JPEG frame header declares {width}x{height} pixels; width and height must be > 0 "
            "(a height defined later by a DNL marker is not supported). Re-encode the image"
        )
        raise DecodeError(msg, offset=start + 1)
    check_pixel_count(height, width, max_pixels, what="JPEG header")
    if components == 4:
        msg = (
            "CMYK (4-component) JPEGs are not supported; only grayscale (1 component) and YCbCr "
            '(3 components). Convert to RGB first, e.g. Image.open(path).convert("RGB")'
        )
        raise InvalidArgumentError(msg)
    if components not in (1, 3):
        msg = (
            f"JPEG frame header declares {components} components; only 1 (grayscale) and 3 "
            '(YCbCr) are supported. Convert to RGB first, e.g. Image.open(path).convert("RGB")'
        )
        raise DecodeError(msg, offset=start + 5)
    return height, width, components


def _entropy_markers(data: bytes) -> npt.NDArray[np.intp]:
    """Offsets of every ``FF`` that starts a marker: not ``FF 00``, RSTn or a fill ``FF FF``."""
    array = np.frombuffer(data, np.uint8)
    candidates = np.flatnonzero(array[:-1] == 0xFF)
    follower = array[candidates + 1]
    is_marker = (follower != 0x00) & (follower != 0xFF) & ((follower < 0xD0) | (follower > 0xD7))
    markers: npt.NDArray[np.intp] = candidates[is_marker]
    return markers


def _skip_entropy_data(markers: npt.NDArray[np.intp], size: int, pos: int) -> int:
    """Return the offset of the first marker at or after ``pos`` in entropy-coded data."""
    index = int(np.searchsorted(markers, pos))
    if index == len(markers):
        msg = (
            f"JPEG is truncated: the scan data runs to the end of the {size} bytes without an "
            "end-of-image marker (FF D9). Pass the complete file"
        )
        raise DecodeError(msg, offset=size)
    return int(markers[index])


def _read_marker(data: bytes, pos: int) -> tuple[int, int]:
    """Return (marker code, offset after it) for the marker at ``pos``, skipping fill bytes."""
    n = len(data)
    if pos < n and data[pos] != 0xFF:
        msg = f"Expected a JPEG marker (ff) but found byte {data[pos]:02x}; the file is corrupt"
        raise DecodeError(msg, offset=pos)
    while pos < n and data[pos] == 0xFF:  # 0xFF fill bytes may precede a marker
        pos += 1
    if pos >= n:
        msg = (
            f"JPEG is truncated: no end-of-image marker (FF D9) within its {n} bytes. "
            "Pass the complete file"
        )
        raise DecodeError(msg, offset=n)
    return data[pos], pos + 1


def _segment_end(data: bytes, start: int, code: int) -> int:
    """Return the end offset of the segment whose marker ``ff code`` starts at ``start``."""
    n = len(data)
    pos = start + 2
    length = int.from_bytes(data[pos : pos + 2], "big")
    if pos + 2 > n or length < 2 or pos + length > n:
        msg = (
            f"JPEG segment ff {code:02x} declares length {length}, but only {n - pos} bytes "
            "remain (and the minimum is 2); the file is truncated or corrupt"
        )
        raise DecodeError(msg, offset=start)
    return pos + length


def read_jpeg_header(
    data: bytes, *, max_pixels: int, complete: bool = True
) -> tuple[int, int, int]:
    """Return ``(height, width, channels)`` of a JPEG after checking its markers up to EOI.

    ``complete=False`` stops at the frame header (SOF): the size check without the walk.
    """
    if data[:2] != b"\xff\xd8":
        msg = (
            f"Expected a JPEG starting with the SOI marker ff d8, got {data[:2].hex(' ') or 'none'}"
            f" ({len(data)} bytes). Pass the bytes of a JPEG file"
        )
        raise DecodeError(msg, offset=0)
    header: tuple[int, int, int] | None = None
    markers: npt.NDArray[np.intp] | None = None  # found on the first scan, for every scan
    scans = 0
    pos = 2
    while True:
        code, after = _read_marker(data, pos)
        start = after - 2  # the marker's own ff byte (after any fill bytes)
        if code == _EOI:
            if header is None or scans == 0:
                what = "frame header (SOF)" if header is None else "scan (SOS)"
                msg = f"JPEG ends (FF D9) without a {what}; the file is incomplete or corrupt"
                raise DecodeError(msg, offset=start)
            return header
        if code in (0x00, _SOI):
            msg = f"Invalid JPEG marker ff {code:02x} between segments; the file is corrupt"
            raise DecodeError(msg, offset=start)
        pos = after if code in _STANDALONE else _segment_end(data, start, code)
        if code in _SOF_MARKERS:
            if header is not None:
                msg = "JPEG has a second frame header (SOF); only single-frame JPEGs are allowed"
                raise DecodeError(msg, offset=start)
            header = _parse_sof(data, start + 4, pos, max_pixels)
            if not complete:
                return header
        elif code == _SOS:
            if header is None:
                msg = "JPEG scan (SOS) comes before any frame header (SOF); the file is corrupt"
                raise DecodeError(msg, offset=start)
            scans += 1
            if markers is None:
                markers = _entropy_markers(data)
            pos = _skip_entropy_data(markers, len(data), pos)


def check_jpeg_decodes(data: bytes) -> None:
    """Raise ``DecodeError`` unless libjpeg-turbo decodes ``data`` without error or warning."""
    import simplejpeg  # noqa: PLC0415 (imported on first use: a light ``import rerun_core``)

    try:
        simplejpeg.decode_jpeg(data, min_factor=8, strict=True)
    except (ValueError, RuntimeError) as exc:
        msg = (
            f"JPEG pixel data cannot be decoded (libjpeg-turbo: {exc}); the file is corrupt. "
            "Re-encode the image, e.g. with Pillow"
        )
        raise DecodeError(msg, offset=0) from None
