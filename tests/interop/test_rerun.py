"""RerunSink: .rrd files read back with rerun-sdk's own reader (``rerun.chunk.RrdReader``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks.errors import SinkClosedError

pytest.importorskip(
    "rerun", reason="RerunSink needs the [rerun] extra: pip install 'rerun-core[rerun]'"
)
rrchunk = pytest.importorskip("rerun.chunk", reason="reading .rrd back needs rerun-sdk >= 0.41")

import pyarrow as pa  # noqa: E402  (a dependency of rerun-sdk)

from rerun_sinks._rerun import RerunSink  # noqa: E402

# rerun's ImageFormat codes, from its published type definitions.
CHANNEL_DATATYPES = {6: "uint8", 8: "uint16", 33: "float16", 34: "float32", 35: "float64"}
COLOR_MODELS = {1: "L", 2: "RGB", 3: "RGBA", 4: "BGR", 5: "BGRA"}


def write_rrd(path, records, **options) -> None:
    with RerunSink(path=path, **options) as sink:
        for record in records:
            sink.write(record)


def load(path) -> dict[str, dict]:
    """Entity path -> {column: first-row value, "static": bool, "timelines": set}."""
    reader = rrchunk.RrdReader(path)
    (store,) = reader.recordings()
    entities: dict[str, dict] = {}
    for chunk in reader.stream(store=store).to_chunks():
        batch = chunk.to_record_batch()
        assert chunk.num_rows == 1
        row = entities.setdefault(chunk.entity_path, {"timelines": set()})
        row["static"] = chunk.is_static
        row["timelines"] |= set(chunk.timeline_names)
        for name in batch.schema.names:
            column = batch.column(name)
            if column.type.equals(pa.timestamp("ns")):
                row[name] = column.cast("int64")[0].as_py()
            else:
                row[name] = column[0].as_py()
    return entities


def buffer_pixels(row: dict, archetype: str) -> np.ndarray:
    (fmt,) = row[f"{archetype}:format"]
    (buffer,) = row[f"{archetype}:buffer"]
    dtype = np.dtype(CHANNEL_DATATYPES[fmt["channel_datatype"]]).newbyteorder("<")
    flat = np.frombuffer(bytes(buffer), dtype)
    return flat.reshape(fmt["height"], fmt["width"], -1)


def entity(record: rc.Record) -> str:
    return "/" + "/".join(record.entity_path)


def test_every_kind_reads_back_with_rerun_sdk(tmp_path, records):
    path = tmp_path / "all.rrd"
    write_rrd(path, records, application_id="interop", recording_id="rec-1")
    reader = rrchunk.RrdReader(path)
    (store,) = reader.recordings()
    assert (store.application_id, store.recording_id) == ("interop", "rec-1")
    entities = load(path)
    assert set(entities) == {entity(r) for r in records} | {"/__properties"}

    for record in records:
        row = entities[entity(record)]
        msg = record.msg
        assert row["static"] == record.timeless
        if record.timeless:
            assert row["timelines"] == set()
        else:
            assert row["timelines"] == {"frame", "sim_time", "log_tick", "log_time"}
            assert row["frame"] == record.timepoint["frame"].value
            assert row["sim_time"] == record.timepoint["sim_time"].value
            assert row["log_tick"] == record.log_tick
            assert row["log_time"] == record.log_time_ns
        if isinstance(msg, rc.ImageMsg) and msg.pixels is not None:
            (fmt,) = row["Image:format"]
            assert COLOR_MODELS[fmt["color_model"]] == msg.color_model.value
            pixels = buffer_pixels(row, "Image")
            assert pixels.dtype == msg.pixels.dtype
            np.testing.assert_array_equal(pixels, msg.pixels)
            assert row.get("Image:draw_order") == (
                None if msg.draw_order is None else [msg.draw_order]
            )
        elif isinstance(msg, rc.ImageMsg):
            assert bytes(row["EncodedImage:blob"][0]) == msg.encoded
            assert row["EncodedImage:media_type"] == ["image/jpeg"]
            assert row.get("ext.score") == ([0.5] if msg.ext else None)
        elif isinstance(msg, rc.DepthMsg):
            np.testing.assert_array_equal(buffer_pixels(row, "DepthImage")[..., 0], msg.pixels)
            assert row["DepthImage:meter"] == [msg.effective_meter]
            assert row["DepthImage:draw_order"] == [msg.draw_order]
        elif isinstance(msg, rc.SegmentationMsg):
            pixels = buffer_pixels(row, "SegmentationImage")[..., 0]
            assert pixels.dtype == msg.pixels.dtype
            np.testing.assert_array_equal(pixels, msg.pixels)
        elif isinstance(msg, rc.ExtensionMsg):
            assert row["ext.speed"] == [1.5, 2.5]
            assert row["ext.tag"] == ["a", "b"]
            assert row["identifiers"] == [7, 9]
        else:
            (context,) = row["AnnotationContext:context"]
            assert [c["class_id"] for c in context] == [1, 2]
            person = context[0]["class_description"]
            assert person["info"] == {"id": 1, "label": "person", "color": 0xFF0000FF}
            assert [k["label"] for k in person["keypoint_annotations"]] == ["head", "hand"]
            assert person["keypoint_annotations"][1]["color"] == 0x00FF0080
            assert person["keypoint_connections"] == [{"keypoint0": 0, "keypoint1": 1}]
            assert context[1]["class_description"]["info"]["label"] == "car"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(tmp_path):
    """A headless ``rerun`` process that saves what it receives over gRPC to an .rrd."""
    binary = shutil.which("rerun", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("the rerun binary (installed by rerun-sdk) is not in this environment")
    port, out = _free_port(), tmp_path / "live.rrd"
    command = [binary, "--port", str(port), "--save", str(out)]
    server = subprocess.Popen(  # its own session: the script starts the real binary as a child
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"rerun did not listen on port {port}")
                time.sleep(0.05)
        yield f"rerun+http://127.0.0.1:{port}/proxy", out
    finally:
        with contextlib.suppress(ProcessLookupError):  # the whole group already exited
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def load_streamed(path) -> dict[str, dict]:
    """``load`` a file that ``rerun --save`` wrote (it has no footer, so rerun warns)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="RRD file has no footer")
        return load(path)


