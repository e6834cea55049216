"""Recordings as Parquet: one file, or one file per entity path (hive style), and back.

Rules:
- ``out`` ending in ``.parquet`` is one file; anything else is a directory holding
  ``entity_path=<percent-encoded path>/part-0.parquet`` per entity; every file keeps the
  ``entity_path`` column and the schema of ``_arrow`` (with its metadata);
- rows are sorted by entity, then timeless first, then by the timelines (by name, nulls
  last), ``log_time``, ``log_tick`` and file order; row groups are cut by bytes and at
  entity boundaries; statistics (all but the pixel columns) and the page index are on;
- nothing partial is ever visible: files are written under a temporary name next to
  ``out`` and renamed at the end; existing non-empty output needs ``overwrite=True``, and
  a directory is only replaced when it holds nothing but Parquet parts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rerun_core import Record, format_entity_path
from rerun_core.errors import InvalidArgumentError
from rerun_sinks._arrow import (
    DEFAULT_BATCH_BYTES,
    arrow_schema,
    check_batch_bytes,
    iter_arrow,
    record_tables,
    schema_timelines,
    timelines_of,
)

__all__ = ["COMPRESSIONS", "catalog_order", "from_parquet", "is_single_file", "write_parquet"]

COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")
_UNSTATS = ("pixels", "image")  # multi-megabyte values: min/max would only bloat the footer
_DICTIONARY = ["entity_path", "kind", "dtype", "color_model", "media_type"]
_PART = "part-0.parquet"
_READ_BATCH_ROWS = 256
_READ_BUFFER = 1 << 20
_OVERWRITE_HINT = "pass overwrite=True (--overwrite on the command line) to replace it."

PathLike = str | os.PathLike[str]


@runtime_checkable
class RandomAccess(Protocol):
    """Records by position, in file order: a list or a ``RecordingFile``."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> Record: ...
    def __iter__(self) -> Iterator[Record]: ...


