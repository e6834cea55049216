"""FileSink(buffer_bytes=N): the same bytes as unbuffered, and exactly the documented loss."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
import rerun_sinks as rr
from rerun_core import strategies as rcst


def _records(count: int, side: int = 8) -> list[rc.Record]:
    frame = np.arange(side * side * 3, dtype=np.uint8).reshape(side, side, 3)
    return [
        rc.make_record(
            "cam", rc.make_image_msg(frame), timepoint={"frame": ("sequence", i)}, log_tick=i + 1
        )
        for i in range(count)
    ]


def _write(target: Path | io.BytesIO, records: list[rc.Record], plan: list[int], **kw: int) -> None:
    """Write ``records`` through a FileSink: ``write`` one by one, or ``write_many`` runs."""
    with rr.FileSink(target, **kw) as sink:
        start = 0
        for size in plan:
            batch = records[start : start + size]
            if len(batch) == 1:
                sink.write(batch[0])
            elif batch:
                sink.write_many(batch)
            start += size
        for record in records[start:]:
            sink.write(record)
            if record.log_tick % 7 == 3:
                sink.flush()


@given(
    records=st.lists(rcst.records(), max_size=12),
    plan=st.lists(st.integers(1, 4), max_size=4),
    buffer_bytes=st.sampled_from([1, 64, 500, 4096, 1 << 20]),
)
def test_buffered_and_unbuffered_files_are_byte_identical(
    tmp_path_factory: pytest.TempPathFactory,
    records: list[rc.Record],
    plan: list[int],
    buffer_bytes: int,
) -> None:
    folder = tmp_path_factory.mktemp("buffer")
    _write(folder / "plain.rrc", records, plan)
    _write(folder / "buffered.rrc", records, plan, buffer_bytes=buffer_bytes)
    stream = io.BytesIO()
    _write(stream, records, plan, buffer_bytes=buffer_bytes)
    plain = (folder / "plain.rrc").read_bytes()
    assert (folder / "buffered.rrc").read_bytes() == plain
    assert stream.getvalue() == plain


def test_records_wait_in_the_buffer_until_it_fills(tmp_path: Path) -> None:
    records = _records(10)
    size = len(rc.encode_record(records[0]))
    path = tmp_path / "b.rrc"
    sink = rr.FileSink(path, buffer_bytes=3 * size)
    for record in records[:2]:
        sink.write(record)
    assert path.stat().st_size == 0  # 2 records: less than buffer_bytes
    sink.write(records[2])  # reaches buffer_bytes: written with the buffered ones
    assert path.stat().st_size == 3 * size
    sink.write(records[3])
    sink.flush()  # writes the buffer, then fsync
    assert path.stat().st_size == 4 * size
    sink.close()
    assert list(rr.read_records(path)) == records[:4]


def test_an_unbuffered_sink_writes_each_record_as_it_comes(tmp_path: Path) -> None:
    records = _records(2)
    path = tmp_path / "u.rrc"
    with rr.FileSink(path) as sink:
        sink.write(records[0])
        assert path.stat().st_size == len(rc.encode_record(records[0]))
        assert sink.buffer_bytes == 0


def _child(path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        import os, numpy as np, rerun_core as rc, rerun_sinks as rr
        frame = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
        def record(i):
            return rc.make_record(
                "cam", rc.make_image_msg(frame), timepoint={{"frame": ("sequence", i)}}
            )
        size = len(rc.encode_record(record(0)))
        path = {str(path)!r}
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("buffer_records", [1, 3, 10])
def test_a_killed_buffered_writer_loses_only_the_buffered_records(
    tmp_path: Path, buffer_records: int
) -> None:
    """os._exit skips every flush: what was not written yet (< buffer_bytes) is lost."""
    path = tmp_path / "killed.rrc"
    logged = 23
    done = _child(
        path,
        f"""
        sink = rr.FileSink(path, buffer_bytes={buffer_records} * size + 1)
        for i in range({logged}):
            sink.write(record(i))
        print(size, flush=True)
        os._exit(0)
        """,
    )
    assert done.returncode == 0, done.stderr
    size = int(done.stdout)
    kept = logged - logged % (buffer_records + 1)  # written whenever a buffer filled
    report = rr.verify(path)
    assert (report.ok, report.count, report.size) == (True, kept, kept * size)
    assert report.index == "missing"
    assert logged - report.count <= buffer_records  # lost: fewer than buffer_bytes of records
    fixed = tmp_path / "fixed.rrc"
    assert rr.recover(path, fixed) == kept
    assert [r.timepoint["frame"].value for r in rr.read_records(fixed)] == list(range(kept))


def test_interpreter_exit_flushes_an_open_buffered_sink(tmp_path: Path) -> None:
    path = tmp_path / "exit.rrc"
    done = _child(
        path,
        """
        sink = rr.FileSink(path, buffer_bytes=1 << 20)
        for i in range(5):
            sink.write(record(i))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert [r.timepoint["frame"].value for r in rr.read_records(path)] == list(range(5))
    assert rr.verify(path).index == "missing"  # flushed, not closed


