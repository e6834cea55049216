"""RecordingFile.to_arrow / to_parquet / __arrow_c_stream__ and ``rerun-core convert``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import rerun_core as rc
import rerun_sinks as rr

CLI = shutil.which("rerun-core") or str(Path(sys.executable).with_name("rerun-core"))


@pytest.fixture
def rrc(records, tmp_path) -> Path:
    path = tmp_path / "rec.rrc"
    with rr.FileSink(path) as sink:
        for record in records:
            sink.write(record)
    return path


def test_to_arrow_streams_every_record_and_inverts(rrc, records):
    with rr.open_recording(rrc) as f:
        reader = f.to_arrow()
        assert isinstance(reader, pa.RecordBatchReader)
        assert rr.from_arrow(reader) == records


def test_to_arrow_takes_the_query_arguments(rrc):
    with rr.open_recording(rrc) as f:
        query = {"timeline": "frame", "start": 1, "stop": 3, "kinds": {"image"}}
        table = f.to_arrow("world/camera/**", **query).read_all()
        assert rr.from_arrow(table) == list(f.query("world/camera/**", **query))
        assert table.num_rows == 2 * 4  # frames 1 and 2 of rgb, bgr, jpeg, float
        assert {"frame", "sensor_time"} <= set(table.schema.names)  # every timeline of the file


def test_bad_query_arguments_raise_before_streaming(rrc):
    with rr.open_recording(rrc) as f:
        with pytest.raises(rc.InvalidArgumentError, match="need a timeline"):
            f.to_arrow(start=1)
        with pytest.raises(rc.InvalidArgumentError, match="images must be True or False"):
            f.to_arrow(images="no")


def test_engines_read_the_file_object_directly(rrc, frames):
    import duckdb
    import polars as pl

    with rr.open_recording(rrc) as f:
        assert pa.table(f).num_rows == len(f)
        rows = duckdb.sql(
            "select frame, pixels from f where entity_path = 'world/camera/depth' order by frame"
        ).fetchall()
        assert [bytes(p) for _, p in rows] == [frames.depth(i).tobytes() for i in range(4)]
        assert pl.DataFrame(f).height == len(f)


def test_to_parquet_writes_the_whole_file(rrc, records, tmp_path):
    with rr.open_recording(rrc) as f:
        out = f.to_parquet(tmp_path / "rec.parquet", images=True)
        f.to_parquet(tmp_path / "rec")
    assert sorted(map(_key, rr.from_parquet(out))) == sorted(map(_key, records))
    assert list(rr.from_parquet(out)) == list(rr.from_parquet(tmp_path / "rec"))


def _key(record: rc.Record) -> tuple:
    return (record.entity_path, record.log_tick)


def test_to_parquet_bad_arguments_write_nothing(rrc, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with rr.open_recording(rrc) as f:
        with pytest.raises(rc.InvalidArgumentError, match="compression"):
            f.to_parquet(out / "x.parquet", compression="lzma")
        f.to_parquet(out / "x.parquet")
        with pytest.raises(FileExistsError, match="overwrite=True"):
            f.to_parquet(out / "x.parquet")
    assert sorted(p.name for p in out.iterdir()) == ["x.parquet"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, check=False)


def test_convert_writes_parquet_files_and_directories(rrc, records, tmp_path, frames):
    done = _cli("convert", str(rrc), str(tmp_path / "rec.parquet"), "--images")
    assert done.returncode == 0, done.stderr
    assert f"converted {len(records)} records" in done.stdout
    back = list(rr.from_parquet(tmp_path / "rec.parquet"))
    assert len(back) == len(records)
    table = pa.parquet.read_table(tmp_path / "rec.parquet", columns=["entity_path", "image"])
    assert table.column("image").null_count < table.num_rows  # --images filled it
    done = _cli("convert", str(rrc), str(tmp_path / "by_entity"))
    assert done.returncode == 0, done.stderr
    depth = list(rr.from_parquet(tmp_path / "by_entity" / "entity_path=world%2Fcamera%2Fdepth"))
    assert np.array_equal(depth[0].msg.pixels, frames.depth(0))


def test_convert_refuses_existing_output_without_overwrite(rrc, tmp_path):
    out = tmp_path / "rec.parquet"
    out.write_bytes(b"keep")
    done = _cli("convert", str(rrc), str(out))
    assert done.returncode == 1
    assert "--overwrite" in done.stderr
    assert out.read_bytes() == b"keep"
    done = _cli("convert", str(rrc), str(out), "--overwrite")
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"PAR1")


def test_convert_to_parquet_takes_the_selection_options(rrc, tmp_path):
    out = tmp_path / "depth.parquet"
    done = _cli("convert", str(rrc), str(out), "--entity", "world/camera/depth")
    assert done.returncode == 0, done.stderr
    assert "converted 4 records" in done.stdout
    assert {r.entity_path for r in rr.from_parquet(out)} == {("world", "camera", "depth")}


def test_parquet_flags_are_refused_for_other_formats(rrc, tmp_path):
    done = _cli("convert", str(rrc), str(tmp_path / "x.mcap"), "--images")
    assert done.returncode == 2
    assert "apply to Parquet output" in done.stderr
    assert not (tmp_path / "x.mcap").exists()


def test_to_parquet_refuses_a_damaged_record_and_writes_nothing(rrc, tmp_path):
    with rr.open_recording(rrc) as f:
        assert f.indexed
        offset, length = int(f.catalog.offset[5]), int(f.catalog.length[5])
    data = bytearray(rrc.read_bytes())
    data[offset + length - 12] ^= 0xFF  # a payload byte: the record's CRC no longer matches
    rrc.write_bytes(bytes(data))
    with rr.open_recording(rrc) as f, pytest.raises(rc.DecodeError, match="CRC mismatch"):
        f.to_parquet(tmp_path / "out.parquet")
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".parquet" or p.name[0] == "."]