def test_connect_streams_every_record_to_a_live_viewer_server(live_server, records):
    url, out = live_server
    with RerunSink(connect=url) as sink:
        for record in records:
            sink.write(record)
    expected = {entity(r) for r in records}
    deadline = time.monotonic() + 30
    while True:
        try:
            entities = load_streamed(out) if out.exists() else {}
        except (RuntimeError, ValueError):  # mid-message, or no recording store written yet
            entities = {}
        if expected <= set(entities):
            break
        assert time.monotonic() < deadline, "the server did not save every record"
        time.sleep(0.1)
    for record in records:
        assert entities[entity(record)]["static"] == record.timeless


def test_lifecycle(tmp_path, records):
    sink = RerunSink(path=tmp_path / "life.rrd")
    sink.write(records[0])
    sink.flush()
    sink.close()
    sink.close()  # idempotent
    with pytest.raises(SinkClosedError, match="closed"):
        sink.write(records[1])
    with pytest.raises(SinkClosedError):
        sink.flush()
    assert entity(records[0]) in load(tmp_path / "life.rrd")
    rrchunk.RrdReader(tmp_path / "life.rrd").store()  # needs the footer: the file is complete


def test_needs_a_destination():
    with pytest.raises(ValueError, match="needs a destination; got none"):
        RerunSink()


def test_missing_extra_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rerun", None)
    with pytest.raises(ImportError, match=r"pip install 'rerun-core\[rerun\]'"):
        RerunSink(path=tmp_path / "x.rrd")
