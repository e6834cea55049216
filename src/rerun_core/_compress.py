"""Compressed log records (format 1.1, kind 3): pixels compressed per array.

Rules (``docs/FORMAT.md`` section 9):
- only a message's pixel array is compressed, and only when it holds at least
  ``MIN_COMPRESSED_BYTES`` and the codec saves at least 1/16 of it; everything else
  stays raw; a record with no compressed array is an ordinary kind-1 record, byte for
  byte what ``encode_record`` gives;
- depth and segmentation pixels wider than one byte are byte-shuffled first (all
  first bytes, then all second bytes, ...), which is what makes them compress;
- codecs are real libraries: ``zstandard`` (level 1) and ``lz4`` (frame format, with
  the content size stored); they are imported when first used;
- decoding lives in ``_decompress`` (the record decoder needs it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from zlib_ng.zlib_ng import crc32

from rerun_core._codec import _CRC, _HEADER, FORMAT_MAJOR, MAGIC, _pad, encode_record_parts
from rerun_core._decompress import CODECS, KIND_COMPRESSED, codec_module
from rerun_core._messages import DepthMsg, SegmentationMsg
from rerun_core._record import Record
from rerun_core._wire import CONVERTER, ArraySpec, to_meta
from rerun_core.errors import InvalidArgumentError

__all__ = ["MIN_COMPRESSED_BYTES", "check_codec", "encode_compressed_parts"]

COMPRESSED_MINOR = 1
MIN_COMPRESSED_BYTES = 4096
_ZSTD_LEVEL = 1
_MIN_SAVING = 16  # keep the compressed form only if it saves at least 1/16 of the bytes

Array = np.ndarray[Any, Any]
Part = bytes | memoryview


def check_codec(codec: object) -> str | None:
    """Return ``codec`` if it is ``None`` or one of :data:`CODECS`; raise otherwise."""
    if codec is None or (isinstance(codec, str) and codec in CODECS):
        return codec
    msg = f"compression must be None, 'zstd' or 'lz4'; got {codec!r}."
    raise InvalidArgumentError(msg, param="compression")


def _shuffle(array: Array) -> Array:
    flat = array.reshape(-1).view(np.uint8)
    return np.ascontiguousarray(flat.reshape(-1, array.itemsize).T)


def _compress(data: Array, codec: str) -> bytes:
    module = codec_module(codec)
    if codec == "zstd":
        compressed: bytes = module.ZstdCompressor(level=_ZSTD_LEVEL).compress(data)
        return compressed
    lz4: bytes = module.compress(data, store_size=True)
    return lz4


def encode_compressed_parts(record: Record, codec: str) -> tuple[Part, ...]:
    """Encode ``record`` with its pixels compressed by ``codec`` (see the module rules).

    Without a pixel array worth compressing, this is ``encode_record_parts(record)``.
    ``codec`` is ``"zstd"`` or ``"lz4"`` (anything else raises ``InvalidArgumentError``).
    """
    if codec not in CODECS:
        check_codec(codec)
    msg = record.msg
    pixels: Array | None = getattr(msg, "pixels", None)
    if pixels is None or pixels.nbytes < MIN_COMPRESSED_BYTES:
        return encode_record_parts(record)
    shuffle = isinstance(msg, DepthMsg | SegmentationMsg) and pixels.itemsize > 1
    packed = _compress(_shuffle(pixels) if shuffle else pixels, codec)
    if len(packed) > pixels.nbytes - pixels.nbytes // _MIN_SAVING:
        return encode_record_parts(record)
    chunks: list[Part] = []
    payload_len = 0

    def place(array: Array) -> ArraySpec:
        nonlocal payload_len
        spec = ArraySpec(dtype=array.dtype.str, shape=tuple(array.shape), offset=payload_len)
        data: Part = array.data.cast("B")
        if array is pixels:
            spec.codec, spec.shuffle, spec.stored, data = codec, shuffle, len(packed), packed
        chunks.extend((data, bytes(_pad(len(data)))))
        payload_len += len(data) + _pad(len(data))
        return spec

    meta = CONVERTER.dumps(to_meta(record, place), canonical=True)
    header = _HEADER.pack(
        MAGIC, FORMAT_MAJOR, COMPRESSED_MINOR, KIND_COMPRESSED, len(meta), payload_len, 0
    )
    header = header[:-4] + _CRC.pack(crc32(header[:-4]))
    head = header + meta + bytes(_pad(len(header) + len(meta)))
    crc = crc32(head)
    for chunk in chunks:
        crc = crc32(chunk, crc)
    tail = bytes(_pad(payload_len + _CRC.size))
    return (head, *chunks, tail + _CRC.pack(crc32(tail, crc)))
