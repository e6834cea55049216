"""Decoding small records: ``RecordDecoder`` against the canonical decoder, and to_parquet.

    python benchmarks/bench_decode.py [--mb 100] [--runs 5] [--tmp-dir /tmp] [--out FILE]

1. Writes three recordings with ``FileSink``, each record on a ``frame`` timeline with a
   tick and a wall clock: about ``--mb`` MB of distinct 64x64 RGB u8 noise frames (the
   ``--small-mb`` recording of ``bench_dataframes.py``), about ``--mb`` MB of 64x64 frames
   of three entities (RGB u8, depth u16 with ``meter=1000``, segmentation u8), and the
   worst case for templates: about ``--mb`` / 4 MB of 64x64 segmentation u8 records, each
   at an entity path of its own (every record a new layout).
2. Decodes every record of each file (the same N for every target), ``--runs`` interleaved
   runs (the first place rotates): ``catalog.decode_record_at`` per record (the canonical
   cattrs path, which ``RecordingFile`` used before), ``RecordDecoder().decode_at`` per
   record (a fresh decoder each run, so learning its templates is timed), iterating
   ``open_recording(path)`` (open included) and ``list(iter_records(data))``. Reported: CPU
   time (``time.process_time``) and wall time per record, medians and best.
3. ``to_parquet`` of the RGB recording against ``pq.write_table`` of the same table in
   memory (``bench_dataframes.bench_to_parquet``, the same N).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_dataframes import MB, bench_to_parquet, make_small_recording

import rerun_core as rc
import rerun_sinks as rr
from rerun_core.catalog import decode_record_at

SIDE = 64


def make_mixed_recording(path: Path, mb: float) -> int:
    """Write 64x64 RGB, depth and segmentation frames of about ``mb`` MB; return the records."""
    frame_bytes = SIDE * SIDE * (3 + 2 + 1)
    frames = max(1, int(mb * MB / frame_bytes))
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (16, SIDE, SIDE, 3), np.uint8)
    depth = rng.integers(0, 10_000, (16, SIDE, SIDE), np.uint16)
    ids = rng.integers(0, 20, (16, SIDE, SIDE), np.uint8)
    rec = rr.new_recording("bench-decode", strict=True, sink=rr.FileSink(path))
    for index in range(frames):
        rec.set_time_sequence("frame", index)
        rec.log_image("cam/rgb", rgb[index % 16])
        rec.log_depth_image("cam/depth", depth[index % 16], meter=1000)
        rec.log_segmentation_image("cam/seg", ids[index % 16])
    rec.disconnect()
    return 3 * frames


def make_unique_recording(path: Path, mb: float) -> int:
    """Write 64x64 segmentation records of about ``mb`` MB, each at its own entity path."""
    count = max(1, int(mb * MB / (SIDE * SIDE)))
    ids = np.random.default_rng(3).integers(0, 20, (16, SIDE, SIDE), np.uint8)
    rec = rr.new_recording("bench-decode-unique", strict=True, sink=rr.FileSink(path))
    for index in range(count):
        rec.set_time_sequence("frame", index)
        rec.log_segmentation_image(f"objects/{index}", ids[index % 16])
    rec.disconnect()
    return count


def bench_decoding(path: Path, runs: int, label: str) -> list[str]:
    data = path.read_bytes()
    with rr.open_recording(path) as f:
        offsets = [int(offset) for offset in f.catalog.offset]
    count = len(offsets)

    def canonical() -> None:
        for offset in offsets:
            decode_record_at(data, offset)

    def decoder() -> None:
        decode_at = rc.RecordDecoder().decode_at
        for offset in offsets:
            decode_at(data, offset)

    def recording_file() -> None:
        with rr.open_recording(path) as f:
            for _ in f:
                pass

    def stream() -> None:
        for _ in rc.iter_records(data):
            pass

    targets: list[tuple[str, Callable[[], None]]] = [
        ("`catalog.decode_record_at` per record (canonical)", canonical),
        ("`RecordDecoder().decode_at` per record", decoder),
        ("`for r in open_recording(path)` (open included)", recording_file),
        ("`for r in iter_records(data)`", stream),
    ]
    wall: dict[str, list[float]] = {name: [] for name, _ in targets}
    cpu: dict[str, list[float]] = {name: [] for name, _ in targets}
    for run in range(runs):
        shift = run % len(targets)
        for name, target in targets[shift:] + targets[:shift]:
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            target()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    base = statistics.median(cpu[targets[0][0]])
    lines = [
        f"### Decoding every record: {label}",
        "",
        f"N = {count} records ({len(data) / MB:,.0f} MB file), {runs} interleaved runs each "
        "(the first place rotates); per record, medians [best].",
        "",
        "| target | CPU us/record | wall us/record | CPU vs canonical |",
        "|---|---|---|---|",
    ]
    for name, _ in targets:
        lines.append(
            f"| {name} | {_per(cpu[name], count)} | {_per(wall[name], count)} "
            f"| {base / statistics.median(cpu[name]):.2f}x |"
        )
    lines.append("")
    return lines


def _per(values: list[float], count: int) -> str:
    return f"{statistics.median(values) / count * 1e6:.1f} [{min(values) / count * 1e6:.1f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of each recording")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tmp-dir", default=tempfile.gettempdir())
    parser.add_argument("--out", help="also write the Markdown report here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-decode-", dir=args.tmp_dir))
    started = time.perf_counter()
    try:
        rgb, mixed, unique = work / "rgb.rrc", work / "mixed.rrc", work / "unique.rrc"
        _, rgb_bytes = make_small_recording(rgb, args.mb)
        make_mixed_recording(mixed, args.mb)
        make_unique_recording(unique, args.mb / 4)
        lines: list[str] = [f"## Decoding small records (bench_decode.py --mb {args.mb})", ""]
        lines += bench_decoding(rgb, args.runs, "64x64 RGB u8")
        lines += bench_decoding(mixed, args.runs, "64x64 RGB u8, depth u16, segmentation u8")
        label = "64x64 segmentation u8, every record at its own entity path"
        lines += bench_decoding(unique, args.runs, label)
        heading = "to_parquet, 64x64 RGB frames"
        lines += bench_to_parquet(rgb, work, args.runs, rgb_bytes, heading)
        lines.append(f"Total {time.perf_counter() - started:.0f} s.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
