"""The write path against foxglove-sdk and the limit: the issue 15 ratios, one table.

Every group runs its targets with the same N, interleaved (run 1 of each target, then
run 2, ...), and reports the median end-to-end time per frame and the ratio to the
group's reference. ``--quick`` runs each group once with tiny N (the smoke test).

    python benchmarks/bench_writepath.py [--runs 5] [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bench_targets as bt
import numpy as np

HERE = Path(__file__).resolve().parent
Run = Callable[[bt.Case, bt.Pool, int, Path], bt.Timing]


@dataclass
class Row:
    name: str
    run: Run | None  # None: not measured here (another helper's row, or a missing peer)
    note: str = ""
    timings: list[bt.Timing] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # process CPU seconds per run (all threads)

    def us(self, n: int) -> float:
        return statistics.median(t.total for t in self.timings) / n * 1e6

    def cpu_us(self, n: int) -> float:
        return statistics.median(self.cpu) / n * 1e6


@dataclass
class Group:
    title: str
    case: bt.Case
    n: int
    rows: list[Row]
    target: str  # what the ratio must reach, in words
    reference: int = 0  # index of the row the ratios divide by


# ------------------------------------------------------------------------------- targets


def _rrc_no_fsync(buffer_bytes: int) -> Run:
    """Per-frame log_image into FileSink(.rrc, buffer_bytes=...), then close (no fsync)."""

    def run(case: bt.Case, pool: bt.Pool, n: int, workdir: Path) -> bt.Timing:
        import rerun_sinks as rr  # noqa: PLC0415

        sink = rr.FileSink(workdir / "ours.rrc", buffer_bytes=buffer_bytes)
        rec = rr.new_recording("bench", strict=True, sink=sink)
        t0 = time.perf_counter()
        bt._ours_loop(rec, case, pool.frames, n)
        t1 = time.perf_counter()
        rec.disconnect()  # close: the file is complete (index appended), no fsync
        return bt.Timing(t1 - t0, time.perf_counter() - t0)

    return run


_STACKED: dict[tuple[int, int], np.ndarray] = {}  # the batches send_columns gets, by (pool, N)


def _stacked(pool: bt.Pool, n: int) -> np.ndarray:
    """The N frames as one N x H x W x C array, stacked once (the caller's data, untimed)."""
    key = (id(pool), n)
    if key not in _STACKED:
        _STACKED[key] = np.stack([pool.frames[i % len(pool.frames)] for i in range(n)])
    return _STACKED[key]


def _columns(sink: str) -> Run:
    """send_columns of the N frames (stacked once, before any timer) at N sequence times."""

    def run(case: bt.Case, pool: bt.Pool, n: int, workdir: Path) -> bt.Timing:
        import rerun_sinks as rr  # noqa: PLC0415

        frames = _stacked(pool, n)
        times = {"frame": np.arange(n)}
        target = rr.MemorySink() if sink == "memory" else rr.FileSink(workdir / "cols.rrc")
        rec = rr.new_recording("bench", strict=True, sink=target)
        t0 = time.perf_counter()
        rec.send_columns("cam/image", frames, times=times)
        t1 = time.perf_counter()
        if isinstance(target, rr.MemorySink):
            target.getvalue()
        rec.disconnect()
        return bt.Timing(t1 - t0, time.perf_counter() - t0)

    return run


def _columns_limit(sink: str) -> Run:
    """The physical limit of a batch: its frames' bytes copied once (memory) or written in
    4 MiB system calls (file, then close): no encoding, no CRC."""

    def run(case: bt.Case, pool: bt.Pool, n: int, workdir: Path) -> bt.Timing:
        block = memoryview(_stacked(pool, n)).cast("B")
        t0 = time.perf_counter()
        if sink == "memory":
            bytes(block)
        else:
            fd = os.open(workdir / "limit.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            for start in range(0, len(block), 4 << 20):
                os.write(fd, block[start : start + (4 << 20)])
            os.close(fd)
        t1 = time.perf_counter()
        return bt.Timing(t1 - t0, t1 - t0)

    return run


def _loop(sink: str) -> Run:
    """The per-frame loop that send_columns replaces, with the same sink and ending."""

    def run(case: bt.Case, pool: bt.Pool, n: int, workdir: Path) -> bt.Timing:
        import rerun_sinks as rr  # noqa: PLC0415

        target = rr.MemorySink() if sink == "memory" else rr.FileSink(workdir / "loop.rrc")
        rec = rr.new_recording("bench", strict=True, sink=target)
        t0 = time.perf_counter()
        bt._ours_loop(rec, case, pool.frames, n)
        t1 = time.perf_counter()
        if isinstance(target, rr.MemorySink):
            target.getvalue()
        rec.disconnect()
        return bt.Timing(t1 - t0, time.perf_counter() - t0)

    return run


def _threads(count: int) -> Run:
    import bench  # noqa: PLC0415  (the thread target of the main benchmark)

    return bench._threaded(count).run


def _peer(make: Callable[[], Run], group: str) -> Run | None:
    return None if bt.available(group) else make()


# -------------------------------------------------------------------------------- groups


def groups(quick: bool) -> list[Group]:
    small = bt.Case("rgb64", "rgb", 8 if quick else 64, 8 if quick else 64)
    vga = bt.Case("rgb480", "rgb", 16 if quick else 480, 16 if quick else 640)
    big = bt.Case("rgb1080", "rgb", 16 if quick else 1080, 16 if quick else 1920)
    fox_file = _peer(lambda: bt._foxglove("file", compress=False), "foxglove")
    fox_memory = _peer(lambda: bt._foxglove("memory", compress=False), "foxglove")
    return [
        Group(
            "64x64 RGB per frame to a file (close, no fsync)",
            small,
            4 if quick else 20_000,
            [
                Row("foxglove-sdk open_mcap(path), no compression", fox_file),
                Row("rerun-core FileSink .rrc (default: unbuffered)", _rrc_no_fsync(0)),
                Row("rerun-core FileSink .rrc, buffer_bytes=1 MiB", _rrc_no_fsync(1 << 20)),
                Row("rerun-core McapSink (helper interop's rows)", None, "see the McapSink rows"),
            ],
            "<= 1.0",
        ),
        Group(
            "64x64 RGB per frame to memory (getvalue)",
            small,
            4 if quick else 20_000,
            [
                Row("foxglove-sdk open_mcap(BytesIO), no compression", fox_memory),
                Row("rerun-core MemorySink + getvalue()", _loop("memory")),
            ],
            "<= 1.0",
        ),
        Group(
            "send_columns vs the per-frame loop (64x64 RGB, same sink, e2e)",
            small,
            4 if quick else 5_000,
            [
                Row("per-frame loop, MemorySink + getvalue()", _loop("memory")),
                Row("send_columns, MemorySink + getvalue()", _columns("memory")),
                Row("per-frame loop, FileSink (close)", _loop("file")),
                Row("send_columns, FileSink (close)", _columns("file")),
                Row("limit: one copy of the frames into bytes", _columns_limit("memory")),
                Row("limit: the frames, os.write 4 MiB per call, close", _columns_limit("file")),
            ],
            "<= 0.2 (each send_columns row ÷ the loop row above it)",
        ),
        Group(
            "threads: 640x480 RGB into one FileSink (flush = fsync, close)",
            vga,
            8 if quick else 960,
            [Row(f"{k} thread{'s' * (k > 1)}", _threads(k)) for k in (1, 2, 4)],
            ">= 1.0 (throughput vs 1 thread, i.e. time ratio <= 1.0)",
        ),
        Group(
            "1080p RGB to FileSink (flush = fsync, close) vs os.write + one fsync",
            big,
            3 if quick else 60,
            [
                Row("limit: os.write per frame + one fsync", bt._os_write(fsync=True)),
                Row("rerun-core FileSink .rrc", bt._ours(bt._file_sink)),
            ],
            ">= 0.8 throughput (time ratio <= 1.25)",
        ),
    ]


# --------------------------------------------------------------------------------- run


def measure(group: Group, runs: int, workdir: Path) -> None:
    pool = bt.make_pool(group.case, quick=group.n < 10)
    rows = [row for row in group.rows if row.run is not None]
    if any(row.name.startswith("send_columns") for row in rows):  # the caller's batches
        _stacked(pool, min(group.n, 200))
        _stacked(pool, group.n)
    for row in rows:  # warm-up, not recorded
        _once(row, group, pool, min(group.n, 200), workdir)
    for _ in range(runs):
        for row in rows:
            timing, cpu = _once(row, group, pool, group.n, workdir)
            row.timings.append(timing)
            row.cpu.append(cpu)


def _once(row: Row, group: Group, pool: bt.Pool, n: int, workdir: Path) -> tuple[bt.Timing, float]:
    """Run ``row`` once: its timing and the process CPU seconds (all threads) it took."""
    assert row.run is not None
    gc.collect()
    try:
        cpu = time.process_time()
        timing = row.run(group.case, pool, n, workdir)
        return timing, time.process_time() - cpu
    finally:
        for path in workdir.iterdir():
            path.unlink()


def render(all_groups: Sequence[Group], runs: int) -> str:
    lines = [
        f"Medians of {runs} interleaved runs; N is the same for every row of a group.",
        "",
        "| group | N | target | row | µs/frame e2e median [best] | ratio "
        "| CPU µs/frame median | CPU ratio |",
        "|---|--:|---|---|--:|--:|--:|--:|",
    ]
    for group in all_groups:
        ref = group.rows[group.reference]
        for index, row in enumerate(group.rows):
            if not row.timings:
                why = row.note or "not installed"
                lines.append(
                    f"| {group.title} | {group.n:,} | {group.target} | {row.name} | - ({why}) "
                    "| - | - | - |"
                )
                continue
            best = min(t.total for t in row.timings) / group.n * 1e6
            base = ref
            if row.name.startswith("per-frame loop"):  # the reference of the next row
                base = row
            elif row.name.startswith("send_columns"):  # ÷ the loop row just above it
                base = group.rows[index - 1]
            ratio = f"{row.us(group.n) / base.us(group.n):.2f}" if base.timings else "-"
            cpu = f"{row.cpu_us(group.n) / base.cpu_us(group.n):.2f}" if base.cpu else "-"
            if row.name.startswith("limit: ") and group.title.startswith("send_columns"):
                paired = group.rows[index - (3 if "copy" in row.name else 2)]
                ratio = f"send_columns ÷ limit = {paired.us(group.n) / row.us(group.n):.2f}"
                cpu = "-"
            lines.append(
                f"| {group.title} | {group.n:,} | {group.target} | {row.name} "
                f"| {row.us(group.n):,.1f} [{best:,.1f}] | {ratio} "
                f"| {row.cpu_us(group.n):,.1f} | {cpu} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--tmp-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    workdir = Path(tempfile.mkdtemp(prefix=".bench-tmp-", dir=args.tmp_dir))
    all_groups = groups(args.quick)
    try:
        for group in all_groups:
            print(f"{group.title} (N={group.n})", file=sys.stderr, flush=True)
            measure(group, runs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = render(all_groups, runs)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
