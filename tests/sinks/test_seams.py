"""Seams: the engine knows sinks only by protocol; the process-wide state has one home."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import numpy as np

import rerun_core as rc
import rerun_sinks as rr
from rerun_sinks import _state
from rerun_sinks._recording import RecordingEngine

SRC = Path(rr.__file__).parent
RGB = np.zeros((2, 3, 3), np.uint8)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_engine_imports_no_concrete_sink_and_no_global_state():
    ours = {m for m in _imported_modules(SRC / "_recording.py") if m.startswith("rerun_sinks")}
    assert ours == {"rerun_sinks._sinks", "rerun_sinks._time", "rerun_sinks._warn"}
    sinks_api = _imported_modules(SRC / "_sinks.py")
    assert not {"rerun_sinks._file", "rerun_sinks._background", "rerun_sinks._state"} & sinks_api


def test_only_state_registers_exit_hooks():
    for path in SRC.glob("*.py"):
        if path.name == "_state.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "atexit" not in text, path.name
        assert "WeakSet" not in text, path.name


class DroppingSink(rr.MemorySink):
    """Any sink may count drops by implementing ``drop_counts`` (no base class needed)."""

    def drop_counts(self) -> tuple[int, int]:
        return 3, 300


def test_drop_counting_is_a_protocol():
    rec = rr.new_recording("app", sink=DroppingSink())
    stats = rec.stats
    assert (stats.sink_dropped_records, stats.sink_dropped_bytes) == (3, 300)
    tee = rr.TeeSink(DroppingSink(), rr.BackgroundSink(DroppingSink()))
    rec.set_sink(tee)
    assert (rec.stats.sink_dropped_records, rec.stats.sink_dropped_bytes) == (6 + 3, 600 + 300)
    rec.disconnect()  # retired sinks' drops stay counted
    assert rec.stats.sink_dropped_records == 9


def test_a_plain_sink_counts_no_drops():
    assert not isinstance(rr.MemorySink(), rr.CountsDrops)
    assert isinstance(rr.BackgroundSink(rr.MemorySink()), rr.CountsDrops)
    assert isinstance(rr.FileSink(io.BytesIO()), rr.BatchSink)


class DuckBatchSink:
    """No base class: ``write_many`` alone makes it a ``BatchSink``."""

    def __init__(self) -> None:
        self.batches: list[list[rc.Record]] = []

    def write(self, record: rc.Record) -> None:
        self.batches.append([record])

    def write_many(self, records: list[rc.Record]) -> None:
        self.batches.append(list(records))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_background_sink_hands_a_batch_sink_batches():
    inner = DuckBatchSink()
    bg = rr.BackgroundSink(inner)
    rec = rr.new_recording("app", sink=bg)
    for i in range(5):
        rec.set_time_sequence("f", i)
        rec.log_image("x", RGB)
    rec.flush()
    assert sum(len(b) for b in inner.batches) == 5
    assert [r.log_tick for b in inner.batches for r in b] == list(range(5))
    assert isinstance(inner, rr.BatchSink)
    rec.disconnect()


def test_with_block_and_setters_share_one_state():
    rec = rr.new_recording("app")
    with rec:
        assert _state.get_thread_local() is rec is rr.get_data_recording()
        previous = rr.set_thread_local_data_recording(None)
        assert previous is rec
    assert _state.get_thread_local() is None
    assert rr.set_global_data_recording(rec) is None
    assert _state.get_global() is rec


def test_the_public_recording_is_the_engine_plus_the_facade():
    assert issubclass(rr.RecordingStream, RecordingEngine)
    engine_only = set(vars(RecordingEngine))
    assert not {"save", "memory_recording", "__enter__"} & engine_only
    assert repr(rr.new_recording("app")).startswith("RecordingStream(")
