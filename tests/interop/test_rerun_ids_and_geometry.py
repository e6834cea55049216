"""save("x.rrd") keeps the recording's ids, and one-row images keep their geometry.

Read back with rerun-sdk's own reader (``rerun.chunk.RrdReader``).
"""

from __future__ import annotations

import numpy as np
import pytest

import rerun_sinks as rr

pytest.importorskip(
    "rerun", reason="RerunSink needs the [rerun] extra: pip install 'rerun-core[rerun]'"
)
rrchunk = pytest.importorskip("rerun.chunk", reason="reading .rrd back needs rerun-sdk >= 0.41")

# rerun's ColorModel and ChannelDatatype codes, from its published type definitions.
COLOR_MODELS = {1: "L", 2: "RGB", 3: "RGBA", 4: "BGR", 5: "BGRA"}
DATATYPES = {6: "uint8", 8: "uint16", 33: "float16", 34: "float32", 35: "float64"}

IMAGES = {
    "row/gray": np.arange(7, dtype=np.uint8).reshape(1, 7),
    "row/rgb": np.arange(21, dtype=np.uint8).reshape(1, 7, 3),
    "row/rgba": np.arange(28, dtype=np.uint8).reshape(1, 7, 4),
    "row/rgb-float16": np.linspace(0, 1, 21, dtype=np.float16).reshape(1, 7, 3),
    "column/rgb": np.arange(21, dtype=np.uint8).reshape(7, 1, 3),
    "pixel/rgb": np.arange(3, dtype=np.uint16).reshape(1, 1, 3),
}


def _save(path, images) -> None:
    rec = rr.new_recording("my_app", recording_id="my-run-1", strict=True)
    for entity, pixels in images.items():
        rec.log_image(entity, pixels)
    rec.save(path)
    rec.disconnect()


def test_save_rrd_keeps_the_recordings_ids(tmp_path):
    _save(tmp_path / "x.rrd", {"camera": np.zeros((4, 5, 3), np.uint8)})
    (store,) = rrchunk.RrdReader(tmp_path / "x.rrd").recordings()
    assert (store.application_id, store.recording_id) == ("my_app", "my-run-1")


def test_one_row_images_keep_width_height_and_bytes(tmp_path):
    path = tmp_path / "x.rrd"
    _save(path, IMAGES)
    reader = rrchunk.RrdReader(path)
    (store,) = reader.recordings()
    assert (store.application_id, store.recording_id) == ("my_app", "my-run-1")
    seen = set()
    for chunk in reader.stream(store=store).to_chunks():
        if not chunk.entity_path.startswith(("/row", "/column", "/pixel")):
            continue
        batch = chunk.to_record_batch()
        (fmt,) = batch.column("Image:format")[0].as_py()
        (buffer,) = batch.column("Image:buffer")[0].as_py()
        expected = IMAGES[chunk.entity_path[1:]]
        height, width = expected.shape[:2]
        channels = 1 if expected.ndim == 2 else expected.shape[2]
        assert (fmt["width"], fmt["height"]) == (width, height), chunk.entity_path
        assert COLOR_MODELS[fmt["color_model"]] == {1: "L", 3: "RGB", 4: "RGBA"}[channels]
        assert DATATYPES[fmt["channel_datatype"]] == expected.dtype.name
        assert bytes(buffer) == expected.tobytes()
        seen.add(chunk.entity_path[1:])
    assert seen == set(IMAGES)
