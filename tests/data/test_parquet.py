"""Parquet layout: order, row groups, statistics, metadata, and all-or-nothing writes."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

import rerun_core as rc
import rerun_sinks as rr
from rerun_sinks._data import records_to_parquet


def _listing(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_one_file_is_sorted_by_entity_then_time(records, tmp_path):
    shuffled = records[::-1]
    out = records_to_parquet(shuffled, tmp_path / "rec.parquet")
    table = pq.read_table(out, columns=["entity_path", "frame", "timeless"])
    paths = table.column("entity_path").to_pylist()
    assert paths == sorted(paths)
    for entity in set(paths):
        frames = [
            f for p, f in zip(paths, table.column("frame").to_pylist(), strict=True) if p == entity
        ]
        assert frames == sorted(frames, key=lambda f: (f is None, f))


def test_row_groups_are_cut_at_entities_and_by_bytes(records, tmp_path, frames):
    frame_bytes = frames.height * frames.width * 3
    out = records_to_parquet(records, tmp_path / "rec.parquet", row_group_bytes=2 * frame_bytes)
    metadata = pq.ParquetFile(out).metadata
    groups = [
        pq.ParquetFile(out).read_row_group(i, columns=["entity_path"])
        for i in range(metadata.num_row_groups)
    ]
    for group in groups:
        assert len(set(group.column(0).to_pylist())) == 1  # never two entities in a row group
    rgb_groups = [g.num_rows for g in groups if g.column(0)[0].as_py() == "world/camera/rgb"]
    assert rgb_groups == [2, 2]  # 4 frames, cut every 2 frames' worth of bytes
    assert sum(g.num_rows for g in groups) == len(records)


def test_statistics_and_page_index_are_written(records, tmp_path):
    out = records_to_parquet(records, tmp_path / "rec.parquet")
    metadata = pq.ParquetFile(out).metadata
    names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    for group in range(metadata.num_row_groups):
        for index, name in enumerate(names):
            column = metadata.row_group(group).column(index)
            assert column.has_offset_index
            if name in ("pixels", "image.bytes", "image.path"):
                assert not column.is_stats_set  # multi-megabyte min/max would bloat the footer
            else:
                assert column.is_stats_set, name
    frame = names.index("frame")
    stats = [metadata.row_group(g).column(frame).statistics for g in range(metadata.num_row_groups)]
    assert any(s.has_min_max and (s.min, s.max) == (0, 3) for s in stats)


def test_schema_metadata_has_timelines_and_huggingface_features(records, tmp_path):
    plain = pq.read_schema(records_to_parquet(records, tmp_path / "a.parquet"))
    assert json.loads(plain.metadata[b"rerun_core"])["timelines"]["sensor_time"] == {
        "kind": "time",
        "column": "sensor_time",
    }
    assert b"huggingface" not in plain.metadata
    with_images = pq.read_schema(records_to_parquet(records, tmp_path / "b.parquet", images=True))
    features = json.loads(with_images.metadata[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": "Image"}


def test_a_directory_holds_one_hive_file_per_entity(records, tmp_path):
    out = records_to_parquet(records, tmp_path / "rec")
    assert _listing(out) == sorted(
        f"entity_path={name}{suffix}"
        for name in (
            "world",
            "world%2Fcamera%2Fbgr",
            "world%2Fcamera%2Fdepth",
            "world%2Fcamera%2Ffloat",
            "world%2Fcamera%2Fjpeg",
            "world%2Fcamera%2Frgb",
            "world%2Fcamera%2Fsegmentation",
            "world%2Fstats",
        )
        for suffix in ("", "/part-0.parquet")
    )
    part = pq.read_table(out / "entity_path=world%2Fcamera%2Fdepth" / "part-0.parquet")
    assert set(part.column("entity_path").to_pylist()) == {"world/camera/depth"}  # kept


def test_progress_counts_every_record(records, tmp_path):
    calls = []
    records_to_parquet(records, tmp_path / "rec.parquet", progress=calls.append)
    assert sum(calls) == len(records)
    assert len(calls) > 1  # one call per row group


def test_an_empty_recording_writes_an_empty_table(tmp_path):
    out = records_to_parquet([], tmp_path / "empty.parquet")
    assert pq.read_table(out).num_rows == 0
    assert list(rr.from_parquet(out)) == []


@pytest.mark.parametrize("name", ["rec.parquet", "rec"])
def test_existing_output_needs_overwrite_and_is_left_untouched(records, tmp_path, name):
    out = tmp_path / name
    records_to_parquet(records[:3], out)
    before = _listing(tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        records_to_parquet(records, out)
    assert _listing(tmp_path) == before
    assert len(list(rr.from_parquet(out))) == 3
    records_to_parquet(records, out, overwrite=True)
    assert len(list(rr.from_parquet(out))) == len(records)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_empty_existing_output_is_replaced_without_overwrite(records, tmp_path):
    (tmp_path / "empty.parquet").touch()
    (tmp_path / "empty_dir").mkdir()
    records_to_parquet(records, tmp_path / "empty.parquet")
    records_to_parquet(records, tmp_path / "empty_dir")
    assert len(list(rr.from_parquet(tmp_path / "empty_dir"))) == len(records)


def test_a_directory_with_other_files_is_never_replaced(records, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not Parquet parts"):
        records_to_parquet(records, out, overwrite=True)
    assert (out / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"compression": "zip"}, "compression must be one of zstd"),
        ({"row_group_bytes": -1}, "row_group_bytes must be a positive"),
        ({"row_group_bytes": 1.5}, "row_group_bytes must be a positive"),
        ({"images": 1}, "images must be True or False"),
        ({"overwrite": "yes"}, "overwrite must be True or False"),
        ({"timelines": {"frame": "sequence"}}, "not among the given"),
    ],
)
@pytest.mark.parametrize("name", ["rec.parquet", "rec"])
def test_bad_arguments_raise_typed_errors_and_write_nothing(
    records, tmp_path, kwargs, fragment, name
):
    with pytest.raises(rc.InvalidArgumentError, match=fragment):
        records_to_parquet(records, tmp_path / name, **kwargs)
    assert _listing(tmp_path) == []


def test_a_missing_folder_raises_before_anything_is_written(records, tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder of out does not exist"):
        records_to_parquet(records, tmp_path / "no" / "rec.parquet")
    assert _listing(tmp_path) == []


def test_bad_out_raises_a_typed_error(records, tmp_path):
    with pytest.raises(rc.InvalidArgumentError, match="out must be a path"):
        records_to_parquet(records, 42)
    with pytest.raises(rc.InvalidArgumentError, match="out must be a path"):
        records_to_parquet(records, "")


class _FailingRecords(list):
    """A recording whose 10th record cannot be read (a disk error mid-write)."""

    def __getitem__(self, index):
        if index == 9:
            msg = "read error"
            raise OSError(msg)
        return super().__getitem__(index)


@pytest.mark.parametrize("name", ["rec.parquet", "rec"])
def test_a_failure_mid_write_leaves_nothing(records, tmp_path, name):
    with pytest.raises(OSError, match="read error"):
        records_to_parquet(_FailingRecords(records), tmp_path / name, row_group_bytes=1)
    assert _listing(tmp_path) == []


def test_u16_depth_reads_back_bit_for_bit_from_the_png_column(records, tmp_path, frames):
    from io import BytesIO

    from PIL import Image

    out = records_to_parquet(records, tmp_path / "rec.parquet", images=True)
    table = pq.read_table(out, filters=[("entity_path", "=", "world/camera/depth")])
    for index, cell in enumerate(table.column("image").to_pylist()):
        decoded = np.asarray(Image.open(BytesIO(cell["bytes"])))
        assert decoded.dtype == np.uint16
        assert np.array_equal(decoded, frames.depth(index))


def test_paths_are_accepted_as_str_and_pathlike(records, tmp_path):
    out = records_to_parquet(records, os.fspath(tmp_path / "rec.PARQUET"))
    assert out.is_file()


def _big_frames(count: int, *, height: int = 160, width: int = 160) -> list[rc.Record]:
    """RGB frames of ``height*width*3`` bytes (above ``BORROW_BYTES`` by default), one tick each."""
    return [
        rc.make_record(
            "cam",
            rc.make_image_msg(np.full((height, width, 3), i, np.uint8)),
            timepoint={"frame": rc.TimeValue("sequence", i)},
            log_tick=i,
        )
        for i in range(count)
    ]


def test_large_pixel_arrays_are_borrowed_not_copied():
    from rerun_sinks._arrow import BORROW_BYTES, arrow_schema, record_tables

    small = rc.make_record("cam", rc.make_image_msg(np.zeros((4, 4, 3), np.uint8)), log_tick=9)
    records = [*_big_frames(2), small, *_big_frames(1)]
    assert records[0].msg.pixels.nbytes >= BORROW_BYTES > small.msg.pixels.nbytes
    schema = arrow_schema({"frame": "sequence"})
    (table,) = record_tables(records, schema=schema, images=False, batch_bytes=1 << 30)
    chunks = table.column("pixels").chunks
    assert [len(chunk) for chunk in chunks] == [1, 1, 1, 1]
    for chunk, record in zip(chunks, records, strict=True):
        address = chunk.buffers()[2].address
        assert (address == record.msg.pixels.ctypes.data) == (record is not small)
    assert table.column("pixels").to_pylist() == [r.msg.pixels.tobytes() for r in records]


def test_to_parquet_of_a_file_borrows_its_map_and_round_trips(tmp_path):
    records = _big_frames(5)
    with rr.FileSink(tmp_path / "big.rrc") as sink:
        for record in records:
            sink.write(record)
    with rr.open_recording(tmp_path / "big.rrc") as f:
        out = f.to_parquet(tmp_path / "big.parquet", row_group_bytes=2 * 160 * 160 * 3)
    assert pq.ParquetFile(out).metadata.num_row_groups == 3
    assert list(rr.from_parquet(out)) == records


def test_from_parquet_is_an_iterator_that_checks_columns_first(records, tmp_path):
    out = records_to_parquet(records, tmp_path / "rec.parquet")
    back = rr.from_parquet(out)
    assert iter(back) is back
    assert next(back) == records[0]  # the timeless annotation context at 'world' sorts first
    pq.write_table(pq.read_table(out).append_column("extra", [[1] * len(records)]), out)
    with pytest.raises(rc.InvalidArgumentError, match=r"unknown columns \['extra'\]"):
        rr.from_parquet(out)  # raised on the call, not on the first next()
    with pytest.raises(FileNotFoundError, match="no such file"):
        rr.from_parquet(tmp_path / "missing.parquet")


def test_from_parquet_memory_stays_bounded_by_a_row_group(tmp_path):
    import pyarrow as pa

    rng = np.random.default_rng(3)
    frame_bytes = 160 * 160 * 3
    records = [  # noise: zstd cannot shrink it, so a row group's bytes are really read
        rc.make_record(
            "cam", rc.make_image_msg(rng.integers(0, 256, (160, 160, 3), np.uint8)), log_tick=i
        )
        for i in range(24)
    ]
    out = records_to_parquet(records, tmp_path / "rec.parquet", row_group_bytes=2 * frame_bytes)
    expected = [record.msg.pixels[0, 0, 0] for record in records]
    del records
    start = pa.total_allocated_bytes()
    peak, seen = 0, []
    for record in rr.from_parquet(out):  # each record dropped as the next is read
        seen.append(record.msg.pixels[0, 0, 0])
        peak = max(peak, pa.total_allocated_bytes() - start)
    assert seen == expected
    assert peak < 8 * frame_bytes  # two-frame row groups; a list, or a cache, holds 24 frames
