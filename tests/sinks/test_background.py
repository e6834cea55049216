"""BackgroundSink: bounded memory, drop policies, flush/close semantics, exit flush."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import warnings
import weakref

import numpy as np
import pytest

import rerun_core as rc
import rerun_sinks as rr
from rerun_sinks._sinks import record_nbytes

IMAGE = rc.make_image_msg(np.zeros((32, 32, 3), np.uint8))  # 3 KiB of pixels


def record(tick: int) -> rc.Record:
    return rc.make_record("cam", IMAGE, log_tick=tick)


RECORD_SIZE = record_nbytes(record(0))


class GatedSink(rr.MemorySink):
    """A sink whose writes wait for a gate (or take ``delay`` seconds)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.gate = threading.Event()
        self.entered = threading.Event()  # set once a write reached the gate
        self.flushes = 0
        if delay:
            self.gate.set()

    def write(self, record: rc.Record) -> None:
        self.entered.set()
        self.gate.wait()
        threading.Event().wait(self.delay)
        super().write(record)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


class FailingSink(rr.MemorySink):
    def write(self, record: rc.Record) -> None:
        msg = "disk full"
        raise OSError(msg)


def write_records(sink: rr.Sink, count: int) -> None:
    for tick in range(count):
        sink.write(record(tick))


