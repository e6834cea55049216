"""Recordings as data: to_parquet throughput, engine queries, and peak memory (issue 14).

    python benchmarks/bench_dataframes.py [--gb 1.0] [--runs 3] [--small-mb 100] [--big-gb 3.0]
                                          [--limit-mib 256] [--tmp-dir /tmp] [--out FILE]

1. Writes a recording of 640x480 frames (RGB u8 camera-like, depth u16, segmentation u8;
   ``frame`` and ``sensor_time`` timelines) of about ``--gb`` GB to an ``.rrc`` file.
2. ``to_parquet``: ``open_recording(rrc).to_parquet(out)`` against the limit, pyarrow
   writing the same table (already in memory) with the same options; interleaved runs,
   the same N (every record of the file) for both; MB/s = pixel bytes / seconds.
3. DuckDB and Polars queries over that Parquet file (group-by count, a time-range filter
   fetching pixels, one frame by number); median of ``--runs``.
   Then step 2 again on ``--small-mb`` MB of 64x64 RGB frames, where the cost per record
   (decoding it, building its row) outweighs the pixels.
4. Peak memory under a hard limit: a second recording of ``--big-gb`` GB, then
   ``to_arrow`` (batches consumed and dropped), ``to_parquet`` and ``from_parquet`` (records
   consumed and dropped), each in a fresh child process whose own memory is capped with
   ``RLIMIT_DATA`` at ``--limit-mib`` MiB, several times smaller than the file (the
   read-only memory map of the recording is page cache, not counted); a control,
   ``pa.table(f)``, loads the whole recording under the same cap and must fail. Reported:
   the Arrow pool's peak, the peak anonymous RSS sampled every 2 ms, VmHWM (which also
   counts the mapped file pages) and RssFile.

Every file is written under ``--tmp-dir`` and deleted at the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
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

import numpy as np
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


def make_small_recording(path: Path, mb: float) -> tuple[int, int]:
    """Write distinct 64x64 RGB u8 noise frames (12 KiB each, incompressible) of about
    ``mb`` MB; return (records, pixel bytes)."""
    count = max(1, int(mb * MB / (64 * 64 * 3)))
    frames = np.random.default_rng(11).integers(0, 256, (count, 64, 64, 3), np.uint8)
    rec = rr.new_recording("bench-dataframes-small", strict=True, sink=rr.FileSink(path))
    for index in range(count):
        rec.set_time_sequence("frame", index)
        rec.log_image("world/camera/small", frames[index])
    rec.disconnect()
    return count, frames.nbytes


def bench_to_parquet(
    rrc: Path, work: Path, runs: int, pixel_bytes: int, heading: str = "to_parquet throughput"
) -> list[str]:
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
    groups = {n: pq.ParquetFile(work / f"{n}.parquet").metadata.num_row_groups for n in times}
    mbs = {n: pixel_bytes / MB / statistics.median(t) for n, t in times.items()}
    paired = statistics.median(a / b for a, b in zip(times["limit"], times["ours"], strict=True))

    def row(name: str, label: str) -> str:
        return (
            f"| {label} | {_median_best(times[name])} | {mbs[name]:,.0f} "
            f"| {_median_best(cpu[name])} | {size[name] / MB:,.0f} MB, {groups[name]} |"
        )

    return [
        f"### {heading}",
        "",
        f"N = {table.num_rows} records ({pixel_bytes / MB:,.0f} MB of pixels), "
        f"{runs} interleaved runs each (who runs first alternates), zstd, statistics and page "
        f"index, row groups of about {ROW_GROUP_BYTES >> 20} MiB (ours: cut by bytes and at "
        f"entities; the limit: {rows_per_group} rows).",
        "",
        "| target | wall median [best] | MB/s (median) | CPU median [best] "
        "| file size, row groups |",
        "|---|---|---|---|---|",
        row("ours", "`open_recording(rrc).to_parquet(out)`"),
        row("limit", "limit: `pq.write_table` of the same table, in memory"),
        "",
        f"Ratio ours / limit: **{mbs['ours'] / mbs['limit']:.2f}x** MB/s (medians; median of "
        f"the per-run ratios {paired:.2f}x; best runs "
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
    # Imported here, so that the memory children (this file too) do not load them.
    import duckdb  # noqa: PLC0415
    import polars as pl  # noqa: PLC0415

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


_LIMITED_OPS = {
    "to_arrow": "`to_arrow()`, batches consumed and dropped",
    "to_parquet": "`to_parquet(out.parquet)`",
    "from_parquet": "`from_parquet(out.parquet)`, records consumed and dropped",
    "pa.table": "control: `pa.table(f)` (the whole recording in memory)",
}


def child_memory(operation: str, source: str, out: str, limit_mib: str) -> dict[str, Any]:
    """Run ``operation`` under ``RLIMIT_DATA`` = ``limit_mib`` (0: none); report its memory.

    ``RLIMIT_DATA`` caps the process's own memory (heap and anonymous maps, Arrow's pool
    included) and not the read-only memory map of the recording, which is page cache.
    """
    f = rr.open_recording(source) if operation != "from_parquet" else None
    gc.collect()
    pool = pa.default_memory_pool()
    base = {field: _status_kib(field) * 1024 for field in ("RssAnon", "VmHWM", "VmData")}
    if int(limit_mib):
        limit = int(limit_mib) << 20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    sampler = _AnonSampler()
    sampler.start()
    start = time.perf_counter()
    status = "ok"
    try:
        if operation == "to_arrow":
            for _batch in f.to_arrow():  # type: ignore[union-attr]
                pass
        elif operation == "to_parquet":
            f.to_parquet(out, overwrite=True)  # type: ignore[union-attr]
        elif operation == "from_parquet":
            for _record in rr.from_parquet(source):
                pass
        else:
            pa.table(f)
    except MemoryError as error:  # pa.ArrowMemoryError is one
        status = f"failed: {type(error).__name__}"
    seconds = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    return {
        "status": status,
        "seconds": seconds,
        "arrow_pool_peak": pool.max_memory(),
        "anon_peak": sampler.peak - base["RssAnon"],
        "hwm": _status_kib("VmHWM") * 1024 - base["VmHWM"],
        "file_pages": _status_kib("RssFile") * 1024,
        "data_base": base["VmData"],
        "file": Path(source).stat().st_size,
    }


def _run_child(operation: str, source: Path, out: Path, limit_mib: int) -> dict[str, Any]:
    # mimalloc (Arrow's default pool) reserves address space 1 GiB at a time, which
    # RLIMIT_DATA counts as if used; 64 MiB steps keep the limit about memory in use.
    env = {**os.environ, "MIMALLOC_ARENA_RESERVE": "64MiB"}
    command = [sys.executable, __file__, "--memory-child", operation, str(source), str(out)]
    result = subprocess.run(
        [*command, str(limit_mib)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode or not lines:  # killed by the allocator (std::bad_alloc, abort)
        error = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": f"failed: exit {result.returncode} ({error[:60]})"}
    row: dict[str, Any] = json.loads(lines[-1])
    return row


def bench_memory(rrc: Path, work: Path, limit_mib: int) -> list[str]:
    parquet = work / "limited.parquet"
    lines = [
        "### Peak memory under a hard memory limit (fresh child process each)",
        "",
        f"Recording {rrc.stat().st_size / MB:,.0f} MB; each operation runs in a child process "
        f"whose own memory is capped at {limit_mib} MiB (`RLIMIT_DATA`: heap and anonymous "
        "maps, Arrow's pool included, the interpreter and libraries too; the recording's "
        "read-only memory map is page cache and not counted). `to_parquet` row groups of "
        f"{ROW_GROUP_BYTES >> 20} MiB, `to_arrow` batches of 8 MiB.",
        "",
        "| operation | result | time | data memory at start | Arrow pool peak "
        "| anonymous RSS growth (peak) | VmHWM growth | mapped file pages (RssFile) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for operation, label in _LIMITED_OPS.items():
        source = parquet if operation == "from_parquet" else rrc
        r = _run_child(operation, source, parquet, limit_mib)
        if "seconds" not in r:
            lines.append(f"| {label} | {r['status']} | | | | | | |")
            continue
        lines.append(
            f"| {label} | {r['status']} | {r['seconds']:.2f} s | {r['data_base'] / MiB:,.0f} MiB "
            f"| {r['arrow_pool_peak'] / MiB:,.1f} MiB | {r['anon_peak'] / MiB:,.1f} MiB "
            f"| {r['hwm'] / MiB:,.0f} MiB | {r['file_pages'] / MiB:,.0f} MiB |"
        )
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="recording size (default 1.0)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tmp-dir", default=tempfile.gettempdir())
    parser.add_argument("--out", help="also write the Markdown report here")
    parser.add_argument(
        "--big-gb", type=float, default=3.0, help="recording for the memory limit (default 3.0)"
    )
    parser.add_argument(
        "--limit-mib", type=int, default=256, help="the memory limit of that run (default 256)"
    )
    parser.add_argument(
        "--small-mb",
        type=float,
        default=100.0,
        help="a recording of 64x64 frames for to_parquet's per-record cost (default 100; 0: none)",
    )
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
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
        rrc.unlink()
        if args.small_mb > 0:
            small = work / "small.rrc"
            _, small_bytes = make_small_recording(small, args.small_mb)
            heading = "to_parquet throughput, 64x64 RGB frames (per-record cost)"
            lines += bench_to_parquet(small, work, args.runs, small_bytes, heading)
            small.unlink()
        big = work / "big.rrc"
        make_recording(big, args.big_gb)
        lines += bench_memory(big, work, args.limit_mib)
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
