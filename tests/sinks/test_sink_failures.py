"""A sink that fails (a full disk): lost records are counted, and the error names the file."""

from __future__ import annotations

import contextlib
import errno
import os

import numpy as np
import pytest

import rerun_core as rc
import rerun_sinks as rr

FULL = "/dev/full"  # every write fails with ENOSPC, like a full disk
needs_dev_full = pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full (Linux)")


class FailingSink(rr.MemorySink):
    """Accepts the first ``ok`` records, then fails every write like a full disk."""

    def __init__(self, ok: int) -> None:
        super().__init__()
        self.ok = ok

    def write(self, record: rc.Record) -> None:
        if len(self.records) >= self.ok:
            raise OSError(errno.ENOSPC, "No space left on device", "disk.rrc")
        super().write(record)


def _log(rec: rr.RecordingStream, count: int) -> None:
    for index in range(count):
        rec.log_image("cam", np.full((4, 5, 3), index, np.uint8))


@pytest.mark.parametrize("inner", ["write", "write_many"])
def test_records_lost_to_a_failing_sink_are_counted_apart_from_dropped(
    inner: str, tmp_path
) -> None:
    sink = FailingSink(ok=2) if inner == "write" else rr.FileSink(FULL)
    if inner == "write_many" and not os.path.exists(FULL):
        pytest.skip("needs /dev/full (Linux)")
    background = rr.BackgroundSink(sink)
    rec = rr.new_recording("app", sink=background)
    _log(rec, 5)
    with pytest.raises(OSError, match="No space left"):
        rec.flush()
    lost = 3 if inner == "write" else 5
    stats = rec.stats
    assert (stats.logged, stats.dropped) == (5, 0)
    assert stats.sink_dropped_records == background.failed_records == lost
    assert stats.sink_dropped_bytes == background.failed_bytes > 0
    assert background.dropped_records == 0
    with contextlib.suppress(OSError):  # closing flushes the failed sink again
        rec.disconnect()


@needs_dev_full
def test_file_sink_os_error_names_the_file() -> None:
    sink = rr.FileSink(FULL)
    record = rc.make_record("cam", rc.make_image_msg(np.zeros((4, 5, 3), np.uint8)))
    with pytest.raises(OSError, match="No space left on device: '/dev/full'") as caught:
        sink.write(record)
    assert caught.value.filename == FULL
    sink.close()
