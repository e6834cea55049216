"""MemorySink, FileSink and TeeSink: bytes, lifecycle, determinism."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rerun_core as rc
import rerun_sinks as rr
from rerun_core import strategies as rcst
from rerun_core.catalog import read_index


def log_records(data: bytes) -> bytes:
    """The log records of a FileSink's output: everything before its closing index."""
    index = read_index(data)
    assert index.status == "valid", index.reason
    assert index.offset is not None
    return data[: index.offset]


def some_records(count: int = 4) -> list[rc.Record]:
    rng = np.random.default_rng(0)
    msgs = [
        rc.make_image_msg(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)),
        rc.make_depth_msg(rng.random((8, 8)).astype(np.float32)),
        rc.make_segmentation_msg(np.arange(16, dtype=np.uint16).reshape(4, 4) * 1000),
        rc.make_annotation_context_msg([(1, "a")]),
    ]
    return [
        rc.make_record(f"e/{i}", msgs[i % len(msgs)], log_tick=i, log_time_ns=i * 10)
        for i in range(count)
    ]


class TestMemorySink:
    def test_records_and_getvalue(self):
        records = some_records()
        sink = rr.MemorySink()
        for record in records:
            sink.write(record)
        assert sink.records == records
        assert sink.getvalue() == b"".join(rc.encode_record(r) for r in records)
        assert list(rc.iter_records(sink.getvalue())) == records

    @given(st.lists(rcst.records(), max_size=8), st.integers(0, 8))
    def test_any_records_encoded_as_written(self, records, reset_at):
        """Each record is encoded as it comes; getvalue between writes sees the prefix."""
        sink, kept = rr.MemorySink(), []
        for index, record in enumerate(records):
            if index == reset_at:
                sink.reset_data()
                kept = []
                assert sink.getvalue() == b""
            sink.write(record)
            kept.append(record)
        assert sink.getvalue() == b"".join(rc.encode_record(r) for r in kept)
        assert sink.records == kept

    def test_getvalue_then_more_writes(self):
        records = some_records(4)
        sink = rr.MemorySink()
        sink.write(records[0])
        first = sink.getvalue()
        sink.write(records[1])
        assert first == rc.encode_record(records[0])  # an earlier value never changes
        assert sink.getvalue() == first + rc.encode_record(records[1])
        pixels = sink.records[0].msg.pixels
        sink.write(records[2])
        assert not pixels.flags.writeable
        assert sink.records == records[:3]

    def test_records_is_a_copy(self):
        sink = rr.MemorySink()
        sink.records.append(some_records(1)[0])
        assert sink.records == []

    def test_close_keeps_the_records_readable(self):
        [record] = some_records(1)
        with rr.MemorySink() as sink:
            sink.write(record)
        sink.close()
        assert sink.records == [record]
        with pytest.raises(rr.SinkClosedError, match="closed"):
            sink.write(record)
        with pytest.raises(rr.SinkClosedError):
            sink.flush()


