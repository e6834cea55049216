"""Recordings as data: to_parquet throughput, engine queries, and peak memory (issue 14).

    python benchmarks/bench_dataframes.py [--gb 1.0] [--runs 3] [--tmp-dir /tmp] [--out FILE]

1. Writes a recording of 640x480 frames (RGB u8 camera-like, depth u16, segmentation u8;
   ``frame`` and ``sensor_time`` timelines) of about ``--gb`` GB to an ``.rrc`` file.
2. ``to_parquet``: ``open_recording(rrc).to_parquet(out)`` against the limit, pyarrow
   writing the same table (already in memory) with the same options; interleaved runs,
   the same N (every record of the file) for both; MB/s = pixel bytes / seconds.
3. DuckDB and Polars queries over that Parquet file (group-by count, a time-range filter
   fetching pixels, one frame by number); median of ``--runs``.
4. Peak memory of ``to_arrow`` (reader consumed and dropped batch by batch) and
   ``to_parquet`` in a fresh child process: the Arrow pool's peak, and the peak anonymous
   RSS sampled every 2 ms (file-backed pages of the memory-mapped recording are page cache
   the kernel may drop, so they are reported apart as VmHWM).

Every file is written under ``--tmp-dir`` and deleted at the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

import rerun_sinks as rr
from rerun_sinks._parquet import _DICTIONARY, _UNSTATS
from rerun_sinks._samples import synthetic_frame

MB = 10**6
MiB = 2**20
HEIGHT, WIDTH = 480, 640
FRAME_BYTES = HEIGHT * WIDTH * (3 + 2 + 1)  # rgb + depth + segmentation of one frame
ROW_GROUP_BYTES = 32 << 20


def make_recording(path: Path, gb: float) -> tuple[int, int]:
    """Write the recording; return (records, pixel bytes)."""
    frames = max(1, int(gb * 1e9 / FRAME_BYTES))
    rng = np.random.default_rng(7)
    pool = []
    for index in range(16):
        rgb, depth, ids = synthetic_frame(index * 11, height=HEIGHT, width=WIDTH)
        noise = rng.integers(0, 8, rgb.shape, dtype=np.uint8)
        pool.append((rgb + noise, depth, ids))
    rec = rr.new_recording("bench-dataframes", strict=True, sink=rr.FileSink(path))
    for index in range(frames):
        rgb, depth, ids = pool[index % len(pool)]
        rec.set_time_sequence("frame", index)
        rec.set_time_nanos("sensor_time", 1_767_225_600_000_000_000 + index * 33_333_333)
        rec.log_image("world/camera/rgb", rgb)
        rec.log_depth_image("world/camera/depth", depth, meter=1000)
        rec.log_segmentation_image("world/camera/segmentation", ids)
    rec.disconnect()
    return 3 * frames, frames * FRAME_BYTES


def _median_best(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s [best {min(values):.3f}]"


def bench_to_parquet(rrc: Path, work: Path, runs: int, pixel_bytes: int) -> list[str]:
    with rr.open_recording(rrc) as f:
        table = f.to_arrow().read_all()
    options = {
        "compression": "zstd",
        "use_dictionary": _DICTIONARY,
        "write_statistics": [n for n in table.schema.names if n not in _UNSTATS],
        "write_page_index": True,
    }
    rows_per_group = max(1, ROW_GROUP_BYTES * table.num_rows // max(table.nbytes, 1))

    def ours() -> None:
        with rr.open_recording(rrc) as f:
            f.to_parquet(work / "ours.parquet", overwrite=True)

    def limit() -> None:
        pq.write_table(table, work / "limit.parquet", row_group_size=rows_per_group, **options)

    times: dict[str, list[float]] = {"ours": [], "limit": []}
    cpu: dict[str, list[float]] = {"ours": [], "limit": []}
    targets = [("ours", ours), ("limit", limit)]
    for run in range(runs):
        for name, target in targets[run % 2 :] + targets[: run % 2]:  # first place rotates
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            target()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    size = {n: (work / f"{n}.parquet").stat().st_size for n in times}
    mbs = {n: pixel_bytes / MB / statistics.median(t) for n, t in times.items()}
    return [
        "### to_parquet throughput",
        "",
        f"N = {len(rr.open_recording(rrc))} records ({pixel_bytes / MB:,.0f} MB of pixels), "
        f"{runs} interleaved runs each (who runs first alternates), zstd, row groups of "
        f"{ROW_GROUP_BYTES >> 20} MiB.",
        "",
        "| target | wall median [best] | MB/s (median) | CPU median [best] | file size |",
        "|---|---|---|---|---|",
        f"| `open_recording(rrc).to_parquet(out)` | {_median_best(times['ours'])} "
        f"| {mbs['ours']:,.0f} | {_median_best(cpu['ours'])} | {size['ours'] / MB:,.0f} MB |",
        f"| limit: `pq.write_table` of the same table, in memory | "
        f"{_median_best(times['limit'])} | {mbs['limit']:,.0f} | {_median_best(cpu['limit'])} "
        f"| {size['limit'] / MB:,.0f} MB |",
        "",
        f"Ratio ours / limit: **{mbs['ours'] / mbs['limit']:.2f}x** MB/s (medians; best runs "
        f"{min(times['limit']) / min(times['ours']):.2f}x; CPU time "
        f"{statistics.median(cpu['limit']) / statistics.median(cpu['ours']):.2f}x). Target "
        ">= 0.7x; the limit does not read the recording (CRC-checked) or build the table.",
        "",
    ]


def _timed(query: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = query()
        times.append(time.perf_counter() - start)
    return times, result


def bench_queries(parquet: Path, runs: int, frames: int) -> list[str]:
    start_ns = 1_767_225_600_000_000_000 + (frames // 2) * 33_333_333
    stop_ns = start_ns + 10 * 33_333_333
    path = str(parquet)
    lo = np.datetime64(start_ns, "ns")
    hi = np.datetime64(stop_ns, "ns")
    queries: dict[str, dict[str, Callable[[], Any]]] = {
        "group-by count per entity, min/max time": {
            "DuckDB": lambda: duckdb.sql(
                f"select entity_path, count(*), min(sensor_time), max(sensor_time) "
                f"from '{path}' group by 1"
            ).fetchall(),
            "Polars": lambda: (
                pl.scan_parquet(path)
                .group_by("entity_path")
                .agg(
                    pl.len(),
                    pl.col("sensor_time").min().alias("first"),
                    pl.col("sensor_time").max().alias("last"),
                )
                .collect()
            ),
        },
        "10 RGB frames in a time range, with pixels": {
            "DuckDB": lambda: duckdb.execute(
                f"select frame, pixels from '{path}' where entity_path = 'world/camera/rgb' "
                "and sensor_time >= ? and sensor_time < ?",
                [lo.astype("datetime64[us]").item(), hi.astype("datetime64[us]").item()],
            ).fetchall(),
            "Polars": lambda: (
                pl.scan_parquet(path)
                .filter(
                    (pl.col("entity_path") == "world/camera/rgb")
                    & (pl.col("sensor_time") >= pl.lit(lo))
                    & (pl.col("sensor_time") < pl.lit(hi))
                )
                .select("frame", "pixels")
                .collect()
            ),
        },
        "one depth frame by number, with pixels": {
            "DuckDB": lambda: duckdb.sql(
                f"select pixels from '{path}' where entity_path = 'world/camera/depth' "
                f"and frame = {frames // 3}"
            ).fetchall(),
            "Polars": lambda: (
                pl.scan_parquet(path)
                .filter(
                    (pl.col("entity_path") == "world/camera/depth")
                    & (pl.col("frame") == frames // 3)
                )
                .select("pixels")
                .collect()
            ),
        },
    }
    lines = [
        "### DuckDB and Polars over the Parquet file",
        "",
        f"{parquet.stat().st_size / MB:,.0f} MB Parquet of {frames} frames x 3 entities; "
        f"median [best] of {runs} runs (the first run reads from a cold process, not a cold disk).",
        "",
        "| query | engine | time | rows |",
        "|---|---|---|---|",
    ]
    for name, engines in queries.items():
        for engine, query in engines.items():
            times, result = _timed(query, runs)
            rows = len(result)
            lines.append(f"| {name} | {engine} | {_median_best(times)} | {rows} |")
    lines.append("")
    return lines


# -- peak memory, in a child process -----------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class _AnonSampler(threading.Thread):
    """Samples RssAnon every 2 ms; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _status_kib("RssAnon") * 1024)
            time.sleep(0.002)


