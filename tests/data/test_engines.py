"""Every engine reads our Arrow stream and Parquet files with its own API only.

Each test checks the counts and the exact pixel values the sample recording holds.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from rerun_sinks._data import records_to_arrow, records_to_parquet

COUNTS = {
    "world": 1,
    "world/camera/bgr": 4,
    "world/camera/depth": 4,
    "world/camera/float": 4,
    "world/camera/jpeg": 4,
    "world/camera/rgb": 4,
    "world/camera/segmentation": 4,
    "world/stats": 4,
}


@pytest.fixture
def parquet_file(records, tmp_path):
    return records_to_parquet(records, tmp_path / "rec.parquet", images=True)


@pytest.fixture
def parquet_dir(records, tmp_path):
    return records_to_parquet(records, tmp_path / "rec", images=True)


def _hwc(pixels: bytes, dtype: str, height: int, width: int, channels: int) -> np.ndarray:
    return np.frombuffer(pixels, np.dtype(dtype)).reshape(height, width, channels)


# -- DuckDB ------------------------------------------------------------------------------------


def test_duckdb_groups_and_filters_parquet_by_time(parquet_file, parquet_dir, frames):
    import duckdb

    counts = duckdb.sql(
        f"select entity_path, count(*) from '{parquet_file}' group by 1 order by 1"
    ).fetchall()
    assert dict(counts) == COUNTS
    start = datetime.fromtimestamp((frames.base_ns + frames.frame_ns) // 10**9, UTC)
    start = start.replace(tzinfo=None, microsecond=(frames.frame_ns // 1000) % 10**6)
    rows = duckdb.execute(
        f"select frame, pixels from '{parquet_file}' "
        "where entity_path = 'world/camera/depth' and sensor_time >= ?::timestamp "
        "order by frame",
        [start],
    ).fetchall()
    assert [frame for frame, _ in rows] == [1, 2, 3]
    for frame, pixels in rows:
        assert pixels == frames.depth(frame).tobytes()
    hive = duckdb.sql(
        f"select entity_path, count(*) from read_parquet('{parquet_dir}/*/*.parquet', "
        "hive_partitioning = true) group by 1"
    ).fetchall()
    assert dict(hive) == COUNTS


def test_duckdb_queries_an_arrow_stream(records, frames):
    import duckdb

    reader = records_to_arrow(records)  # noqa: F841 (DuckDB finds it by name)
    rows = duckdb.sql(
        "select frame, pixels from reader where entity_path = 'world/camera/rgb' order by frame"
    ).fetchall()
    assert [bytes(p) for _, p in rows] == [frames.rgb(i).tobytes() for i in range(frames.count)]


# -- Polars ------------------------------------------------------------------------------------


def test_polars_lazy_scan_and_eager_read(parquet_file, parquet_dir, frames):
    import polars as pl

    lazy = (
        pl.scan_parquet(parquet_file)
        .filter(pl.col("entity_path") == "world/camera/segmentation")
        .select("frame", "height", "width", "dtype", "pixels")
        .sort("frame")
    )
    table = lazy.collect()
    assert table.height == frames.count
    for row in table.iter_rows(named=True):
        pixels = np.frombuffer(row["pixels"], row["dtype"]).reshape(row["height"], row["width"])
        assert np.array_equal(pixels, frames.segmentation(row["frame"]))
    counts = pl.read_parquet(parquet_file).group_by("entity_path").len()
    assert {str(k): v for k, v in counts.iter_rows()} == COUNTS
    counted = pl.scan_parquet(parquet_dir).group_by("entity_path").len().collect()
    assert {str(k): v for k, v in counted.iter_rows()} == COUNTS


def test_polars_reads_an_arrow_stream(records, frames):
    import polars as pl

    table = pl.from_arrow(records_to_arrow(records))
    rgb = table.filter(pl.col("entity_path") == "world/camera/rgb").sort("frame")
    assert rgb["pixels"].to_list() == [frames.rgb(i).tobytes() for i in range(frames.count)]


# -- pyarrow -----------------------------------------------------------------------------------


def test_pyarrow_reads_the_stream_the_file_and_the_directory(
    records, parquet_file, parquet_dir, frames
):
    for table in (
        pa.table(records_to_arrow(records)),
        pq.read_table(parquet_file),
        pq.read_table(parquet_dir),
    ):
        assert table.num_rows == len(records)
        paths = table.column("entity_path").to_pylist()
        assert {p: paths.count(p) for p in set(paths)} == COUNTS
    rows = pq.read_table(parquet_dir, filters=[("entity_path", "=", "world/camera/bgr")])
    assert rows.column("frame").to_pylist() == list(range(frames.count))
    for index, row in enumerate(rows.to_pylist()):
        pixels = _hwc(row["pixels"], row["dtype"], row["height"], row["width"], row["channels"])
        assert row["color_model"] == "BGR"
        assert np.array_equal(pixels, frames.rgb(index)[..., ::-1])


# -- Hugging Face datasets ---------------------------------------------------------------------


def test_hf_datasets_decodes_images_to_pil_of_the_logged_size(parquet_file, tmp_path, frames):
    import datasets

    ds = datasets.load_dataset(
        "parquet", data_files=str(parquet_file), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert isinstance(ds.features["image"], datasets.Image)
    assert ds.num_rows == sum(COUNTS.values())
    by_entity: dict[str, list[dict]] = {}
    for row in ds:
        by_entity.setdefault(row["entity_path"], []).append(row)
    for index, row in enumerate(by_entity["world/camera/rgb"]):
        image = row["image"]
        assert isinstance(image, Image.Image)
        assert image.size == (frames.width, frames.height)
        assert np.array_equal(np.asarray(image), frames.rgb(index))
    for index, row in enumerate(by_entity["world/camera/depth"]):
        assert row["image"].mode == "I;16"
        assert np.array_equal(np.asarray(row["image"]), frames.depth(index))  # bit for bit
    jpeg = by_entity["world/camera/jpeg"][0]["image"]
    assert (jpeg.format, jpeg.size) == ("JPEG", (frames.width, frames.height))
    assert by_entity["world/camera/float"][0]["image"] is None


# -- Ray Data ----------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")  # ray's own options
def test_ray_data_reshapes_pixels_to_hwc(parquet_file, frames):
    import ray
    from ray.data.expressions import col

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        ds = (
            ray.data.read_parquet(str(parquet_file))
            .select_columns(
                ["entity_path", "frame", "height", "width", "channels", "dtype", "pixels"]
            )
            .filter(expr=col("entity_path") == "world/camera/rgb")
        )

        def to_hwc(batch: dict) -> dict:
            batch["hwc"] = np.stack(
                [
                    _hwc(p, d, h, w, c)
                    for p, d, h, w, c in zip(
                        batch["pixels"],
                        batch["dtype"],
                        batch["height"],
                        batch["width"],
                        batch["channels"],
                        strict=True,
                    )
                ]
            )
            return batch

        rows = ds.map_batches(to_hwc, batch_format="numpy").take_all()
    finally:
        ray.shutdown()
    rows.sort(key=lambda row: row["frame"])
    assert len(rows) == frames.count
    for index, row in enumerate(rows):
        assert row["hwc"].shape == (frames.height, frames.width, 3)
        assert np.array_equal(row["hwc"], frames.rgb(index))


# -- Daft --------------------------------------------------------------------------------------


def test_daft_decodes_the_image_column(parquet_file, parquet_dir, frames):
    import daft
    from daft import col

    df = (
        daft.read_parquet(str(parquet_file))
        .where(col("entity_path") == "world/camera/rgb")
        .with_column("decoded", col("image")["bytes"].decode_image())
        .sort("frame")
    )
    decoded = df.select("frame", "decoded").to_pydict()
    assert decoded["frame"] == list(range(frames.count))
    for index, image in enumerate(decoded["decoded"]):
        assert np.array_equal(np.asarray(image), frames.rgb(index))
    counts = (
        daft.read_parquet(f"{parquet_dir}/**/*.parquet")
        .groupby("entity_path")
        .agg(col("kind").count())
        .to_pydict()
    )
    assert dict(zip(counts["entity_path"], counts["kind"], strict=True)) == COUNTS


def test_png_column_is_plain_bytes_any_decoder_reads(parquet_file, frames):
    table = pq.read_table(parquet_file, filters=[("entity_path", "=", "world/camera/segmentation")])
    for index, cell in enumerate(table.column("image").to_pylist()):
        decoded = Image.open(io.BytesIO(cell["bytes"]))
        assert np.array_equal(np.asarray(decoded), frames.segmentation(index))