def test_save_does_not_buffer(tmp_path: Path) -> None:
    rec = rr.new_recording("t", strict=True)
    rec.save(tmp_path / "s.rrc")
    rec.log_image("cam", np.zeros((4, 4, 3), np.uint8))
    assert (tmp_path / "s.rrc").stat().st_size > 0
    rec.disconnect()


def test_save_buffers_when_asked(tmp_path: Path) -> None:
    rec = rr.new_recording("t", strict=True)
    rec.save(tmp_path / "s.rrc", buffer_bytes=1 << 20)
    rec.log_image("cam", np.zeros((4, 4, 3), np.uint8))
    assert (tmp_path / "s.rrc").stat().st_size == 0  # in the buffer
    rec.flush()
    assert len(list(rr.read_records(tmp_path / "s.rrc"))) == 1
    rec.disconnect()


def test_the_facade_save_takes_buffer_bytes(tmp_path: Path) -> None:
    rr.init("t", strict=True)
    rr.save(tmp_path / "s.rrc", buffer_bytes=4096)
    rr.log_image("cam", np.zeros((4, 4, 3), np.uint8))
    assert (tmp_path / "s.rrc").stat().st_size == 0
    rr.disconnect()
    assert len(list(rr.read_records(tmp_path / "s.rrc"))) == 1


@pytest.mark.parametrize("name", ["s.mcap", "s.rrd"])
def test_buffer_bytes_is_for_rrc_files_only(tmp_path: Path, name: str) -> None:
    rec = rr.new_recording("t", strict=True)
    with pytest.raises(rc.InvalidArgumentError, match=r"buffer_bytes=4096 is for \.rrc files"):
        rec.save(tmp_path / name, buffer_bytes=4096)
    assert not (tmp_path / name).exists()


def test_save_rejects_a_bad_buffer_size(tmp_path: Path) -> None:
    rec = rr.new_recording("t", strict=True)
    with pytest.raises(rc.InvalidArgumentError, match="buffer_bytes"):
        rec.save(tmp_path / "s.rrc", buffer_bytes=-1)


class _FailingStream(io.RawIOBase):
    def __init__(self) -> None:
        self.calls = 0

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        self.calls += 1
        raise OSError(28, "No space left on device")


def test_a_failed_buffered_write_raises_from_the_call_that_wrote() -> None:
    records = _records(3)
    size = len(rc.encode_record(records[0]))
    stream = _FailingStream()
    sink = rr.FileSink(stream, buffer_bytes=2 * size)
    sink.write(records[0])  # buffered: nothing written yet
    assert stream.calls == 0
    with pytest.raises(OSError, match="No space left"):
        sink.write(records[1])  # fills the buffer: the write fails here
    sink.write(records[2])  # the failed records are gone; this one waits in the buffer
    with pytest.raises(OSError, match="No space left"):
        sink.flush()
    sink.close()  # nothing buffered any more, no index after a failure


def test_writes_after_close_are_refused_and_close_writes_the_buffer(tmp_path: Path) -> None:
    records = _records(2)
    path = tmp_path / "c.rrc"
    sink = rr.FileSink(path, buffer_bytes=1 << 20)
    sink.write(records[0])
    sink.close()
    sink.close()
    with pytest.raises(rr.SinkClosedError):
        sink.write(records[1])
    assert list(rr.read_records(path)) == records[:1]
    assert rr.verify(path).index == "valid"
    assert os.path.getsize(path) > len(rc.encode_record(records[0]))
