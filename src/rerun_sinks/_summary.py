"""What is in a recording, from its catalog alone (``rerun-core info``): no pixel is read.

Rules: one line for the file (records, entities, where the answer came from, decoded
pixel bytes against stored bytes), then one line per entity: count, message kinds,
formats (dtype and shape), time range per timeline, timeless count. A scan for files
without a valid index reports damaged regions through ``on_damage``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator

import numpy as np

from rerun_core import RecordDecoder, RecordSpan, format_entity_path, scan_records
from rerun_core.catalog import LOG_KINDS, Catalog, CatalogBuilder, MsgFormat
from rerun_sinks._readers import _map

__all__ = ["scanned_catalog", "summary_lines"]

_CLASS_NAMES = {
    "image": "ImageMsg",
    "depth": "DepthMsg",
    "segmentation": "SegmentationMsg",
    "annotation_context": "AnnotationContextMsg",
    "extension": "ExtensionMsg",
}


def scanned_catalog(
    path: str | os.PathLike[str], on_damage: Callable[[RecordSpan], None]
) -> Catalog:
    """Catalog an ``.rrc`` file front to back, handing each damaged region to ``on_damage``."""
    data = _map(path)
    builder = CatalogBuilder()
    decoder = RecordDecoder()
    for span in scan_records(data):
        if span.error is not None:
            on_damage(span)
        elif span.kind in LOG_KINDS:
            builder.add(span.offset, span.length, decoder.decode_at(data, span.offset))
    return builder.build()


def describe_format(form: MsgFormat) -> str:
    """Return the short form of a message format, e.g. ``uint16 480x640``."""
    if form.kind == "image":
        kind = form.media_type or np.dtype(form.dtype or "|u1").name
        return f"{kind} {'x'.join(map(str, form.shape))} {form.color_model}"
    if form.kind in ("depth", "segmentation"):
        return f"{np.dtype(form.dtype or '|u1').name} {'x'.join(map(str, form.shape))}"
    if form.kind == "annotation_context":
        return f"{form.classes} classes"
    return ", ".join(form.components)


def _decoded_bytes(form: MsgFormat) -> int:
    if form.kind not in ("image", "depth", "segmentation"):
        return 0
    itemsize = np.dtype(form.dtype).itemsize if form.dtype else 1
    return math.prod(form.shape) * itemsize


def summary_lines(
    name: str, catalog: Catalog, source: str, shorten: Callable[[str], str] = str
) -> Iterator[str]:
    """Yield the lines of ``rerun-core info`` for ``catalog`` (``source``: where it came from)."""
    entities = np.unique(catalog.entity)
    yield f"{name}: {len(catalog)} records, {len(entities)} entities ({source})"
    stored = int(catalog.length.sum())
    if stored:
        per_format = np.array([_decoded_bytes(f) for f in catalog.formats], np.int64)
        decoded = int(per_format[catalog.format].sum()) if len(per_format) else 0
        yield (
            f"  pixels: {decoded / 1e6:.1f} MB decoded in {stored / 1e6:.1f} MB of records "
            f"(ratio {decoded / stored:.2f})"
        )
    for entity in sorted(entities, key=lambda e: format_entity_path(catalog.entities[e])):
        rows = catalog.entity == entity
        forms = [catalog.formats[f] for f in np.unique(catalog.format[rows])]
        kinds = sorted({_CLASS_NAMES[f.kind] for f in forms})
        details = sorted({describe_format(f) for f in forms})
        times = []
        for position, (timeline, _) in enumerate(catalog.timelines):
            present = rows & catalog.has_time[position]
            if present.any():
                values = catalog.times[position][present]
                times.append(f"{timeline} {values.min()}..{values.max()}")
        timeless = int(np.count_nonzero(rows & catalog.timeless))
        yield (
            f"  {shorten(format_entity_path(catalog.entities[entity]))}: "
            f"{int(rows.sum())} x {'/'.join(kinds)} [{'; '.join(details)}]"
            + (f" time: {', '.join(sorted(times))}" if times else "")
            + (f" timeless: {timeless}" if timeless else "")
        )
