"""Decoding compressed arrays of format 1.1 (kind-3 records), with bomb checks.

Rules: before allocating anything, the frame's declared content size must equal the
size the metadata declares (``product(shape) * itemsize``) and the ratio of that size to
the stored bytes must be possible for the codec; the decompressed length is checked
again after; byte-shuffled arrays are unshuffled; the result is read-only memory.
"""

from __future__ import annotations

import importlib
import math
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from rerun_core._wire import ArraySpec

__all__ = ["CODECS", "KIND_COMPRESSED", "codec_module", "decompress_array"]

KIND_COMPRESSED = 3
CODECS = ("zstd", "lz4")
# Most raw bytes one compressed byte can stand for: zstd's RLE blocks reach about
# 32768:1 (a 128 KiB block in 4 bytes), lz4 about 255:1; anything beyond is a bomb.
_MAX_RATIO = {"zstd": 1 << 16, "lz4": 1 << 9}
_MODULES = {"zstd": "zstandard", "lz4": "lz4.frame"}

Array = np.ndarray[Any, Any]


@cache
def codec_module(codec: str) -> ModuleType:
    """Import the library of ``codec``; raise ``ImportError`` with the install hint."""
    try:
        return importlib.import_module(_MODULES[codec])
    except ImportError as error:
        package = _MODULES[codec].split(".")[0]
        msg = (
            f"{codec} compression needs the {package!r} package: "
            "pip install 'rerun-core[compression]'"
        )
        raise ImportError(msg) from error


def decompress_array(spec: ArraySpec, payload: memoryview) -> Array:
    """Return the array a compressed ``spec`` describes, as read-only memory.

    Raises ``ValueError`` (the caller turns it into ``DecodeError``) before allocating
    when the sizes disagree or the ratio is impossible.
    """
    codec, stored = spec.codec, spec.stored
    if codec not in CODECS or stored is None or not 0 <= spec.offset <= len(payload) - stored:
        msg = f"compressed array {spec} names an unknown codec or runs past the payload"
        raise ValueError(msg)
    dtype = np.dtype(spec.dtype)
    size = math.prod(spec.shape) * dtype.itemsize
    data = payload[spec.offset : spec.offset + stored]
    declared = _content_size(codec, data)
    if declared != size or size > max(stored, 1) * _MAX_RATIO[codec]:
        msg = (
            f"compressed array declares {size} bytes in its metadata but its {codec} frame "
            f"declares {declared} from {stored} bytes; the record is damaged or forged"
        )
        raise ValueError(msg)
    raw = _decompress(codec, data, size)
    if len(raw) != size:
        msg = f"compressed array decompressed to {len(raw)} bytes, not the declared {size}"
        raise ValueError(msg)
    if spec.shuffle and dtype.itemsize > 1:
        planes = np.frombuffer(raw, np.uint8).reshape(dtype.itemsize, -1)
        raw = np.ascontiguousarray(planes.T).tobytes()
    return np.frombuffer(raw, dtype).reshape(spec.shape)


def _content_size(codec: str, data: memoryview) -> int | None:
    module = codec_module(codec)
    try:
        if codec == "zstd":
            size = module.frame_content_size(data)
            return None if size < 0 else int(size)
        info = module.get_frame_info(data)
    except Exception:  # a frame header the library cannot parse: reported as a mismatch
        return None
    content = info.get("content_size")
    return int(content) if content else None


def _decompress(codec: str, data: memoryview, size: int) -> bytes:
    module = codec_module(codec)
    if codec == "zstd":
        raw: bytes = module.ZstdDecompressor().decompress(data, max_output_size=size)
        return raw
    decompressor = module.LZ4FrameDecompressor()
    out: bytes = decompressor.decompress(data, max_length=size)
    if not decompressor.eof:
        msg = "lz4 frame holds more data than its declared content size"
        raise ValueError(msg)
    return out
