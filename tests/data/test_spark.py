"""Apache Spark (the engine past one machine) reads our Parquet with its own API only.

Spark starts a JVM (about 10 s): the tests are marked ``slow`` (``-m "not slow"`` skips them).
Spark reads ``timestamp[ns]`` columns only as int64 nanoseconds, with
``spark.sql.legacy.parquet.nanosAsLong`` (docs/DATAFRAMES.md).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rerun_sinks._data import records_to_parquet

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
    # pyspark 4.3 warns that it does not yet support pandas 3; nothing here uses pandas.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    scratch = str(tmp_path_factory.mktemp("spark"))  # Spark's files go here, not to /tmp
    session = (
        SparkSession.builder.master("local[1]")
        .appName("rerun-core-tests")
        .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={scratch}")
        .config("spark.local.dir", scratch)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.legacy.parquet.nanosAsLong", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_counts_filters_and_decodes_pixels(spark, records, tmp_path, frames):
    out = records_to_parquet(records, tmp_path / "rec.parquet", images=True)
    df = spark.read.parquet(str(out))
    grouped = df.groupBy("entity_path").count().collect()
    counts = {row["entity_path"]: row["count"] for row in grouped}
    assert counts["world/camera/rgb"] == counts["world/camera/depth"] == frames.count
    assert sum(counts.values()) == len(records)
    start = frames.base_ns + frames.frame_ns  # frames 1 and 2, by their nanosecond times
    rows = (
        df.where("entity_path = 'world/camera/depth'")
        .where(f"sensor_time >= {start} and sensor_time < {start + 2 * frames.frame_ns}")
        .select("frame", "sensor_time", "height", "width", "channels", "dtype", "pixels")
        .orderBy("frame")
        .collect()
    )
    assert [row["frame"] for row in rows] == [1, 2]
    for row in rows:
        assert row["sensor_time"] == frames.base_ns + row["frame"] * frames.frame_ns
        shape = (row["height"], row["width"], row["channels"])
        depth = np.frombuffer(row["pixels"], np.dtype(row["dtype"])).reshape(shape)
        assert np.array_equal(depth[..., 0], frames.depth(row["frame"]))


def test_spark_reads_the_hive_directory(spark, records, tmp_path, frames):
    out = records_to_parquet(records, tmp_path / "rec")
    df = spark.read.parquet(str(out))
    rgb = df.where("entity_path = 'world/camera/rgb'").orderBy("frame").collect()
    assert df.count() == len(records)
    assert [row["frame"] for row in rgb] == list(range(frames.count))
    for row in rgb:
        pixels = np.frombuffer(row["pixels"], np.uint8).reshape(frames.height, frames.width, 3)
        assert np.array_equal(pixels, frames.rgb(row["frame"]))