def write_parquet(
    records: Iterable[Record],
    out: PathLike,
    *,
    timelines: dict[str, str] | None = None,
    images: bool = False,
    row_group_bytes: int = 32 << 20,
    compression: str = "zstd",
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write ``records`` to ``out`` (a ``.parquet`` file or a directory); return ``out``.

    ``records`` should have cheap random access (a ``RecordingFile`` or a list): they are
    sorted by entity and time without being held in memory; other iterables are listed first.
    ``progress`` is called with the number of records of each row group written.
    """
    target = _check_out(out, overwrite=overwrite)
    _check_options(images=images, compression=compression, row_group_bytes=row_group_bytes)
    source = records if isinstance(records, RandomAccess) else list(records)
    timelines = timelines_of(source) if timelines is None else timelines
    schema = arrow_schema(timelines, huggingface=images)
    catalog = getattr(source, "catalog", None)  # a RecordingFile's: no record is decoded
    if catalog is None:
        order = _sorted_order(source, sorted(timelines))
    else:
        order = catalog_order(catalog, sorted(timelines))
    tables = record_tables(
        (source[i] for i in order),
        schema=schema,
        images=images,
        batch_bytes=row_group_bytes,
        cut=_entity,
    )
    temporary = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    try:
        write = _write_file if is_single_file(target) else _write_directory
        write(temporary, schema, _reported(tables, progress), compression)
        _replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise
    return target


def is_single_file(out: PathLike) -> bool:
    """Whether ``out`` names one Parquet file (ends in ``.parquet``, any case), not a directory."""
    return os.fspath(out).lower().endswith(".parquet")


def _check_out(out: object, *, overwrite: object) -> Path:
    if not isinstance(out, str | os.PathLike) or not os.fspath(out):
        msg = f"out must be a path ending in .parquet or a directory path; got {out!r}."
        raise InvalidArgumentError(msg, param="out")
    if not isinstance(overwrite, bool):
        msg = f"overwrite must be True or False; got {overwrite!r}."
        raise InvalidArgumentError(msg, param="overwrite")
    target = Path(os.fspath(out))
    if not target.parent.is_dir():
        msg = f"the folder of out does not exist: {target.parent}; create it first."
        raise FileNotFoundError(msg)
    if target.is_dir():
        if not any(target.iterdir()):
            return target
        if not overwrite:
            msg = f"{target} is a non-empty directory; {_OVERWRITE_HINT}"
            raise FileExistsError(msg)
        strangers = [p for p in target.rglob("*") if p.is_file() and p.suffix != ".parquet"]
        if strangers:
            msg = (
                f"refusing to replace {target}: it holds files that are not Parquet parts "
                f"(e.g. {strangers[0]}); remove them or write elsewhere."
            )
            raise FileExistsError(msg)
    elif target.exists() and target.stat().st_size > 0 and not overwrite:
        msg = f"{target} exists and is not empty; {_OVERWRITE_HINT}"
        raise FileExistsError(msg)
    return target


def _check_options(*, images: object, compression: object, row_group_bytes: object) -> None:
    if not isinstance(images, bool):
        msg = f"images must be True or False; got {images!r}."
        raise InvalidArgumentError(msg, param="images")
    if compression not in COMPRESSIONS:
        msg = f"compression must be one of {', '.join(COMPRESSIONS)}; got {compression!r}."
        raise InvalidArgumentError(msg, param="compression")
    check_batch_bytes(row_group_bytes, "row_group_bytes")


def _sort_key(record: Record, timelines: list[str], index: int) -> tuple[Any, ...]:
    times = tuple(
        (0, time.value) if (time := record.timepoint.get(name)) is not None else (1, 0)
        for name in timelines
    )
    entity = format_entity_path(record.entity_path)
    return (entity, not record.timeless, times, record.log_time_ns, record.log_tick, index)


def _sorted_order(records: RandomAccess, timelines: list[str]) -> list[int]:
    keys = [_sort_key(record, timelines, index) for index, record in enumerate(records)]
    keys.sort()
    return [key[-1] for key in keys]


def catalog_order(catalog: Any, timelines: list[str]) -> list[int]:
    """Return the rows of a ``rerun_core.catalog.Catalog`` in ``_sort_key`` order."""
    labels = [format_entity_path(parts) for parts in catalog.entities]
    rank = np.empty(len(labels), np.int64)
    rank[sorted(range(len(labels)), key=labels.__getitem__)] = np.arange(len(labels))
    keys: list[Any] = [np.arange(len(catalog)), catalog.log_tick, catalog.log_time]
    for name in reversed(timelines):  # np.lexsort: the last key is the primary one
        column = catalog.timeline_index(name)
        if column is not None:
            has = catalog.has_time[column]
            keys += [np.where(has, catalog.times[column], 0), ~has]
    keys += [~catalog.timeless, rank[catalog.entity]]
    order: list[int] = np.lexsort(keys).tolist()
    return order


def _entity(record: Record) -> tuple[str, ...]:
    return record.entity_path


def _reported(
    tables: Iterator[pa.Table], progress: Callable[[int], None] | None
) -> Iterator[pa.Table]:
    """Yield ``tables``; once each is written (the caller asks for the next), report it."""
    for table in tables:
        yield table
        if progress is not None:
            progress(table.num_rows)


def _writer(path: Path, schema: pa.Schema, compression: str) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        path,
        schema,
        compression=compression,
        use_dictionary=_DICTIONARY,
        write_statistics=[name for name in schema.names if name not in _UNSTATS],
        write_page_index=True,
    )


def _write_file(
    path: Path, schema: pa.Schema, tables: Iterator[pa.Table], compression: str
) -> None:
    with _writer(path, schema, compression) as writer:
        for table in tables:
            writer.write_table(table, row_group_size=table.num_rows)


def _write_directory(
    path: Path, schema: pa.Schema, tables: Iterator[pa.Table], compression: str
) -> None:
    path.mkdir()
    writer: pq.ParquetWriter | None = None
    entity = None
    try:
        for table in tables:
            first = table.column("entity_path")[0].as_py()
            if first != entity:
                if writer is not None:
                    writer.close()
                entity = first
                folder = path / f"entity_path={urllib.parse.quote(first, safe='')}"
                folder.mkdir()
                writer = _writer(folder / _PART, schema, compression)
            writer.write_table(table, row_group_size=table.num_rows)  # type: ignore[union-attr]
    finally:
        if writer is not None:
            writer.close()


def _replace(temporary: Path, target: Path) -> None:
    """Move ``temporary`` to ``target``; a replaced target is deleted only afterwards."""
    old = None
    if target.is_dir() or (target.exists() and not is_single_file(target)):
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        target.rename(old)
    try:
        temporary.replace(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def from_parquet(path: PathLike) -> Iterator[Record]:
    """Stream the records of a file or directory written by ``to_parquet``.

    A directory is read file by file (every ``*.parquet`` below it, ordered by decoded path),
    each file with its own ``entity_path`` column: no hive partition column is added. Every
    file's schema is checked before this returns; records are then read a few megabytes at
    a time, so memory stays bounded by about a row group whatever the size of the files.
    """
    source = Path(os.fspath(path))
    if not source.exists():
        msg = f"no such file or directory: {source}"
        raise FileNotFoundError(msg)
    files = [source]
    if source.is_dir():
        files = sorted(source.rglob("*.parquet"), key=lambda file: _decoded(file, source))
    for file in files:
        schema_timelines(pq.read_schema(file))
    return _read_files(files)


def _read_files(files: list[Path]) -> Iterator[Record]:
    for file in files:
        # pre_buffer (pyarrow's default) keeps every row group iter_batches read until the
        # file is closed: the whole file, in the end. A buffered stream reads as it goes.
        with pq.ParquetFile(file, pre_buffer=False, buffer_size=_READ_BUFFER) as parquet:
            batches = parquet.iter_batches(batch_size=_batch_rows(parquet.metadata))
            yield from iter_arrow(pa.RecordBatchReader.from_batches(parquet.schema_arrow, batches))


def _batch_rows(metadata: pq.FileMetaData) -> int:
    """Rows per read batch: about ``DEFAULT_BATCH_BYTES`` of data and at most a row group."""
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
    rows = [int(group.num_rows) for group in groups if group.num_rows]
    if not rows:
        return _READ_BATCH_ROWS
    per_row = max(1, sum(int(group.total_byte_size) for group in groups) // sum(rows))
    return max(1, min(_READ_BATCH_ROWS, *rows, DEFAULT_BATCH_BYTES // per_row))


def _decoded(file: Path, root: Path) -> tuple[str, ...]:
    return tuple(urllib.parse.unquote(part) for part in file.relative_to(root).parts)
