"""``rerun-core export``: one image file per record, readable by any image viewer.

Rules: raw images become PNG (uint8 or uint16 as stored; BGR/BGRA reordered to RGB/RGBA;
floats clipped to 0..1 and scaled to uint8); JPEG records are written as their original
bytes; depth becomes a 16-bit PNG of the raw values (floats as millimetres, NaN as 0);
segmentation becomes an RGBA PNG coloured by the nearest annotation context.
File names are portable and stay inside the target directory: the record's index, then
the entity path with every character but letters, digits, ``-``, ``_`` and ``.`` replaced
by ``_``, shortened (with a digest of the full path) when long. Damaged regions of the
file are skipped and reported to ``on_damage``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rerun_core import (
    AnnotationContextMsg,
    ColorModel,
    DepthMsg,
    ImageMsg,
    Record,
    RecordSpan,
    SegmentationMsg,
)
from rerun_sinks._png_writer import encode_png
from rerun_sinks._salvage import intact_records

__all__ = ["export", "file_stem", "shorten"]

_GOLDEN_RATIO = 0.618033988749895
Lut = np.ndarray[Any, Any]
NAME_LIMIT = 80
"""Longest entity name in an exported file name (UTF-8 bytes) or a CLI line (characters)."""


def export(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    progress: Callable[[int], None] | None = None,
    on_damage: Callable[[RecordSpan], None] | None = None,
    records: Iterable[Record] | None = None,
) -> list[Path]:
    """Write one image file per image, depth and segmentation record; return the paths.

    Damaged regions go to ``on_damage`` and export continues; without it they raise.
    ``records`` (e.g. a query of ``open_recording(path)``) replaces reading all of ``path``.
    """
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    contexts: dict[tuple[str, ...], Lut] = {}
    written: list[Path] = []
    source = intact_records(path, on_damage) if records is None else records
    for index, record in enumerate(source):
        if progress is not None:
            progress(1)
        if isinstance(record.msg, AnnotationContextMsg):
            contexts[record.entity_path] = _lut(record.msg)
            continue
        for suffix, data in _render(record, contexts):
            file = target / f"{index:06d}_{file_stem(record.entity_path)}{suffix}"
            file.write_bytes(data)
            written.append(file)
    return written


def file_stem(entity_path: tuple[str, ...]) -> str:
    """Return a portable file-name stem for an entity path (``a/b`` -> ``a_b``)."""
    name = "_".join(entity_path) or "root"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    if len(safe.encode()) <= NAME_LIMIT:
        return safe
    digest = hashlib.blake2b(name.encode(), digest_size=6).hexdigest()
    keep = safe[: NAME_LIMIT - len(digest) - 1]
    while len(keep.encode()) > NAME_LIMIT - len(digest) - 1:
        keep = keep[:-1]
    return f"{keep}-{digest}"


def shorten(text: str, limit: int = NAME_LIMIT) -> str:
    """``text``, or its start and end around ``...`` when longer than ``limit``."""
    if len(text) <= limit:
        return text
    head = (limit - 3) * 3 // 4
    return f"{text[:head]}...{text[len(text) - (limit - 3 - head) :]}"


def _render(
    record: Record, contexts: dict[tuple[str, ...], Lut]
) -> Iterator[tuple[str, bytes | bytearray]]:
    msg = record.msg
    if isinstance(msg, ImageMsg):
        if msg.pixels is None:
            yield ".jpg", msg.jpeg
        else:
            yield ".png", encode_png(_displayable(msg.pixels, msg.color_model))
    elif isinstance(msg, DepthMsg):
        yield ".depth.png", encode_png(_depth_u16(msg))
    elif isinstance(msg, SegmentationMsg):
        lut = _nearest_context(record.entity_path, contexts)
        yield ".segmentation.png", encode_png(lut[msg.pixels])


def _displayable(pixels: np.ndarray[Any, Any], model: ColorModel) -> np.ndarray[Any, Any]:
    if model in (ColorModel.BGR, ColorModel.BGRA):
        order = [2, 1, 0] if model is ColorModel.BGR else [2, 1, 0, 3]
        pixels = pixels[..., order]
    if pixels.dtype.kind == "f":
        scaled = np.nan_to_num(np.clip(pixels.astype(np.float64), 0.0, 1.0)) * 255
        pixels = np.rint(scaled).astype(np.uint8)
    return np.ascontiguousarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


def _depth_u16(msg: DepthMsg) -> np.ndarray[Any, Any]:
    if msg.pixels.dtype.kind != "f":
        return msg.pixels.astype(np.uint16)
    millimetres = msg.pixels.astype(np.float64) * (1000.0 / msg.effective_meter)
    return np.rint(np.clip(np.nan_to_num(millimetres, posinf=65535.0), 0, 65535)).astype(np.uint16)


def _nearest_context(path: tuple[str, ...], contexts: dict[tuple[str, ...], Lut]) -> Lut:
    for depth in range(len(path), -1, -1):
        if path[:depth] in contexts:
            return contexts[path[:depth]]
    return _lut(AnnotationContextMsg(class_descriptions=[]))


def _lut(msg: AnnotationContextMsg) -> Lut:
    """Colour per class id: the given colours, else an automatic hue per id; id 0 transparent."""
    lut = np.empty((65536, 4), np.uint8)
    lut[:, :3] = _auto_colors(np.arange(65536))
    lut[:, 3] = 255
    lut[0] = 0
    for description in msg.class_descriptions:
        if description.info.color is not None:
            lut[description.info.id] = description.info.color
    return lut


def _auto_colors(ids: np.ndarray[Any, Any], saturation: float = 0.85, value: float = 0.9) -> Lut:
    """HSV to RGB (uint8) with hue = id x golden ratio, vectorised."""
    sector = (ids * _GOLDEN_RATIO % 1.0) * 6
    index = np.floor(sector).astype(int) % 6
    fraction = sector - np.floor(sector)
    p = np.full(ids.shape, value * (1 - saturation))
    q = value * (1 - saturation * fraction)
    t = value * (1 - saturation * (1 - fraction))
    v = np.full(ids.shape, value)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    rgb = np.stack(
        [np.choose(index, [c[channel] for c in choices]) for channel in range(3)], axis=-1
    )
    colors: Lut = np.rint(rgb * 255).astype(np.uint8)
    return colors