def child_memory(operation: str, rrc: str, out: str) -> dict[str, Any]:
    f = rr.open_recording(rrc)
    gc.collect()
    pool = pa.default_memory_pool()
    base_anon = _status_kib("RssAnon") * 1024
    base_hwm = _status_kib("VmHWM") * 1024
    sampler = _AnonSampler()
    sampler.start()
    start = time.perf_counter()
    if operation == "to_arrow":
        rows = 0
        for batch in f.to_arrow():
            rows += batch.num_rows
    else:
        f.to_parquet(out, overwrite=True)
    seconds = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    return {
        "operation": operation,
        "seconds": seconds,
        "arrow_pool_peak": pool.max_memory(),
        "anon_peak": sampler.peak - base_anon,
        "hwm": _status_kib("VmHWM") * 1024 - base_hwm,
        "file": Path(rrc).stat().st_size,
    }


def bench_memory(rrc: Path, work: Path) -> list[str]:
    lines = [
        "### Peak memory (fresh child process each)",
        "",
        f"Recording {rrc.stat().st_size / MB:,.0f} MB; `to_parquet` row groups of "
        f"{ROW_GROUP_BYTES >> 20} MiB, `to_arrow` batches of 8 MiB.",
        "",
        "| operation | time | Arrow pool peak | anonymous RSS peak (sampled) "
        "| VmHWM growth (incl. mapped file pages) |",
        "|---|---|---|---|---|",
    ]
    for operation in ("to_arrow", "to_parquet"):
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--memory-child",
                operation,
                str(rrc),
                str(work / "m.parquet"),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(result.stdout.strip().splitlines()[-1])
        lines.append(
            f"| `{operation}` | {r['seconds']:.2f} s | {r['arrow_pool_peak'] / MiB:,.1f} MiB "
            f"| {r['anon_peak'] / MiB:,.1f} MiB | {r['hwm'] / MiB:,.1f} MiB |"
        )
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="recording size (default 1.0)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tmp-dir", default=tempfile.gettempdir())
    parser.add_argument("--out", help="also write the Markdown report here")
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(child_memory(*args.memory_child)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-dataframes-", dir=args.tmp_dir))
    try:
        started = time.perf_counter()
        rrc = work / "recording.rrc"
        records, pixel_bytes = make_recording(rrc, args.gb)
        frames = records // 3
        lines = [
            f"## Dataframes (bench_dataframes.py --gb {args.gb} --runs {args.runs})",
            "",
            f"Recording: {rrc.stat().st_size / MB:,.0f} MB `.rrc`, {records} records "
            f"({frames} frames of RGB, depth and segmentation, {HEIGHT}x{WIDTH}); "
            f"written in {time.perf_counter() - started:.1f} s.",
            "",
        ]
        lines += bench_to_parquet(rrc, work, args.runs, pixel_bytes)
        lines += bench_queries(work / "ours.parquet", args.runs, frames)
        lines += bench_memory(rrc, work)
        lines.append(f"Total {time.perf_counter() - started:.0f} s; versions: {_versions()}.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    return 0


def _versions() -> str:
    return ", ".join(f"{d} {metadata.version(d)}" for d in ("pyarrow", "duckdb", "polars"))


if __name__ == "__main__":
    sys.exit(main())
