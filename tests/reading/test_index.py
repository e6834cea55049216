"""Format 1.1's index record: written on close, found from the end, trusted only when valid."""

from __future__ import annotations

import io
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core.catalog import (
    INDEX_MAGIC,
    KIND_INDEX,
    Catalog,
    CatalogBuilder,
    encode_index,
    read_index,
    scan_catalog,
)
from rerun_core.unchecked import stamp_record
from rerun_sinks import BackgroundSink, FileSink, open_recording, read_records, recover, verify


def _records(count: int = 6) -> list[rc.Record]:
    records = [rc.make_record("/", rc.make_annotation_context_msg([(1, "a")]), timeless=True)]
    for i in range(count):
        records.append(
            rc.make_record(
                f"cam/{i % 2}",
                rc.make_image_msg(np.full((4, 6, 3), i, np.uint8)),
                timepoint={"frame": ("sequence", i), "t": ("time", 10 * i)},
                log_tick=i,
                log_time_ns=1000 + i,
            )
        )
    return records


def _write(path: Path, records: list[rc.Record]) -> bytes:
    with FileSink(path) as sink:
        for record in records:
            sink.write(record)
    return path.read_bytes()


def assert_same_catalog(a: Catalog, b: Catalog) -> None:
    assert (a.entities, a.formats, a.timelines) == (b.entities, b.formats, b.timelines)
    for name in ("offset", "length", "entity", "format", "log_tick", "log_time", "timeless"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for x, y in zip(a.times, b.times, strict=True):
        assert np.array_equal(x, y)
    for x, y in zip(a.has_time, b.has_time, strict=True):
        assert np.array_equal(x, y)


def assert_same_answers(f: object, g: object) -> None:
    """Two RecordingFiles answer every question the same way."""
    assert list(f) == list(g)  # type: ignore[call-overload]
    for name in ("entities", "timelines"):
        assert getattr(f, name) == getattr(g, name)
    for timeline in ("frame", "t", "nope"):
        assert f.time_range(timeline) == g.time_range(timeline)  # type: ignore[attr-defined]
        assert list(f.query("cam/**", timeline=timeline, start=2, stop=40)) == list(  # type: ignore[attr-defined]
            g.query("cam/**", timeline=timeline, start=2, stop=40)  # type: ignore[attr-defined]
        )


class TestWriting:
    def test_close_appends_an_index_a_reader_finds_from_the_end(self, tmp_path: Path) -> None:
        records = _records()
        data = _write(tmp_path / "a.rrc", records)
        index = read_index(data)
        assert index.status == "valid", index.reason
        assert index.catalog is not None
        stream = b"".join(rc.encode_record(r) for r in records)
        assert index.offset == len(stream)
        assert data.startswith(stream)
        assert_same_catalog(index.catalog, scan_catalog(stream))

    def test_the_tail_is_the_last_32_bytes(self, tmp_path: Path) -> None:
        data = _write(tmp_path / "a.rrc", _records())
        offset, length, magic = struct.unpack_from("<QQ8s", data, len(data) - 32)
        assert magic == INDEX_MAGIC
        assert data[-8:-4] == bytes(4)
        assert offset + length == len(data)
        assert data[offset : offset + 4] == rc.encode_record(_records()[0])[:4]
        assert struct.unpack_from("<BBH", data, offset + 4) == (1, 1, KIND_INDEX)
        assert struct.unpack_from("<I", data, len(data) - 4)[0] == zlib.crc32(data[offset:-4])

    def test_an_empty_sink_writes_only_an_index(self, tmp_path: Path) -> None:
        data = _write(tmp_path / "empty.rrc", [])
        assert read_index(data).status == "valid"
        with open_recording(tmp_path / "empty.rrc") as f:
            assert (f.indexed, len(f)) == (True, 0)

    def test_readers_of_1_0_skip_it_and_read_records_never_yields_it(self, tmp_path: Path) -> None:
        records = _records()
        data = _write(tmp_path / "a.rrc", records)
        assert list(rc.iter_records(data)) == records
        assert list(read_records(tmp_path / "a.rrc")) == records

    def test_background_sink_around_a_file_sink_writes_the_index(self, tmp_path: Path) -> None:
        path = tmp_path / "bg.rrc"
        with BackgroundSink(FileSink(path), max_bytes=1 << 20) as sink:
            for record in _records():
                sink.write(record)
        with open_recording(path) as f:
            assert f.indexed
            assert list(f) == _records()

    def test_a_failed_write_leaves_no_index(self, tmp_path: Path) -> None:
        class Full(io.RawIOBase):
            def __init__(self) -> None:
                self.data = bytearray()

            def writable(self) -> bool:
                return True

            def write(self, b: object) -> int:
                if len(self.data) > 100:
                    raise OSError(28, "No space left on device")
                chunk = bytes(memoryview(b)[:64])  # type: ignore[arg-type]
                self.data += chunk
                return len(chunk)

        target = Full()
        sink = FileSink(target)
        with pytest.raises(OSError, match="No space"):
            sink.write_many(_records())
        sink.close()
        assert read_index(bytes(target.data)).status == "missing"

    def test_a_stream_with_earlier_bytes_gets_a_stale_index(self) -> None:
        stream = io.BytesIO()
        stream.write(rc.encode_record(_records()[0]))
        with FileSink(stream) as sink:
            sink.write(_records()[1])
        assert read_index(stream.getvalue()).status == "stale"


class TestReading:
    def test_indexed_and_scanned_answers_are_the_same(self, tmp_path: Path) -> None:
        data = _write(tmp_path / "a.rrc", _records())
        bare = tmp_path / "bare.rrc"
        lookup = read_index(data)
        bare.write_bytes(data[: lookup.offset])
        with open_recording(tmp_path / "a.rrc") as f, open_recording(bare) as g:
            assert (f.indexed, g.indexed) == (True, False)
            assert_same_catalog(f.catalog, g.catalog)
            assert_same_answers(f, g)

    def test_concatenated_files_read_every_record(self, tmp_path: Path) -> None:
        first = _write(tmp_path / "a.rrc", _records(2))
        second = _write(tmp_path / "b.rrc", _records(3))
        both = tmp_path / "both.rrc"
        both.write_bytes(first + second)
        assert read_index(both.read_bytes()).status == "stale"
        with open_recording(both) as f:
            assert not f.indexed
            assert list(f) == _records(2) + _records(3)
        assert verify(both).count == len(_records(2)) + len(_records(3))
        assert verify(both).index == "stale"

    @pytest.mark.parametrize(("column", "value"), [("entity", 99), ("format", 99), ("timeless", 2)])
    def test_ids_past_their_table_make_the_index_damaged(
        self, tmp_path: Path, column: str, value: int
    ) -> None:
        catalog = scan_catalog(b"".join(rc.encode_record(r) for r in _records()))
        broken = np.array(getattr(catalog, column)).copy()
        broken.view(np.uint8)[0] = value
        bad = Catalog(**{**{k: getattr(catalog, k) for k in _FIELDS}, column: broken})
        stream = b"".join(rc.encode_record(r) for r in _records())
        lookup = read_index(stream + encode_index(bad, len(stream)))
        assert lookup.status == "damaged"
        assert lookup.catalog is None

    def test_rows_pointing_elsewhere_make_the_index_stale(self) -> None:
        stream = b"".join(rc.encode_record(r) for r in _records())
        catalog = scan_catalog(stream)
        shifted = Catalog(
            **{**{k: getattr(catalog, k) for k in _FIELDS}, "offset": catalog.offset + 8}
        )
        lookup = read_index(stream + encode_index(shifted, len(stream)))
        assert lookup.status == "stale"


_FIELDS = (
    "entities",
    "formats",
    "timelines",
    "offset",
    "length",
    "entity",
    "format",
    "log_tick",
    "log_time",
    "timeless",
    "times",
    "has_time",
)


class TestVerifyAndRecover:
    def test_verify_reports_the_index_and_never_counts_it(self, tmp_path: Path) -> None:
        data = _write(tmp_path / "a.rrc", _records())
        report = verify(tmp_path / "a.rrc")
        assert (report.ok, report.count, report.index) == (True, len(_records()), "valid")
        bare = tmp_path / "bare.rrc"
        bare.write_bytes(data[: read_index(data).offset])
        assert (verify(bare).count, verify(bare).index) == (len(_records()), "missing")

    def test_verify_of_a_damaged_index(self, tmp_path: Path) -> None:
        data = bytearray(_write(tmp_path / "a.rrc", _records()))
        data[-40] ^= 1
        bad = tmp_path / "bad.rrc"
        bad.write_bytes(bytes(data))
        report = verify(bad)
        assert (report.ok, report.count, report.index) == (False, len(_records()), "damaged")
        assert report.first_bad_offset == read_index(bytes(data)).offset

    def test_recover_writes_a_fresh_index_and_drops_old_ones(self, tmp_path: Path) -> None:
        first = _write(tmp_path / "a.rrc", _records(2))
        second = _write(tmp_path / "b.rrc", _records(3))
        both = tmp_path / "both.rrc"
        both.write_bytes(first + second[:-10])  # b's last record... and its index torn
        fixed = tmp_path / "fixed.rrc"
        assert recover(both, fixed) == len(_records(2)) + len(_records(3))
        report = verify(fixed)
        assert (report.ok, report.index) == (True, "valid")
        with open_recording(fixed) as f:
            assert f.indexed
            assert list(f) == _records(2) + _records(3)


def _indexed_file(records: list[rc.Record]) -> bytes:
    stream = io.BytesIO()
    with FileSink(stream) as sink:
        for record in records:
            sink.write(record)
    return stream.getvalue()


small_recordings = st.lists(
    st.builds(
        lambda i, n, timeless: rc.make_record(
            f"e/{n}",
            rc.make_depth_msg(np.full((2, 3), i, np.uint16)),
            timepoint=None if timeless else {"frame": ("sequence", i)},
            timeless=timeless,
        ),
        st.integers(0, 100),
        st.integers(0, 2),
        st.booleans(),
    ),
    max_size=5,
)


def _open_bytes(data: bytes) -> tuple[list[rc.Record], bool, tuple[object, ...]]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "x.rrc"
        path.write_bytes(data)
        with open_recording(path) as f:
            summary = (
                f.entities,
                f.timelines,
                f.time_range("frame"),
                list(f.query(timeline="frame", start=10, stop=60)),
                f.latest_at("e/1", "frame", 50),
            )
            return list(f), f.indexed, summary


@given(small_recordings, st.data())
def test_truncating_an_indexed_file_anywhere_gives_the_complete_record_prefix(
    records: list[rc.Record], data: st.DataObject
) -> None:
    full = _indexed_file(records)
    ends = np.cumsum([len(rc.encode_record(r)) for r in records])
    cut = data.draw(st.integers(0, len(full)))
    got, indexed, _ = _open_bytes(full[:cut])
    assert got == records[: int(np.sum(ends <= cut))]
    assert indexed == (cut == len(full))


@given(small_recordings, st.data())
def test_flipping_any_byte_of_the_index_falls_back_to_a_scan_with_the_same_results(
    records: list[rc.Record], data: st.DataObject
) -> None:
    full = _indexed_file(records)
    start = read_index(full).offset
    assert start is not None
    position = data.draw(st.integers(start, len(full) - 1))
    flip = data.draw(st.integers(1, 255))
    damaged = bytearray(full)
    damaged[position] ^= flip
    expected = _open_bytes(full)
    got = _open_bytes(bytes(damaged))
    assert got[1] is False
    assert (got[0], got[2]) == (expected[0], expected[2])


_KINDS = ["sequence", "time"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b/c"]),
            st.lists(
                st.tuples(st.sampled_from(["frame", "t", "z"]), st.sampled_from(_KINDS)),
                max_size=3,
                unique_by=lambda pair: pair[0],
            ),
            st.integers(-(2**62), 2**62),
            st.booleans(),
        ),
        max_size=20,
    )
)
def test_catalog_builder_rows_match_each_record(rows) -> None:
    """Rows of any timelines, in any insertion order, shared or not, give each record's values."""
    builder = CatalogBuilder()
    records = []
    shared = None
    for tick, (path, names, value, share) in enumerate(rows):
        timepoint = {name: (kind, value + i) for i, (name, kind) in enumerate(names)}
        record = rc.make_record(
            path,
            rc.make_image_msg(np.zeros((2, 2), np.uint8)),
            timepoint=timepoint or None,
            timeless=not timepoint,
            log_tick=tick,
            log_time_ns=value,
        )
        if share and shared is not None and not shared.timeless:  # the same mapping object
            record = stamp_record(
                record.entity_path,
                record.msg,
                shared.timepoint,
                timeless=False,
                log_tick=tick,
                log_time_ns=value,
            )
        shared = record
        records.append(record)
        builder.add(8 * tick, 8, record)
    catalog = builder.build()
    assert len(builder) == len(catalog) == len(records)
    kinds: dict[str, str] = {}
    for record in records:
        for name, time in record.timepoint.items():
            kinds.setdefault(name, time.kind)
    assert catalog.timelines == tuple(kinds.items())
    assert catalog.offset.tolist() == [8 * i for i in range(len(records))]
    assert catalog.log_tick.tolist() == [r.log_tick for r in records]
    assert catalog.log_time.tolist() == [r.log_time_ns for r in records]
    assert catalog.timeless.tolist() == [r.timeless for r in records]
    assert [catalog.entities[i] for i in catalog.entity] == [r.entity_path for r in records]
    for index, (name, _) in enumerate(catalog.timelines):
        assert catalog.has_time[index].tolist() == [name in r.timepoint for r in records]
        assert catalog.times[index].tolist() == [
            r.timepoint[name].value if name in r.timepoint else 0 for r in records
        ]
