"""Arrow and Parquet entry points (the ``[data]`` extra); pyarrow is imported on first use.

Rules: every function here raises ``ImportError`` naming ``pip install 'rerun-core[data]'``
when pyarrow is missing; the work is done by ``_arrow`` and ``_parquet``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from rerun_core import Record

__all__ = ["INSTALL_HINT", "from_arrow", "from_parquet", "records_to_arrow", "records_to_parquet"]

INSTALL_HINT = "pip install 'rerun-core[data]'"


def _module(name: str) -> ModuleType:
    try:
        importlib.import_module("pyarrow")
    except ImportError as error:
        msg = f"Arrow and Parquet support needs pyarrow, which is not installed: {INSTALL_HINT}"
        raise ImportError(msg, name="pyarrow") from error
    return importlib.import_module(f"rerun_sinks.{name}")


def records_to_arrow(
    records: Iterable[Record], *, timelines: Mapping[str, str] | None = None, images: bool = False
) -> Any:
    """Return ``records`` as a ``pyarrow.RecordBatchReader`` (SPEC §5 columns).

    Without ``timelines`` the records are read once first to find them.
    """
    arrow = _module("_arrow")
    if timelines is None:
        records = list(records)
        timelines = arrow.timelines_of(records)
    return arrow.records_to_arrow(records, timelines=timelines, images=images)


def records_to_parquet(
    records: Iterable[Record],
    out: str | os.PathLike[str],
    *,
    timelines: Mapping[str, str] | None = None,
    images: bool = False,
    row_group_bytes: int = 32 << 20,
    compression: str = "zstd",
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write ``records`` as Parquet to ``out`` (``.parquet`` file or directory); return it."""
    path: Path = _module("_parquet").write_parquet(
        records,
        out,
        timelines=None if timelines is None else dict(timelines),
        images=images,
        row_group_bytes=row_group_bytes,
        compression=compression,
        overwrite=overwrite,
        progress=progress,
    )
    return path


def from_arrow(table: Any) -> list[Record]:
    """Rebuild records from what ``to_arrow`` wrote (a Table, batch, reader or Arrow stream)."""
    records: list[Record] = _module("_arrow").from_arrow(table)
    return records


def from_parquet(path: str | os.PathLike[str]) -> Iterator[Record]:
    """Stream records back from a ``.parquet`` file or directory written by ``to_parquet``.

    An iterator: ``list(from_parquet(path))`` for all of them. Missing files and columns
    raise before it returns; memory stays bounded by about a row group.
    """
    records: Iterator[Record] = _module("_parquet").from_parquet(path)
    return records
