"""FileSink.write_ordered: a place in the file now, the bytes later, in order on disk."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import rerun_core as rc
import rerun_sinks as rr


def _records(count: int) -> list[rc.Record]:
    frame = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    return [
        rc.make_record(
            "cam", rc.make_image_msg(frame), timepoint={"frame": ("sequence", i)}, log_tick=i + 1
        )
        for i in range(count)
    ]


def test_writes_finished_out_of_order_land_in_reservation_order(tmp_path: Path) -> None:
    records = _records(3)
    path = tmp_path / "o.rrc"
    with rr.FileSink(path) as sink:
        finishers = [sink.write_ordered(record) for record in records]
        for finish in reversed(finishers):
            finish()
    assert list(rr.read_records(path)) == records
    assert rr.verify(path).index == "valid"


def test_a_later_record_written_before_an_earlier_one_is_recoverable(tmp_path: Path) -> None:
    """What a killed process may leave: the earlier record's bytes missing, the later intact."""
    first, second = _records(2)
    size = len(rc.encode_record(first))
    path = tmp_path / "torn.rrc"
    sink = rr.FileSink(path)
    finish_first = sink.write_ordered(first)
    sink.write_ordered(second)()
    report = rr.verify(path)
    assert (report.count, report.first_bad_offset, report.damaged_bytes) == (1, 0, size)
    assert rr.recover(path, tmp_path / "fixed.rrc") == 1
    assert list(rr.read_records(tmp_path / "fixed.rrc")) == [second]
    finish_first()
    sink.close()
    assert list(rr.read_records(path)) == [first, second]


def test_flush_and_close_wait_for_the_writes_in_flight(tmp_path: Path) -> None:
    [record] = _records(1)
    path = tmp_path / "w.rrc"
    sink = rr.FileSink(path)
    finish = sink.write_ordered(record)
    flushed = threading.Event()
    flusher = threading.Thread(target=lambda: (sink.flush(), flushed.set()))
    flusher.start()
    assert not flushed.wait(0.2)  # blocked: one write is in flight
    finish()
    flusher.join(10)
    assert flushed.is_set()
    assert path.stat().st_size == len(rc.encode_record(record))
    sink.close()
    assert list(rr.read_records(path)) == [record]


def test_a_failed_write_raises_from_the_log_call_and_is_not_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = rr.new_recording("t", strict=True)
    rec.save(tmp_path / "f.rrc")
    rec.log_image("cam", np.zeros((4, 4, 3), np.uint8))

    def full(fd: int, buffers: object, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwritev", full)
    with pytest.raises(OSError, match="No space left on device") as caught:
        rec.log_image("cam", np.zeros((4, 4, 3), np.uint8))
    assert caught.value.filename == str(tmp_path / "f.rrc")
    assert rec.stats.logged == 1
    monkeypatch.undo()
    rec.disconnect()  # no index after a failed write: readers scan
    assert rr.verify(tmp_path / "f.rrc").index == "missing"


def test_threads_logging_to_one_file_keep_tick_order(tmp_path: Path) -> None:
    rec = rr.new_recording("t", strict=True)
    path = tmp_path / "t.rrc"
    rec.save(path)
    barrier = threading.Barrier(4)

    def work(index: int) -> None:
        barrier.wait()
        for step in range(100):
            rec.set_time_sequence("step", step)
            rec.log_image(f"t{index}", np.full((16, 16, 3), step, np.uint8))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rec.disconnect()
    records = list(rr.read_records(path))
    assert [r.log_tick for r in records] == list(range(400))
    assert rr.verify(path).index == "valid"
    for index in range(4):
        mine = [r for r in records if r.entity_path == (f"t{index}",)]
        assert [int(r.msg.pixels[0, 0, 0]) for r in mine] == list(range(100))
