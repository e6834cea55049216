"""``open_recording``: random access and queries over a recording file.

Rules:
- the first bytes pick the format; an ``.rrc`` file is memory-mapped read-only and its
  payload arrays are views of the map; ``.mcap`` and ``.rrd`` files are scanned once by
  their readers into a catalog (no pixels kept) and records are read again on demand;
- the catalog (one row per log record) comes from the file's index when it is valid,
  else from a scan front to back; both give the same rows, so every answer is the
  same either way (``indexed`` says which was used);
- an empty file is an empty recording; a torn or damaged tail leaves the complete
  records before it (damaged regions are skipped, never raised);
- time values and query bounds are int (sequence numbers or nanoseconds);
- bad arguments raise :class:`rerun_core.InvalidArgumentError`.
"""

from __future__ import annotations

import contextlib
import mmap
import operator
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from rerun_core import (
    InvalidArgumentError,
    Record,
    RecordDecoder,
    format_entity_path,
    parse_entity_path,
)
from rerun_core.catalog import MSG_KINDS, Catalog, read_index, scan_catalog
from rerun_sinks._data import records_to_arrow, records_to_parquet
from rerun_sinks._formats import ForeignFile, open_foreign, sniff_format

__all__ = ["RecordingFile", "open_recording"]

PathLike = str | os.PathLike[str]
Array = np.ndarray[Any, Any]
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class RecordingFile:
    """The log records of one recording: a sequence with entity, time and kind queries.

    Use as a context manager; ``close()`` releases the file (records already read stay
    valid: their arrays keep the map alive).
    """

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        record_at: Callable[[int], Record],
        *,
        indexed: bool,
        resource: mmap.mmap | ForeignFile | None = None,
    ) -> None:
        """Wrap a catalog and a function that decodes the record of a row (internal)."""
        self.name = name
        self.catalog = catalog
        self._record_at = record_at
        self._indexed = indexed
        self._resource = resource
        self._closed = False

    def __repr__(self) -> str:
        """Name, record count and whether the index was used."""
        state = "closed" if self._closed else f"{len(self)} records"
        return f"<RecordingFile {self.name!r}: {state}, indexed={self._indexed}>"

    # -- the file --------------------------------------------------------------------

    def __enter__(self) -> RecordingFile:
        """Return the open recording."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the recording."""
        self.close()

    def close(self) -> None:
        """Release the file; idempotent. Records already read stay valid."""
        self._closed = True
        resource, self._resource = self._resource, None
        if resource is not None:
            with contextlib.suppress(BufferError):  # arrays read earlier still view the map
                resource.close()

    @property
    def indexed(self) -> bool:
        """True when the file's index was used, False when the file was scanned."""
        return self._indexed

    # -- the sequence ----------------------------------------------------------------

    def __len__(self) -> int:
        """Return the number of log records (index records are not counted)."""
        return len(self.catalog)

    def __getitem__(self, index: int) -> Record:
        """Return the record at ``index`` in file order; negative indexes count from the end."""
        try:
            position = operator.index(index)
        except TypeError:
            msg = f"RecordingFile indexes must be int; got {type(index).__name__}."
            raise TypeError(msg) from None
        count = len(self)
        if not -count <= position < count:
            msg = f"record index {position} out of range for {count} records"
            raise IndexError(msg)
        return self.record(position % count if count else position)

    def __iter__(self) -> Iterator[Record]:
        """Every log record in file order."""
        return self.records(range(len(self)))

    def record(self, position: int) -> Record:
        """Return the record of catalog row ``position`` (0 <= position < len)."""
        self._check_open()
        return self._record_at(position)

    def records(self, positions: Iterable[int]) -> Iterator[Record]:
        """Yield the records of the given catalog rows, in the order given."""
        for position in positions:
            yield self.record(int(position))

    # -- what is in it ---------------------------------------------------------------

    @property
    def entities(self) -> tuple[str, ...]:
        """Sorted entity paths of the records, as ``format_entity_path`` gives them."""
        present = np.unique(self.catalog.entity)
        return tuple(sorted(format_entity_path(self.catalog.entities[i]) for i in present))

    @property
    def timelines(self) -> dict[str, str]:
        """Timeline name -> ``"sequence"`` or ``"time"``, for the timelines records carry."""
        return dict(sorted(self.catalog.timelines))

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        """``(min, max)`` of ``timeline`` over the records, or ``None`` if none carries it."""
        _check_name(timeline, "timeline")
        column = self.catalog.timeline_index(timeline)
        if column is None:
            return None
        values = self.catalog.times[column][self.catalog.has_time[column]]
        if not len(values):
            return None
        return int(values.min()), int(values.max())

    # -- queries ---------------------------------------------------------------------

    def query(
        self,
        entity: str | None = None,
        *,
        timeline: str | None = None,
        start: int | None = None,
        stop: int | None = None,
        kinds: Iterable[str] | None = None,
    ) -> Iterator[Record]:
        """Yield the records, in file order, that match every condition given.

        ``entity``: an exact path, or a prefix ending in ``/**`` (the path itself and
        everything below). With ``timeline``, a timed record matches when it carries the
        timeline with ``start <= t < stop`` (either bound may be ``None``); timeless
        records always match. ``kinds``: a set of message kinds (``"image"``,
        ``"depth"``, ``"segmentation"``, ``"annotation_context"``, ``"extension"``).
        """
        positions = self.positions(entity, timeline=timeline, start=start, stop=stop, kinds=kinds)
        return self.records(positions.tolist())

    def positions(
        self,
        entity: str | None = None,
        *,
        timeline: str | None = None,
        start: int | None = None,
        stop: int | None = None,
        kinds: Iterable[str] | None = None,
    ) -> Array:
        """Catalog rows (ascending) that :meth:`query` with the same arguments yields."""
        catalog = self.catalog
        mask = np.ones(len(catalog), np.bool_)
        if entity is not None:
            mask &= np.isin(catalog.entity, _entity_ids(catalog, entity, allow_prefix=True))
        if kinds is not None:
            mask &= np.isin(catalog.kind, _kind_codes(kinds))
        if timeline is not None:
            mask &= catalog.timeless | _in_range(catalog, timeline, start, stop)
        elif start is not None or stop is not None:
            msg = (
                f"start={start!r}/stop={stop!r} need a timeline to apply to; pass "
                "timeline='frame' (or another timeline name) with them."
            )
            raise InvalidArgumentError(msg, param="timeline")
        return np.flatnonzero(mask)

    def latest_at(self, entity: str, timeline: str, t: int) -> Record | None:
        """Return the last record of ``entity`` at ``timeline`` <= ``t``, else its last timeless.

        "Last" is the greatest time, then the latest in file order; ``None`` when neither
        a timed nor a timeless record of ``entity`` qualifies.
        """
        catalog = self.catalog
        _check_name(timeline, "timeline")
        at = _bound(t, "t", optional=False)
        own = np.isin(catalog.entity, _entity_ids(catalog, entity, allow_prefix=False))
        column = catalog.timeline_index(timeline)
        if column is not None and at is not None and at >= _INT64_MIN:
            values = catalog.times[column]
            timed = own & catalog.has_time[column] & (values <= min(at, _INT64_MAX))
            if timed.any():
                best = values[timed].max()
                return self.record(int(np.flatnonzero(timed & (values == best))[-1]))
        timeless = np.flatnonzero(own & catalog.timeless)
        return self.record(int(timeless[-1])) if len(timeless) else None

    # -- Arrow and Parquet (docs/DATAFRAMES.md; the [data] extra) --------------------

    def to_arrow(
        self,
        entity: str | None = None,
        *,
        timeline: str | None = None,
        start: int | None = None,
        stop: int | None = None,
        kinds: Iterable[str] | None = None,
        images: bool = False,
    ) -> Any:
        """Return the records :meth:`query` selects as a ``pyarrow.RecordBatchReader``.

        Columns as docs/DATAFRAMES.md lists them, one per timeline of the file;
        ``images=True`` fills the ``image`` column (PNG or the original JPEG).
        """
        records = self.query(entity, timeline=timeline, start=start, stop=stop, kinds=kinds)
        return records_to_arrow(records, timelines=self.timelines, images=images)

    def to_parquet(
        self,
        out: PathLike,
        *,
        images: bool = False,
        row_group_bytes: int = 32 << 20,
        compression: str = "zstd",
        overwrite: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Path:
        """Write every record as Parquet, sorted by entity then time (docs/DATAFRAMES.md).

        ``out`` ending in ``.parquet`` is one file; anything else is a directory with one
        file per entity path. Returns ``out`` as a ``Path``.
        """
        return records_to_parquet(
            self,
            out,
            timelines=self.timelines,
            images=images,
            row_group_bytes=row_group_bytes,
            compression=compression,
            overwrite=overwrite,
            progress=progress,
        )

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        """Export every record as an Arrow C stream (``duckdb.sql("... from f")``)."""
        return self.to_arrow().__arrow_c_stream__(requested_schema)

    def _check_open(self) -> None:
        if self._closed:
            msg = f"RecordingFile({self.name!r}) is closed; open it again to read records."
            raise ValueError(msg)


def _check_name(value: object, param: str) -> str:
    if not isinstance(value, str) or not value:
        msg = f"{param} must be a non-empty str such as 'frame'; got {value!r}."
        raise InvalidArgumentError(msg, param=param)
    return value


def _entity_ids(catalog: Catalog, entity: object, *, allow_prefix: bool) -> Array:
    if not isinstance(entity, str) or not entity:
        msg = (
            "entity must be an entity path str such as 'camera/rgb' or 'camera/**'; "
            f"got {entity!r}."
        )
        raise InvalidArgumentError(msg, param="entity")
    prefix = entity.endswith("/**") or entity == "**"
    if prefix and not allow_prefix:
        msg = f"entity must be one exact entity path here; got the pattern {entity!r}."
        raise InvalidArgumentError(msg, param="entity")
    base = entity[:-3] if entity.endswith("/**") else entity
    try:
        parts = parse_entity_path(base) if base else ()
    except InvalidArgumentError as error:
        raise InvalidArgumentError(str(error), param="entity") from None
    depth = len(parts)
    ids = [
        index
        for index, path in enumerate(catalog.entities)
        if path == parts or (prefix and path[:depth] == parts)
    ]
    return np.array(ids, np.uint32)


def _kind_codes(kinds: object) -> Array:
    if isinstance(kinds, str | bytes) or not isinstance(kinds, Iterable):
        msg = f"kinds must be a set of message kinds such as {{'image', 'depth'}}; got {kinds!r}."
        raise InvalidArgumentError(msg, param="kinds")
    codes = []
    for kind in kinds:
        if kind not in MSG_KINDS:
            msg = f"unknown message kind {kind!r} in kinds; allowed: {', '.join(MSG_KINDS)}."
            raise InvalidArgumentError(msg, param="kinds")
        codes.append(MSG_KINDS.index(kind))
    return np.array(codes, np.uint8)


def _bound(value: object, param: str, *, optional: bool = True) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        msg = (
            f"{param} must be an int (a sequence number or nanoseconds); got {value!r}. "
            "Convert seconds with int(seconds * 1e9)."
        )
        raise InvalidArgumentError(msg, param=param)
    return int(value)


def _in_range(catalog: Catalog, timeline: str, start: object, stop: object) -> Array:
    _check_name(timeline, "timeline")
    low, high = _bound(start, "start"), _bound(stop, "stop")
    column = catalog.timeline_index(timeline)
    if column is None:
        return np.zeros(len(catalog), np.bool_)
    mask = catalog.has_time[column].copy()
    values = catalog.times[column]
    if low is not None:
        mask &= values >= max(low, _INT64_MIN) if low <= _INT64_MAX else False
    if high is not None and high <= _INT64_MAX:
        mask &= values < high if high > _INT64_MIN else False
    return mask


def open_recording(path: PathLike) -> RecordingFile:
    """Open a recording file for random access and queries (see :class:`RecordingFile`).

    The first bytes pick the format: ``.rrc`` (memory-mapped; its index is used when
    valid), ``.mcap`` or ``.rrd`` (scanned by their readers); anything else raises
    ``ForeignDataError`` naming what the file is.
    """
    name = os.fspath(path)
    kind = sniff_format(name)
    if kind != "rrc":
        foreign = open_foreign(name, kind)
        return RecordingFile(name, foreign.catalog, foreign.record, indexed=False, resource=foreign)
    with Path(name).open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) if size else None
    buffer: mmap.mmap | bytes = b"" if data is None else data
    advise = _advisor(data)
    advise(0, 0)  # random access: no readahead past what a read asks for
    index = read_index(buffer, will_read=advise)
    catalog = index.catalog
    if catalog is None:
        advise(0, -1)  # a scan reads everything, front to back
        catalog = scan_catalog(buffer)
        advise(0, 0)
    offsets, lengths = catalog.offset, catalog.length
    decoder = RecordDecoder()

    def record_at(position: int) -> Record:
        offset = int(offsets[position])
        advise(offset, int(lengths[position]))
        return decoder.decode_at(buffer, offset)

    return RecordingFile(name, catalog, record_at, indexed=index.catalog is not None, resource=data)


def _advisor(data: mmap.mmap | None) -> Callable[[int, int], None]:
    """Return ``advise(offset, length)``: prefetch exactly that range of the map.

    ``advise(0, 0)`` turns the kernel's readahead off for the map, so a query touches
    the index and the records it reads and not the megabytes after them (``advise(0, -1)``
    turns it back on for a scan); a no-op where
    ``madvise`` is missing (Windows) or for an empty file.
    """
    random, willneed = getattr(mmap, "MADV_RANDOM", None), getattr(mmap, "MADV_WILLNEED", None)
    sequential = getattr(mmap, "MADV_SEQUENTIAL", None)
    if data is None or random is None or willneed is None or sequential is None:
        return lambda offset, length: None
    page = mmap.ALLOCATIONGRANULARITY

    def advise(offset: int, length: int) -> None:
        if length <= 0:
            data.madvise(random if length == 0 else sequential)
            return
        start = offset - offset % page
        end = min(offset + length, len(data))
        if end > start:
            data.madvise(willneed, start, end - start)

    return advise
