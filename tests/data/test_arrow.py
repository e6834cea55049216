"""The Arrow schema (SPEC §5), batching by bytes, the image column and from_arrow's errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

import rerun_core as rc
import rerun_sinks as rr
from rerun_sinks._arrow import records_to_arrow, timeline_columns, timelines_of
from rerun_sinks._data import records_to_arrow as public_records_to_arrow

SPEC_COLUMNS = [
    ("entity_path", pa.dictionary(pa.int32(), pa.string())),
    ("kind", pa.string()),
    ("log_tick", pa.uint64()),
    ("log_time", pa.timestamp("ns", tz="UTC")),
    ("timeless", pa.bool_()),
    ("frame", pa.int64()),
    ("sensor_time", pa.timestamp("ns")),
    ("height", pa.int32()),
    ("width", pa.int32()),
    ("channels", pa.int32()),
    ("dtype", pa.string()),
    ("color_model", pa.string()),
    ("media_type", pa.string()),
    ("meter", pa.float64()),
    ("draw_order", pa.float64()),
    ("pixels", pa.large_binary()),
    ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    ("ext", pa.string()),
    ("annotation_context", pa.string()),
]


def _table(records, *, images=False) -> pa.Table:
    return public_records_to_arrow(records, images=images).read_all()


def _rows(table: pa.Table, entity: str) -> list[dict]:
    return [row for row in table.to_pylist() if row["entity_path"] == entity]


def test_columns_are_exactly_the_spec_list(records):
    schema = _table(records).schema
    assert [(field.name, field.type) for field in schema] == SPEC_COLUMNS
    meta = json.loads(schema.metadata[b"rerun_core"])
    assert meta["version"] == 1
    assert meta["timelines"] == {
        "frame": {"kind": "sequence", "column": "frame"},
        "sensor_time": {"kind": "time", "column": "sensor_time"},
    }
    assert b"huggingface" not in schema.metadata


def test_one_row_per_record_with_its_values(records, frames):
    table = _table(records)
    assert table.num_rows == len(records)
    rgb = _rows(table, "world/camera/rgb")
    assert [row["frame"] for row in rgb] == list(range(frames.count))
    times = table.column("sensor_time").cast(pa.int64()).to_pylist()
    paths = table.column("entity_path").to_pylist()
    assert [t for t, p in zip(times, paths, strict=True) if p == "world/camera/rgb"] == [
        frames.base_ns + i * frames.frame_ns for i in range(frames.count)
    ]
    first = rgb[0]
    assert (first["kind"], first["height"], first["width"], first["channels"]) == (
        "image",
        frames.height,
        frames.width,
        3,
    )
    assert (first["dtype"], first["color_model"], first["media_type"]) == ("|u1", "RGB", None)
    assert first["pixels"] == frames.rgb(0).tobytes()
    assert json.loads(first["ext"]) == {"ext.exposure_ms": {"dtype": "<f8", "values": [8.0]}}
    assert first["image"] is None  # filled only with images=True
    depth = _rows(table, "world/camera/depth")[1]
    assert (depth["kind"], depth["channels"], depth["dtype"], depth["meter"]) == (
        "depth",
        1,
        "<u2",
        1000.0,
    )
    assert np.array_equal(np.frombuffer(depth["pixels"], "<u2").reshape(6, 8), frames.depth(1))
    jpeg = _rows(table, "world/camera/jpeg")[0]
    assert (jpeg["media_type"], jpeg["dtype"]) == ("image/jpeg", "|u1")
    assert jpeg["pixels"].startswith(b"\xff\xd8")


def test_timeless_records_have_null_timelines(records):
    (context,) = _rows(_table(records), "world")
    assert (context["timeless"], context["frame"], context["sensor_time"]) == (True, None, None)
    assert context["kind"] == "annotation_context"
    assert context["height"] is context["pixels"] is context["ext"] is None
    assert json.loads(context["annotation_context"]) == [
        {"id": 1, "label": "person", "color": [255, 0, 0, 255], "keypoints": [], "connections": []},
        {"id": 2, "label": "car", "color": None, "keypoints": [], "connections": []},
    ]


def test_extension_rows_keep_identifiers_and_non_finite_floats_as_json(records):
    stats = _rows(_table(records), "world/stats")[0]
    assert stats["kind"] == "extension"
    assert stats["pixels"] is None
    assert json.loads(stats["ext"]) == {
        "ext.speed": {"dtype": "<f8", "values": [1.5, "NaN"]},
        "identifiers": [1, 2],
    }


def test_images_true_fills_the_huggingface_image_column(records, frames):
    table = _table(records, images=True)
    assert b"huggingface" in table.schema.metadata
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": "Image"}
    assert list(features) == table.schema.names

    def decoded(entity: str, index: int) -> Image.Image:
        cell = _rows(table, entity)[index]["image"]
        assert cell["path"] is None
        return Image.open(io.BytesIO(cell["bytes"]))

    assert np.array_equal(np.asarray(decoded("world/camera/rgb", 2)), frames.rgb(2))
    assert np.array_equal(np.asarray(decoded("world/camera/bgr", 2)), frames.rgb(2))  # as RGB
    depth = decoded("world/camera/depth", 3)
    assert (depth.format, depth.mode) == ("PNG", "I;16")
    assert np.array_equal(np.asarray(depth), frames.depth(3))  # 16-bit, bit for bit
    assert np.array_equal(
        np.asarray(decoded("world/camera/segmentation", 1)), frames.segmentation(1)
    )
    jpeg_row = _rows(table, "world/camera/jpeg")[0]
    assert jpeg_row["image"]["bytes"] == jpeg_row["pixels"]  # the original JPEG
    assert _rows(table, "world/camera/float")[0]["image"] is None  # no lossless PNG for floats


def test_batches_are_cut_by_bytes(frames):
    frame_bytes = frames.height * frames.width * 3
    records = [
        rc.make_record("cam", rc.make_image_msg(frames.rgb(i)), log_tick=i) for i in range(40)
    ]
    reader = records_to_arrow(records, timelines={}, batch_bytes=10 * frame_bytes)
    sizes = [batch.num_rows for batch in reader]
    assert sum(sizes) == 40
    assert len(sizes) >= 4
    assert max(sizes) <= 10


def test_records_are_read_lazily_as_the_reader_is_consumed(frames):
    pulled = []

    def source():
        for i in range(30):
            pulled.append(i)
            yield rc.make_record("cam", rc.make_image_msg(frames.rgb(i)))

    reader = records_to_arrow(source(), timelines={}, batch_bytes=frames.height * frames.width * 3)
    first = reader.read_next_batch()
    assert first.num_rows == 1
    assert len(pulled) < 30


def test_a_timeline_named_like_a_column_gets_a_prefixed_column():
    timelines = {"log_time": "time", "kind": "sequence", "timeline:kind": "sequence"}
    assert timeline_columns(timelines) == {
        "kind": "timeline:kind",
        "log_time": "timeline:log_time",
        "timeline:kind": "timeline:timeline:kind",
    }
    record = rc.make_record(
        "a",
        rc.make_segmentation_msg(np.ones((2, 2), np.uint8)),
        timepoint={"log_time": rc.TimeValue("time", 5), "kind": rc.TimeValue("sequence", 2)},
        log_time_ns=9,
    )
    table = _table([record])
    row = table.to_pylist()[0]
    assert (row["kind"], row["timeline:kind"]) == ("segmentation", 2)
    assert rr.from_arrow(table) == [record]


def test_one_timeline_name_with_two_kinds_is_rejected():
    a = rc.make_record("a", rc.make_depth_msg(np.ones((1, 1))), timepoint={"t": ("sequence", 1)})
    b = rc.make_record("a", rc.make_depth_msg(np.ones((1, 1))), timepoint={"t": ("time", 1)})
    with pytest.raises(rc.InvalidArgumentError, match="timeline 't' is a sequence timeline"):
        timelines_of([a, b])
    with pytest.raises(rc.InvalidArgumentError, match="not among the given timelines"):
        records_to_arrow([a], timelines={}).read_all()


@pytest.mark.parametrize(
    ("kwargs", "param", "fragment"),
    [
        ({"timelines": {"t": "frames"}}, "timelines", "'sequence' or 'time'"),
        ({"timelines": ["t"]}, "timelines", "'sequence' or 'time'"),
        ({"timelines": {}, "images": "yes"}, "images", "images must be True or False"),
        ({"timelines": {}, "batch_bytes": 0}, "batch_bytes", "positive int"),
    ],
)
def test_bad_arguments_raise_typed_errors(kwargs, param, fragment):
    with pytest.raises(rc.InvalidArgumentError, match=fragment) as info:
        records_to_arrow([], **kwargs).read_all()
    assert info.value.param == param


def test_from_arrow_rejects_unknown_and_missing_columns(records):
    table = _table(records)
    with pytest.raises(rc.InvalidArgumentError, match=r"unknown columns \['score'\]"):
        rr.from_arrow(table.append_column("score", pa.array([1.0] * table.num_rows)))
    with pytest.raises(rc.InvalidArgumentError, match=r"missing columns \['pixels'\]"):
        rr.from_arrow(table.drop_columns(["pixels"]))
    with pytest.raises(rc.InvalidArgumentError, match=r"missing columns \['frame'\]"):
        rr.from_arrow(table.drop_columns(["frame"]))
    with pytest.raises(rc.InvalidArgumentError, match="from_arrow takes a pyarrow Table"):
        rr.from_arrow([1, 2])


def test_from_arrow_without_metadata_takes_timelines_from_column_types(records):
    table = _table(records).replace_schema_metadata(None)
    assert rr.from_arrow(table) == records
    with pytest.raises(rc.InvalidArgumentError, match=r"unknown columns \['note'\]"):
        rr.from_arrow(table.append_column("note", pa.array(["x"] * table.num_rows)))


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        ("kind", "points", "kind must be one of image, depth"),
        ("dtype", "<i8", "row 1 does not describe a valid record"),
        ("height", 7, "cannot reshape"),
        ("media_type", "image/png", "media_type must be 'image/jpeg' or null"),
        ("entity_path", "", "entity_path must not be empty"),
    ],
)
def test_from_arrow_rejects_rows_that_are_not_records(records, column, value, fragment):
    table = _table(records[:3])
    cells = table.column(column).to_pylist()
    cells[1] = value
    kind = pa.string() if column == "entity_path" else table.schema.field(column).type
    bad = table.set_column(table.schema.get_field_index(column), column, pa.array(cells, kind))
    with pytest.raises(rc.InvalidArgumentError, match=fragment):
        rr.from_arrow(bad)


def test_missing_pyarrow_names_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "import rerun_sinks as rr\n"
        "try:\n    rr.from_parquet('x.parquet')\n"
        "except ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert "pip install 'rerun-core[data]'" in result.stdout


def test_extension_strings_with_lone_surrogates_round_trip():
    # A `<U` array can hold a lone surrogate, which UTF-8 (and so an Arrow string) cannot.
    text = np.array(["caf\u00e9", "\ud800"])
    msg = rc.make_extension_msg({"ext.label": text})
    record = rc.make_record(("stats",), msg, log_tick=1)
    [row] = _rows(_table([record]), "stats")
    assert json.loads(row["ext"]) == {
        "ext.label": {"dtype": "<U4", "values": ["caf\u00e9", "\ud800"]}
    }
    [back] = rr.from_arrow(records_to_arrow([record], timelines={}))
    assert back == record