class TestFileSink:
    def test_bytes_equal_the_memory_stream(self, tmp_path):
        records = some_records(8)
        memory, path = rr.MemorySink(), tmp_path / "a.rrc"
        with rr.FileSink(path) as sink:
            for record in records:
                sink.write(record)
                memory.write(record)
            sink.flush()
            assert path.read_bytes() == memory.getvalue()
        assert log_records(path.read_bytes()) == memory.getvalue()

    def test_write_many_makes_one_system_call_per_1024_buffers(self, tmp_path, monkeypatch):
        real_pwritev = os.pwritev
        calls: list[int] = []

        def counting_pwritev(fd, buffers, offset):
            calls.append(len(buffers))
            return real_pwritev(fd, buffers, offset)

        monkeypatch.setattr(os, "pwritev", counting_pwritev)
        records = some_records(400)  # about 3 buffers per record: more than one call's worth
        path = tmp_path / "a.rrc"
        with rr.FileSink(path) as sink:
            sink.write_many(records[:2])
            sink.write_many(records[2:])
            sink.write_many([])
        assert log_records(path.read_bytes()) == b"".join(rc.encode_record(r) for r in records)
        assert len(calls) == 4  # 2 records; 398 records: 1024 buffers + the rest; the index
        assert max(calls) == 1024

    def test_creates_and_truncates(self, tmp_path):
        path = tmp_path / "a.rrc"
        path.write_bytes(b"x" * 1000)
        with rr.FileSink(str(path)) as sink:
            assert path.read_bytes() == b""
            sink.write(some_records(1)[0])
        assert log_records(path.read_bytes()) == rc.encode_record(some_records(1)[0])
        assert sink.path == str(path)

    def test_missing_directory_raises(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            rr.FileSink(tmp_path / "missing" / "a.rrc")

    def test_stream_is_written_and_never_closed(self):
        records = some_records()
        stream = io.BytesIO()
        with rr.FileSink(stream) as sink:
            for record in records:
                sink.write(record)
            sink.flush()
        assert not stream.closed
        assert log_records(stream.getvalue()) == b"".join(rc.encode_record(r) for r in records)
        assert sink.path is None

    def test_short_writes_of_raw_streams_are_resumed(self):
        class Trickle(io.RawIOBase):
            def __init__(self) -> None:
                self.data = bytearray()

            def writable(self) -> bool:
                return True

            def write(self, b) -> int:
                chunk = bytes(memoryview(b)[:7])
                self.data += chunk
                return len(chunk)

        [record] = some_records(1)
        target = Trickle()
        rr.FileSink(target).write(record)
        assert bytes(target.data) == rc.encode_record(record)

    def test_partial_os_writes_are_resumed(self, tmp_path, monkeypatch):
        real_pwritev = os.pwritev

        def short_pwritev(fd, buffers, offset):
            first = memoryview(buffers[0])[: max(1, len(buffers[0]) // 2)]
            return real_pwritev(fd, [first], offset)

        monkeypatch.setattr(os, "pwritev", short_pwritev)
        records = some_records(3)
        path = tmp_path / "a.rrc"
        with rr.FileSink(path) as sink:
            for record in records:
                sink.write(record)
            sink.write_many(records)
        expected = b"".join(rc.encode_record(r) for r in records * 2)
        assert log_records(path.read_bytes()) == expected

    def test_one_os_write_per_buffer_without_writev(self, tmp_path, monkeypatch):
        real_write = os.write

        def short_write(fd, data):
            return real_write(fd, memoryview(data)[: max(1, len(data) // 2)])

        monkeypatch.delattr(os, "pwritev")  # as on Windows: neither call exists
        monkeypatch.delattr(os, "writev")
        monkeypatch.setattr(os, "write", short_write)
        records = some_records(1100)  # more buffers than one writev call may take
        path = tmp_path / "a.rrc"
        with rr.FileSink(path) as sink:
            sink.write(records[0])
            sink.write_many(records)
        expected = b"".join(rc.encode_record(r) for r in [records[0], *records])
        assert log_records(path.read_bytes()) == expected

    def test_partial_writes_are_resumed_without_pwritev(self, tmp_path, monkeypatch):
        real_writev = os.writev

        def short_writev(fd, buffers):
            first = memoryview(buffers[0])[: max(1, len(buffers[0]) // 2)]
            return real_writev(fd, [first])

        monkeypatch.delattr(os, "pwritev")  # as on systems without it
        monkeypatch.setattr(os, "writev", short_writev)
        records = some_records(3)
        path = tmp_path / "a.rrc"
        with rr.FileSink(path) as sink:
            for record in records:
                sink.write(record)
        assert log_records(path.read_bytes()) == b"".join(rc.encode_record(r) for r in records)

    @pytest.mark.parametrize("call", ["pwritev", "writev"])
    def test_a_file_that_takes_no_bytes_raises(self, tmp_path, monkeypatch, call):
        if call == "writev":
            monkeypatch.delattr(os, "pwritev")
        monkeypatch.setattr(os, call, lambda fd, buffers, *offset: 0)
        with rr.FileSink(tmp_path / "a.rrc") as sink, pytest.raises(OSError, match="took none"):
            sink.write(some_records(1)[0])

    def test_works_without_os_writev(self, tmp_path, monkeypatch):
        real_write = os.write
        sizes: list[int] = []

        def short_write(fd, data):
            sizes.append(len(data))
            return real_write(fd, memoryview(data)[: max(1, len(data) // 2)])

        monkeypatch.delattr(os, "pwritev")  # as on Windows
        monkeypatch.delattr(os, "writev")
        monkeypatch.setattr(os, "write", short_write)
        records = some_records(3)
        path = tmp_path / "a.rrc"
        with rr.FileSink(path) as sink:
            sink.write_many(records)
        assert log_records(path.read_bytes()) == b"".join(rc.encode_record(r) for r in records)
        assert len(sizes) > 3 * len(records)  # one buffer at a time, short writes resumed

    @pytest.mark.parametrize("target", [io.StringIO(), 42, None])
    def test_text_streams_and_other_objects_are_rejected(self, target):
        with pytest.raises(TypeError, match="binary stream"):
            rr.FileSink(target)

    def test_close_is_idempotent_and_final(self, tmp_path):
        sink = rr.FileSink(tmp_path / "a.rrc")
        sink.close()
        sink.close()
        with pytest.raises(rr.SinkClosedError, match="closed"):
            sink.write(some_records(1)[0])
        with pytest.raises(rr.SinkClosedError):
            sink.flush()

    @settings(max_examples=20)
    @given(st.lists(rcst.records(), max_size=4))
    def test_any_records_round_trip(self, records):
        stream = io.BytesIO()
        sink = rr.FileSink(stream)
        for record in records:
            sink.write(record)
        assert list(rc.iter_records(stream.getvalue())) == records


class TestTeeSink:
    def test_fans_out(self, tmp_path):
        memory, stream = rr.MemorySink(), io.BytesIO()
        records = some_records()
        with rr.TeeSink(memory, rr.FileSink(stream)) as tee:
            for record in records:
                tee.write(record)
            tee.flush()
        assert memory.records == records
        assert log_records(stream.getvalue()) == memory.getvalue()
        with pytest.raises(rr.SinkClosedError):
            memory.write(records[0])
        tee.close()
        with pytest.raises(rr.SinkClosedError):
            tee.write(records[0])
        with pytest.raises(rr.SinkClosedError):
            tee.flush()

    def test_every_sink_gets_the_record_before_an_error_is_raised(self):
        broken, healthy = rr.MemorySink(), rr.MemorySink()
        broken.close()
        tee = rr.TeeSink(broken, healthy)
        with pytest.raises(rr.SinkClosedError):
            tee.write(some_records(1)[0])
        assert len(healthy.records) == 1

    def test_needs_sinks(self):
        with pytest.raises(TypeError, match="at least one"):
            rr.TeeSink()
        with pytest.raises(TypeError, match="write"):
            rr.TeeSink(rr.MemorySink(), "not a sink")


def _record_session(path, clock_start: int) -> None:
    now = [clock_start]

    def clock() -> int:
        now[0] += 7
        return now[0]

    rec = rr.new_recording("app", clock=clock)
    rec.log_annotation_context("/", [(1, "box", (255, 0, 0))])
    for frame in range(5):
        rec.set_time_sequence("frame", frame)
        rec.set_time_seconds("sim", frame / 30)
        rec.log_image("cam", np.full((8, 8, 3), frame, np.uint8), ext={"frame": frame})
        rec.log_depth_image("depth", np.full((8, 8), frame, np.uint16))
    rec.save(path)
    rec.flush()
    rec.disconnect()


def test_same_records_and_clock_give_identical_files(tmp_path):
    _record_session(tmp_path / "a.rrc", 0)
    _record_session(tmp_path / "b.rrc", 0)
    _record_session(tmp_path / "c.rrc", 1)
    assert (tmp_path / "a.rrc").read_bytes() == (tmp_path / "b.rrc").read_bytes()
    assert (tmp_path / "a.rrc").read_bytes() != (tmp_path / "c.rrc").read_bytes()


def test_pixels_go_to_the_file_without_a_copy(tmp_path, written_buffers):
    [record] = some_records(1)
    with rr.FileSink(tmp_path / "a.rrc") as sink:
        sink.write(record)
    assert any(np.shares_memory(view, record.msg.pixels) for view in written_buffers)


def test_memory_sink_reset_data_forgets_records():
    """Legacy MemoryRecording.reset_data() raised AttributeError; here it works."""
    rec = rr.new_recording("reset", strict=True)
    memory = rec.memory_recording()
    rec.log_image("a", np.zeros((2, 2), np.uint8))
    memory.reset_data()
    assert memory.records == []
    assert memory.getvalue() == b""
    rec.log_image("b", np.zeros((2, 2), np.uint8))
    assert [r.entity_path for r in memory.records] == [("b",)]
