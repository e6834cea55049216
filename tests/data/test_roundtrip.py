"""from_arrow(to_arrow(x)) == x and from_parquet(to_parquet(x)) == x, for any recording."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import attrs
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
import rerun_sinks as rr
from rerun_core import strategies as rcst
from rerun_sinks import _arrow
from rerun_sinks._arrow import records_to_arrow, timelines_of
from rerun_sinks._data import records_to_arrow as public_records_to_arrow
from rerun_sinks._data import records_to_parquet


def _consistent(records: list[rc.Record]) -> list[rc.Record]:
    """Give each timeline name one kind (the first seen), as a real recording has."""
    kinds: dict[str, str] = {}
    result = []
    for record in records:
        timepoint = {
            name: rc.TimeValue(kinds.setdefault(name, time.kind), time.value)
            for name, time in record.timepoint.items()
        }
        result.append(attrs.evolve(record, timepoint=timepoint))
    return result


def recordings(max_size: int = 6) -> st.SearchStrategy[list[rc.Record]]:
    """Lists of records of every message kind; one kind per timeline name."""
    return st.lists(rcst.records(), max_size=max_size).map(_consistent)


def parquet_order(records: list[rc.Record]) -> list[rc.Record]:
    """The documented Parquet row order: entity, timeless first, timelines by name (nulls
    last), log_time, log_tick, then file order."""
    names = sorted({name for record in records for name in record.timepoint})

    def key(item: tuple[int, rc.Record]) -> tuple[object, ...]:
        index, record = item
        times = tuple(
            (0, record.timepoint[n].value) if n in record.timepoint else (1, 0) for n in names
        )
        path = rc.format_entity_path(record.entity_path)
        return (path, not record.timeless, times, record.log_time_ns, record.log_tick, index)

    return [record for _, record in sorted(enumerate(records), key=key)]


@given(recordings(), st.booleans(), st.sampled_from([1, 200, 1 << 20]))
def test_from_arrow_inverts_to_arrow(records, images, batch_bytes):
    reader = records_to_arrow(
        records, timelines=timelines_of(records), images=images, batch_bytes=batch_bytes
    )
    assert rr.from_arrow(reader) == records


@given(recordings())
def test_from_arrow_reads_a_table_and_a_c_stream(records):
    table = public_records_to_arrow(records).read_all()
    assert rr.from_arrow(table) == records
    assert rr.from_arrow(pa.table(table)) == records
    assert rr.from_arrow(_CStream(table)) == records


class _CStream:
    """Anything exposing ``__arrow_c_stream__`` (as RecordingFile does)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table.__arrow_c_stream__(requested_schema)


@given(
    recordings(),
    st.booleans(),
    st.sampled_from(["x.parquet", "x"]),
    st.sampled_from([1, _arrow.BORROW_BYTES]),
)
def test_from_parquet_inverts_to_parquet(records, images, name, borrow_bytes):
    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch.object(_arrow, "BORROW_BYTES", borrow_bytes),  # 1: every array borrowed
    ):
        out = Path(folder) / name
        records_to_parquet(records, out, images=images, row_group_bytes=300)
        assert list(rr.from_parquet(out)) == parquet_order(records)


def test_sample_recording_round_trips(records, tmp_path):
    assert rr.from_arrow(public_records_to_arrow(records, images=True)) == records
    for out in (tmp_path / "one.parquet", tmp_path / "dir"):
        records_to_parquet(records, out, images=True)
        assert list(rr.from_parquet(out)) == parquet_order(records)


@given(recordings(max_size=8))
def test_a_files_catalog_sorts_like_its_records(records):
    from rerun_sinks._parquet import _sorted_order, catalog_order

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rec.rrc"
        with rr.FileSink(path) as sink:
            for record in records:
                sink.write(record)
        with rr.open_recording(path) as f:
            names = sorted(f.timelines)
            assert catalog_order(f.catalog, names) == _sorted_order(list(f), names)
            assert [f[i] for i in catalog_order(f.catalog, names)] == parquet_order(records)
