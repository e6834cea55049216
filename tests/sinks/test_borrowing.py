"""Recordings hand large frames to copy-on-write sinks without copying them first."""

from __future__ import annotations

import numpy as np
import pytest

import rerun_sinks as rr
from rerun_sinks._sinks import copies_on_write

BIG = np.arange(256 * 256 * 3, dtype=np.uint8).reshape(256, 256, 3)  # 192 KiB: borrowed
DEPTH = np.arange(256 * 256, dtype=np.uint16).reshape(256, 256)
SEG = (np.arange(256 * 256) % 300).astype(np.uint16).reshape(256, 256)


class KeepingSink:
    """A sink that keeps the records it is given (so it must not get borrowed pixels)."""

    def __init__(self, copies_on_write: object = False) -> None:
        self.records: list[rr.Record] = []
        self.copies_on_write = copies_on_write

    def write(self, record: rr.Record) -> None:
        self.records.append(record)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _log_all(rec, image: np.ndarray) -> None:
    rec.set_time_sequence("frame", 1)
    rec.log_image("cam", image)
    rec.log_depth_image("depth", DEPTH, meter=1000)
    rec.log_segmentation_image("seg", SEG)


def _clock():
    now = [0]

    def clock() -> int:
        now[0] += 1
        return now[0]

    return clock


def test_the_pixels_go_from_the_callers_array_to_the_file(tmp_path, written_buffers):
    image = BIG.copy()
    rec = rr.new_recording("borrow", strict=True, sink=rr.FileSink(tmp_path / "a.rrc"))
    rec.log_image("cam", image)
    rec.disconnect()
    assert any(np.shares_memory(view, image) for view in written_buffers)


@pytest.mark.parametrize("buffer_bytes", [0, 1 << 20])
def test_borrowed_and_copied_frames_give_the_same_file(tmp_path, buffer_bytes):
    """Unbuffered files borrow; buffered ones copy: the bytes are the same."""
    files = []
    for name, sink_buffer in (("borrowed", 0), ("copied", buffer_bytes or 1 << 30)):
        path = tmp_path / f"{name}.rrc"
        sink = rr.FileSink(path, buffer_bytes=sink_buffer)
        assert sink.copies_on_write is (sink_buffer == 0)
        rec = rr.new_recording("borrow", strict=True, sink=sink, clock=_clock())
        _log_all(rec, BIG)
        rec.disconnect()
        files.append(path.read_bytes())
    assert files[0] == files[1]
    memory = rr.MemorySink()
    rec = rr.new_recording("borrow", strict=True, sink=memory, clock=_clock())
    _log_all(rec, BIG)
    assert len(memory.getvalue()) > 3 * BIG.nbytes // 2
    assert files[0].startswith(memory.getvalue())  # the file: the records, then its index


def test_memory_sink_keeps_its_own_copy_of_a_borrowed_frame():
    image = BIG.copy()
    memory = rr.MemorySink()
    rec = rr.new_recording("borrow", strict=True, sink=memory)
    rec.log_image("cam", image)
    image[:] = 0
    [record] = memory.records
    assert np.array_equal(record.msg.pixels, BIG)


@pytest.mark.parametrize("flag", [False, None, 1, "yes"])
def test_sinks_that_keep_records_get_copies(flag):
    sink = KeepingSink(copies_on_write=flag)
    rec = rr.new_recording("borrow", strict=True, sink=sink)
    _log_all(rec, BIG)
    assert len(sink.records) == 3
    for record, source in zip(sink.records, (BIG, DEPTH, SEG), strict=True):
        assert not np.shares_memory(record.msg.pixels, source)


def test_buffered_files_streams_and_background_sinks_do_not_borrow(tmp_path):
    with open(tmp_path / "s.rrc", "wb") as stream:
        assert not rr.FileSink(stream).copies_on_write
    assert not rr.FileSink(tmp_path / "b.rrc", buffer_bytes=1024).copies_on_write
    assert not copies_on_write(rr.BackgroundSink(rr.MemorySink()))
    assert copies_on_write(rr.TeeSink(rr.MemorySink(), rr.FileSink(tmp_path / "t.rrc")))
    assert not copies_on_write(rr.TeeSink(rr.MemorySink(), KeepingSink()))


def test_a_sink_replaced_while_the_frame_is_built_gets_a_copy():
    keeping = KeepingSink()

    class SwapsSinkWhenRead:
        """An array-like whose conversion replaces the recording's sink (another thread's move)."""

        def __array__(self, dtype=None, copy=None):
            rec.set_sink(keeping)
            return BIG

    rec = rr.new_recording("borrow", strict=True, sink=rr.MemorySink())
    rec.log_image("cam", SwapsSinkWhenRead())
    [record] = keeping.records
    assert not np.shares_memory(record.msg.pixels, BIG)
    assert np.array_equal(record.msg.pixels, BIG)


def test_mcap_sink_takes_borrowed_frames_and_writes_the_same_file(tmp_path):
    """McapSink copies on write; the file equals one written from copies (a KeepingSink's)."""
    pytest.importorskip("foxglove")
    borrowed, copied = tmp_path / "borrowed.mcap", tmp_path / "copied.mcap"
    rec = rr.new_recording("borrow", strict=True, sink=rr.McapSink(borrowed), clock=_clock())
    assert copies_on_write(rec._sink)
    _log_all(rec, BIG)
    rec.disconnect()
    keeping = KeepingSink()
    rec = rr.new_recording("borrow", strict=True, sink=keeping, clock=_clock())
    _log_all(rec, BIG)
    with rr.McapSink(copied) as sink:
        for record in keeping.records:
            sink.write(record)
    assert borrowed.read_bytes() == copied.read_bytes()


def test_mcap_sink_copies_a_timeless_frame_it_keeps_for_later(tmp_path):
    pytest.importorskip("foxglove")
    image = BIG.copy()
    path = tmp_path / "a.mcap"
    rec = rr.new_recording("borrow", strict=True, sink=rr.McapSink(path))
    rec.log_image("cam", image, timeless=True)  # waits for the first timed record
    image[:] = 0
    rec.set_time_sequence("frame", 1)
    rec.log_depth_image("depth", DEPTH)
    rec.disconnect()
    first = next(iter(rr.read_records(path)))
    assert first.timeless
    assert np.array_equal(first.msg.pixels, BIG)