class BatchSink(GatedSink):
    """A gated sink that also takes batches, remembering their sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def write_many(self, records: list[rc.Record]) -> None:
        self.entered.set()
        self.gate.wait()
        self.batches.append(len(records))
        for item in records:
            rr.MemorySink.write(self, item)


def test_record_size_counts_pixels():
    assert IMAGE.pixels.nbytes <= RECORD_SIZE


def test_block_keeps_every_record_and_bounds_memory():
    inner = GatedSink(delay=0.001)
    max_bytes = 3 * RECORD_SIZE + 10
    with rr.BackgroundSink(inner, max_bytes=max_bytes) as sink:
        for tick in range(60):
            sink.write(record(tick))
        sink.flush()
        assert [r.log_tick for r in inner.records] == list(range(60))
        assert sink.dropped_records == sink.dropped_bytes == 0
        assert sink.queued_bytes == 0
        assert RECORD_SIZE < sink.peak_queued_bytes <= max_bytes


@pytest.mark.parametrize("policy", ["drop_newest", "drop_oldest"])
def test_drop_policies_count_drops_and_bound_memory(policy):
    inner = GatedSink()
    max_bytes = 4 * RECORD_SIZE
    sink = rr.BackgroundSink(inner, max_bytes=max_bytes, policy=policy)
    with pytest.warns(rr.RerunWarning, match="dropped") as caught:
        write_records(sink, 50)
    assert len(caught) == 1
    inner.gate.set()
    sink.close()
    written = [r.log_tick for r in inner.records]
    assert len(written) + sink.dropped_records == 50
    assert sink.dropped_bytes == sink.dropped_records * RECORD_SIZE
    assert sink.peak_queued_bytes <= max_bytes + RECORD_SIZE
    assert written == sorted(written)
    if policy == "drop_newest":
        assert written[:4] == [0, 1, 2, 3]
    else:
        assert written[-3:] == [47, 48, 49]


@pytest.mark.parametrize("policy", ["block", "drop_newest", "drop_oldest"])
def test_a_record_bigger_than_max_bytes_is_accepted_alone(policy):
    inner = GatedSink(delay=0.001)
    with rr.BackgroundSink(inner, max_bytes=10, policy=policy) as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore", rr.RerunWarning)  # drops are tested above
        for tick in range(5):
            sink.write(record(tick))
        sink.flush()
        if policy == "block":
            assert len(inner.records) == 5
        assert sink.peak_queued_bytes <= 10 + RECORD_SIZE
        assert len(inner.records) + sink.dropped_records == 5


def test_queued_records_reach_a_batching_sink_in_batches_and_in_order():
    inner = BatchSink()
    sink = rr.BackgroundSink(inner)
    write_records(sink, 1)
    assert inner.entered.wait(timeout=60)  # the writer took it and waits at the gate
    write_records(sink, 300)
    inner.gate.set()
    sink.close()
    assert [r.log_tick for r in inner.records] == [0, *range(300)]
    assert sum(inner.batches) == 301
    assert max(inner.batches) == 256  # the queue is handed over up to 256 records at a time
    assert len(inner.batches) < 10


class ForgetfulSink:
    """Writes nothing anywhere and keeps no record (with or without ``write_many``)."""

    def write(self, record: rc.Record) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class ForgetfulBatchSink(ForgetfulSink):
    def write_many(self, records: list[rc.Record]) -> None:
        pass


@pytest.mark.parametrize("inner", [ForgetfulSink, ForgetfulBatchSink])
def test_written_records_are_released_before_their_bytes_leave_the_count(inner):
    # the bound max_bytes + one frame holds only if the writer thread keeps no reference
    # to records whose bytes it no longer counts
    sink = rr.BackgroundSink(inner())
    assert write_and_wait_until_written(sink, 20) == [None] * 20
    sink.close()


def write_and_wait_until_written(sink: rr.BackgroundSink, count: int) -> list[object]:
    """Write ``count`` records, wait until none is counted, return what is left of each."""
    refs = []
    for tick in range(count):
        item = record(tick)
        refs.append(weakref.ref(item))
        sink.write(item)
        del item
    deadline = time.monotonic() + 10
    while sink.queued_bytes and time.monotonic() < deadline:
        time.sleep(0.001)
    assert sink.queued_bytes == 0
    return [ref() for ref in refs]


def test_a_sink_without_write_many_gets_every_record_in_order():
    inner = GatedSink()
    sink = rr.BackgroundSink(inner)
    write_records(sink, 50)
    inner.gate.set()
    sink.flush()
    assert [r.log_tick for r in inner.records] == list(range(50))
    sink.close()


def test_flush_waits_for_every_record_and_flushes_the_inner_sink():
    inner = GatedSink(delay=0.002)
    sink = rr.BackgroundSink(inner)
    for tick in range(20):
        sink.write(record(tick))
    sink.flush()
    assert len(inner.records) == 20
    assert inner.flushes == 1
    sink.flush()
    assert inner.flushes == 2
    sink.close()


def test_flush_from_many_threads_while_writing():
    inner = GatedSink(delay=0.0005)
    sink = rr.BackgroundSink(inner, max_bytes=5 * RECORD_SIZE)
    errors: list[BaseException] = []

    def work(base: int) -> None:
        try:
            for tick in range(base, base + 30):
                sink.write(record(tick))
                if tick % 10 == 0:
                    sink.flush()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i * 100,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    assert errors == []
    assert len(inner.records) == 120


def test_close_flushes_closes_the_inner_sink_and_is_idempotent():
    inner = GatedSink(delay=0.001)
    sink = rr.BackgroundSink(inner)
    for tick in range(10):
        sink.write(record(tick))
    sink.close()
    sink.close()
    assert len(inner.records) == 10
    with pytest.raises(rr.SinkClosedError):
        inner.write(record(0))
    with pytest.raises(rr.SinkClosedError, match="closed"):
        sink.write(record(0))
    with pytest.raises(rr.SinkClosedError):
        sink.flush()


def test_inner_errors_are_raised_by_the_next_flush_and_close():
    sink = rr.BackgroundSink(FailingSink())
    sink.write(record(0))
    with pytest.raises(OSError, match="disk full"):
        sink.flush()
    sink.flush()  # reported once
    sink.write(record(1))
    with pytest.raises(OSError, match="disk full"):
        sink.close()
    with pytest.raises(rr.SinkClosedError):
        sink.write(record(2))


class PickySink(GatedSink):
    """Fails to write the record with tick 3 only."""

    def write(self, record: rc.Record) -> None:
        if record.log_tick == 3:
            msg = "cannot write tick 3"
            raise OSError(msg)
        super().write(record)


def test_a_failed_write_loses_only_its_record():
    inner = PickySink()
    sink = rr.BackgroundSink(inner)
    write_records(sink, 1)  # the writer takes it and waits at the gate
    write_records(sink, 10)  # so ticks 0..9 arrive as one batch
    inner.gate.set()
    with pytest.raises(OSError, match="tick 3"):
        sink.flush()
    assert [r.log_tick for r in inner.records] == [0, 0, 1, 2, 4, 5, 6, 7, 8, 9]
    sink.close()


class FailingBatchSink(ForgetfulSink):
    def write_many(self, records: list[rc.Record]) -> None:
        msg = "disk full"
        raise OSError(msg)


def test_a_stored_error_keeps_no_record_alive():
    sink = rr.BackgroundSink(FailingBatchSink())
    assert write_and_wait_until_written(sink, 20) == [None] * 20
    with pytest.raises(OSError, match="disk full"):
        sink.close()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": 1.5}, "max_bytes"),
        ({"max_bytes": True}, "max_bytes"),
        ({"policy": "drop"}, "policy"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rr.BackgroundSink(rr.MemorySink(), **kwargs)


def test_through_a_recording(tmp_path):
    rec = rr.new_recording("app")
    path = tmp_path / "a.rrc"
    rec.set_sink(rr.BackgroundSink(rr.FileSink(path), max_bytes=2 * RECORD_SIZE))
    for frame in range(20):
        rec.set_time_sequence("frame", frame)
        rec.log(("cam",), IMAGE)
    rec.flush()
    records = list(rc.iter_records(path.read_bytes()))
    assert [r.timepoint["frame"].value for r in records] == list(range(20))
    rec.disconnect()


def test_interpreter_exit_flushes_background_sinks(tmp_path):
    path = tmp_path / "exit.rrc"
    script = textwrap.dedent(
        f"""
        import threading
        import numpy as np
        import rerun_sinks as rr

        class Slow(rr.FileSink):
            def write(self, record):
                threading.Event().wait(0.002)
                super().write(record)

        rec = rr.new_recording("app")
        rec.set_sink(rr.BackgroundSink(Slow({str(path)!r})))
        for frame in range(100):
            rec.set_time_sequence("frame", frame)
            rec.log_image("cam", np.full((16, 16, 3), frame, np.uint8))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    records = list(rc.iter_records(path.read_bytes()))
    assert [r.timepoint["frame"].value for r in records] == list(range(100))
