"""Catalogs and the index record of format 1.1: what readers and writers of files share.

A :class:`Catalog` is one row per log record (offset, length, entity, message format,
tick, wall clock, timeless flag, timeline values) as column arrays. ``FileSink`` keeps a
:class:`CatalogBuilder` as it writes and appends :func:`encode_index` on close;
``open_recording`` takes the catalog from :func:`read_index` when it is valid and from
:func:`scan_catalog` otherwise: both give the same rows. Pure, like all of ``rerun_core``.
"""

from __future__ import annotations

from rerun_core._catalog import (
    LOG_KINDS,
    MSG_KINDS,
    Catalog,
    CatalogBuilder,
    MsgFormat,
    decode_record_at,
    scan_catalog,
)
from rerun_core._index import INDEX_MAGIC, KIND_INDEX, IndexLookup, encode_index, read_index

__all__ = [
    "INDEX_MAGIC",
    "KIND_INDEX",
    "LOG_KINDS",
    "MSG_KINDS",
    "Catalog",
    "CatalogBuilder",
    "IndexLookup",
    "MsgFormat",
    "decode_record_at",
    "encode_index",
    "read_index",
    "scan_catalog",
]
