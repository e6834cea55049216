"""Image-logging benchmarks: rerun-core vs rerun-sdk, foxglove-sdk, mcap and the limit.

Run ``make bench`` (or ``.venv-bench/bin/python benchmarks/bench.py``); ``--quick`` runs
every case once with tiny frames (the smoke test), ``--out FILE`` writes the Markdown
report. See benchmarks/README.md for the method.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bench_memory
import bench_targets as bt
import numpy as np

HERE = Path(__file__).resolve().parent
N_MAX = 200_000
QUICK_N = 3
MiB = 2**20


# ----------------------------------------------------------------------------- results


@dataclass
class Measured:
    target: bt.Target
    label: str  # case name, size, thread count
    n: int
    frame_bytes: int
    timings: list[bt.Timing] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.timings)

    def total(self, how: Callable[[Sequence[float]], float]) -> float:
        return how([t.total for t in self.timings])

    def loop(self, how: Callable[[Sequence[float]], float]) -> float:
        return how([t.loop for t in self.timings])

    def mbps(self, how: Callable[[Sequence[float]], float] = statistics.median) -> float:
        return self.n * self.frame_bytes / self.total(how) / 1e6

    def fps(self) -> float:
        return self.n / self.total(statistics.median)

    def us_loop(self, how: Callable[[Sequence[float]], float] = statistics.median) -> float:
        return self.loop(how) / self.n * 1e6

    def us_e2e(self, how: Callable[[Sequence[float]], float] = statistics.median) -> float:
        return self.total(how) / self.n * 1e6


@dataclass
class Report:
    args: argparse.Namespace
    workdir: Path
    cases: list[tuple[bt.Case, int, list[Measured]]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    sizes: list[tuple[int, list[Measured]]] = field(default_factory=list)
    threads: list[Measured] = field(default_factory=list)
    memory: list[bench_memory.MemoryResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ running


def _run_once(target: bt.Target, case: bt.Case, pool: bt.Pool, n: int, workdir: Path) -> bt.Timing:
    gc.collect()
    try:
        return target.run(case, pool, n, workdir)
    finally:
        for path in workdir.iterdir():
            path.unlink()


def calibrate(
    target: bt.Target, case: bt.Case, pool: bt.Pool, workdir: Path, seconds: float
) -> int:
    """Pick N so that one run of ``target`` takes about ``seconds`` (also warms up).

    The pilot size grows until a run takes a quarter of ``seconds``; that run is then
    repeated once and the faster of the two sets N (one slow pilot on this noisy VM
    would otherwise make every run of the target too short).
    """
    n = max(bt.MIN_POOL, min(500, int(4e6 // max(pool.frame_bytes, 1))))
    while True:
        elapsed = max(_run_once(target, case, pool, n, workdir).total, 1e-6)
        if elapsed >= seconds / 4 or n >= N_MAX:
            break
        n = min(N_MAX, int(n * min(10.0, max(2.0, seconds / 2 / elapsed))))
    elapsed = min(elapsed, max(_run_once(target, case, pool, n, workdir).total, 1e-6))
    return max(bt.MIN_POOL, min(N_MAX, round(n * seconds / elapsed)))


def measure_all(
    targets: Sequence[bt.Target],
    case: bt.Case,
    pool: bt.Pool,
    label: str,
    report: Report,
    *,
    n: int | None = None,
) -> list[Measured]:
    """Calibrate each target, then run them interleaved ``runs`` times."""
    args = report.args
    results: list[Measured] = []
    for target in targets:
        m = Measured(target, label, 0, pool.frame_bytes)
        try:
            if n is not None:
                m.n = n
            elif args.quick:
                m.n = QUICK_N
            else:
                m.n = calibrate(target, case, pool, report.workdir, args.seconds)
        except Exception as err:
            m.error = f"{type(err).__name__}: {err}"
        results.append(m)
    for _ in range(args.runs):
        for m in results:
            if m.error is not None:
                continue
            try:
                m.timings.append(_run_once(m.target, case, pool, m.n, report.workdir))
            except Exception as err:
                m.error = f"{type(err).__name__}: {err}"
    for m in results:
        name = f"{bt.GROUP_TITLES[m.target.group]} {m.target.name}"
        if m.error is not None:
            report.errors.append(f"{label} / {name}: {m.error}")
            log(f"  {label:>12} {name:<40} ERROR {m.error}")
        else:
            log(
                f"  {label:>12} {name:<40} N={m.n:<7} {m.mbps():>9,.0f} MB/s "
                f"{m.us_loop():>9.1f} us/call"
            )
    return results


def run_cases(report: Report, targets: Sequence[bt.Target]) -> None:
    cases = bt.quick_cases() if report.args.quick else bt.FULL_CASES
    wanted = set(report.args.cases.split(",")) if report.args.cases else None
    for case in cases:
        if wanted is not None and case.name not in wanted:
            continue
        log(f"case {case.name}: {case.label}")
        pool = bt.make_pool(case, quick=report.args.quick)
        results = measure_all(targets, case, pool, case.name, report)
        report.cases.append((case, pool.frame_bytes, results))


def run_sizes(report: Report) -> None:
    sides = (8, 16) if report.args.quick else (64, 256, 1024, 2048, 4096)
    targets = [bt.OURS_FILE, bt.OURS_MEMORY, bt.WRITE_FSYNC, bt.MEMCPY]
    for side in sides:
        case = bt.Case(f"rgb{side}sq", "rgb", side, side)
        log(f"size {side}x{side}")
        pool = bt.make_pool(case, quick=report.args.quick)
        report.sizes.append((side, measure_all(targets, case, pool, f"{side}^2", report)))
        del pool


def run_threads(report: Report) -> None:
    quick = report.args.quick
    case = bt.Case("rgb480", "rgb", 16, 16) if quick else bt.Case("rgb480", "rgb", 480, 640)
    pool = bt.make_pool(case, quick=quick)
    counts = (1, 2) if quick else (1, 2, 4, 8)
    n = 16 if quick else None
    if n is None:
        n = calibrate(_threaded(1), case, pool, report.workdir, report.args.seconds)
    targets = [_threaded(k) for k in counts]
    log("threads")
    report.threads = measure_all(targets, case, pool, "threads", report, n=n - n % 8 or 8)


def _threaded(count: int) -> bt.Target:
    def run(case: bt.Case, pool: bt.Pool, n: int, workdir: Path) -> bt.Timing:
        import rerun_sinks as rr  # noqa: PLC0415

        rec = rr.new_recording("bench-threads", strict=True, sink=rr.FileSink(workdir / "t.rrc"))
        barrier = threading.Barrier(count + 1)
        share = n // count
        errors: list[BaseException] = []

        def worker(k: int) -> None:
            try:
                barrier.wait()
                frames, m = pool.frames, len(pool.frames)
                for i in range(share):
                    rec.set_time_sequence("frame", i)
                    rec.log_image(f"cam{k}/image", frames[(i + k) % m])
            except BaseException as err:  # reported after join
                errors.append(err)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(count)]
        for thread in threads:
            thread.start()
        barrier.wait()
        t0 = time.perf_counter()
        for thread in threads:
            thread.join()
        t1 = time.perf_counter()
        rec.flush()
        rec.disconnect()
        t2 = time.perf_counter()
        if errors:
            raise errors[0]
        return bt.Timing(t1 - t0, t2 - t0)

    name = f"{count} thread{'s' * (count > 1)}"
    return bt.Target("ours", name, "file", run, bt.LIMIT_WRITE_FSYNC)


def run_memory(report: Report) -> None:
    quick = report.args.quick
    frames = 20 if quick else report.args.memory_frames
    shape = (32, 32, 3) if quick else (1080, 1920, 3)
    max_bytes = 4 * 32 * 32 * 3 if quick else 64 * MiB
    log(f"memory: {frames} frames {shape} through BackgroundSink(FileSink, max_bytes={max_bytes})")
    kwargs = {"frames": frames, "shape": shape, "max_bytes": max_bytes, "workdir": report.workdir}
    try:
        report.memory.append(bench_memory.measure(method="tracemalloc", **kwargs))  # type: ignore[arg-type]
        report.memory.append(bench_memory.measure_rss_in_child(**kwargs))  # type: ignore[arg-type]
    except Exception as err:
        report.errors.append(f"memory: {type(err).__name__}: {err}")
        log(f"  memory ERROR {err}")
    for path in report.workdir.iterdir():
        path.unlink()
    for r in report.memory:
        log(f"  {r.method}: peak {_size(r.peak_bytes)} (bound {_size(r.bound)})")


# ------------------------------------------------------------------------------ report


def _size(nbytes: float) -> str:
    return f"{nbytes / MiB:,.2f} MiB" if abs(nbytes) >= MiB / 10 else f"{nbytes / 1024:,.1f} KiB"


def _num(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def _find(results: Sequence[Measured], group: str, name: str) -> Measured | None:
    for m in results:
        if m.target.group == group and m.target.name == name and m.ok:
            return m
    return None


_SHORT_LIMIT = {
    bt.LIMIT_MEMCPY: "memcpy",
    bt.LIMIT_WRITE_FSYNC: "write+fsync",
    bt.LIMIT_WRITE: "write",
}


def _case_table(results: Sequence[Measured]) -> list[str]:
    lines = [
        "| library | sink | N | frames/s | MB/s median [best] | µs/call log loop median [min] "
        "| µs/frame e2e median | ÷ limit | ÷ rerun-sdk |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for m in results:
        title = bt.GROUP_TITLES[m.target.group]
        if not m.ok:
            lines.append(f"| {title} | {m.target.name} | {m.n} | error: {m.error} | | | | | |")
            continue
        limit = _find(results, "limit", m.target.limit)
        rerun_name = "memory_recording()" if m.target.sink == "memory" else "save() .rrd"
        rerun = _find(results, "rerun", rerun_name)
        lines.append(
            f"| {title} | {m.target.name} | {_num(m.n)} | {_num(m.fps())} "
            f"| {_num(m.mbps())} [{_num(m.mbps(min))}] "
            f"| {m.us_loop():,.1f} [{m.us_loop(min):,.1f}] | {m.us_e2e():,.1f} "
            f"| {_ratio(m.mbps(), limit.mbps() if limit else None)} "
            f"({_SHORT_LIMIT[m.target.limit]}) "
            f"| {_ratio(m.mbps(), rerun.mbps() if rerun else None)} |"
        )
    return lines


def _headline(report: Report) -> list[str]:
    columns: list[tuple[str, str]] = []
    for _, _, results in report.cases:
        for m in results:
            key = (m.target.group, m.target.name)
            if key not in columns:
                columns.append(key)
    head = " | ".join(f"{bt.GROUP_TITLES[g]} {n}" for g, n in columns)
    lines = [f"| case | {head} |", "|---|" + "--:|" * len(columns)]
    for case, _, results in report.cases:
        cells = []
        for group, name in columns:
            m = _find(results, group, name)
            cells.append(_num(m.mbps()) if m else "-")
        lines.append(f"| {case.name} | " + " | ".join(cells) + " |")
    return lines


def _per_call(report: Report) -> list[str]:
    first = next((r for c, _, r in report.cases if c.name == "rgb64"), None)
    if first is None:
        return []
    lines = [
        "| library | sink | µs/call log loop median [min] | µs/frame e2e median [min] "
        "| each run: µs/call (page faults/call) |",
        "|---|---|--:|--:|---|",
    ]
    for m in first:
        if m.ok:
            lines.append(
                f"| {bt.GROUP_TITLES[m.target.group]} | {m.target.name} "
                f"| {m.us_loop():,.1f} [{m.us_loop(min):,.1f}] "
                f"| {m.us_e2e():,.1f} [{m.us_e2e(min):,.1f}] | {_runs_with_faults(m)} |"
            )
    return lines


def _runs_with_faults(m: Measured) -> str:
    """Each run's loop µs/call and minor page faults/call (measured for rerun-core only)."""
    if any(t.loop_faults is None for t in m.timings):
        return "-"
    return ", ".join(
        f"{t.loop / m.n * 1e6:,.1f} ({(t.loop_faults or 0) / m.n:.1f})" for t in m.timings
    )


def _sizes_table(report: Report) -> list[str]:
    names = [bt.OURS_FILE, bt.OURS_MEMORY, bt.WRITE_FSYNC, bt.MEMCPY]
    head = " | ".join(f"{bt.GROUP_TITLES[t.group]} {t.name}" for t in names)
    lines = [
        "MB/s median (µs/call log loop median); N per target in the raw log.",
        "",
        f"| size | frame | {head} | FileSink ÷ write+fsync | MemorySink ÷ memcpy |",
        "|---|--:|" + "--:|" * (len(names) + 2),
    ]
    for side, results in report.sizes:
        found = [_find(results, t.group, t.name) for t in names]
        cells = [f"{_num(m.mbps())} ({m.us_loop():,.1f} µs)" if m else "-" for m in found]
        file_ratio = _ratio(*(m.mbps() if m else None for m in (found[0], found[2])))
        mem_ratio = _ratio(*(m.mbps() if m else None for m in (found[1], found[3])))
        frame = side * side * 3
        lines.append(
            f"| {side}x{side} | {frame / 1e6:,.3f} MB | " + " | ".join(cells) + f" | {file_ratio} "
            f"| {mem_ratio} |"
        )
    return lines


def _threads_table(report: Report) -> list[str]:
    lines = [
        "| threads | N total | frames/s | MB/s median [best] | µs/frame e2e | vs 1 thread |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    one = report.threads[0] if report.threads and report.threads[0].ok else None
    for m in report.threads:
        if not m.ok:
            lines.append(f"| {m.target.name} | {m.n} | error: {m.error} | | | |")
            continue
        lines.append(
            f"| {m.target.name.split()[0]} | {_num(m.n)} | {_num(m.fps())} "
            f"| {_num(m.mbps())} [{_num(m.mbps(min))}] | {m.us_e2e():,.1f} "
            f"| {_ratio(m.mbps(), one.mbps() if one else None)} |"
        )
    return lines


def _memory_table(report: Report) -> list[str]:
    lines = [
        "| measure | frames | frame | max_bytes | bound = max_bytes + 1 frame "
        "| peak above baseline | sink's peak_queued_bytes | peak ≤ bound | time |",
        "|---|--:|--:|--:|--:|--:|--:|---|--:|",
    ]
    for r in report.memory:
        what = "tracemalloc (in-process)" if r.method == "tracemalloc" else "RSS VmHWM (subprocess)"
        if r.note:
            what += f" — {r.note}"
        lines.append(
            f"| {what} | {r.frames} | {_size(r.frame_bytes)} | {_size(r.max_bytes)} "
            f"| {_size(r.bound)} | {_size(r.peak_bytes)} "
            f"| {_size(r.peak_queued_bytes)} | {'yes' if r.peak_bytes <= r.bound else 'NO'} "
            f"| {r.seconds:.1f} s |"
        )
    return lines


def _verdicts(report: Report) -> list[str]:
    """SPEC §4's targets this run can judge (bench_writepath.py judges the rest)."""
    by_case = {c.name: r for c, _, r in report.cases}
    small, depth, big = by_case.get("rgb64"), by_case.get("depth16"), by_case.get("rgb1080")
    lines = [
        _versus(small, ("ours", "MemorySink"), ("foxglove", "BytesIO (none)"), "64x64 RGB"),
        _versus(small, ("ours", "McapSink .mcap (zstd)"), ("foxglove", "file (zstd)"), "64x64 RGB"),
        _versus(
            depth, ("ours", "McapSink .mcap (zstd)"), ("foxglove", "file (zstd)"), "640x480 depth"
        ),
        _versus(small, ("ours", "MemorySink"), ("rerun", "memory_recording()"), "64x64 RGB"),
    ]
    ours_file = _find(big, "ours", "FileSink .rrc") if big else None
    limit = _find(big, "limit", bt.LIMIT_WRITE_FSYNC) if big else None
    if ours_file and limit:
        ratio = ours_file.mbps() / limit.mbps()
        best = ours_file.mbps(min) / limit.mbps(min)
        lines.append(
            f"- {'PASS' if ratio >= 0.9 else 'FAIL'} 1080p RGB → FileSink ≥ 90% of raw os.write "
            f"(+ fsync, same policy as FileSink flush) throughput: {ours_file.mbps():,.0f} vs "
            f"{limit.mbps():,.0f} MB/s = {ratio:.0%} (medians; best runs "
            f"{ours_file.mbps(min):,.0f} vs {limit.mbps(min):,.0f} = {best:.0%})"
        )
    else:
        lines.append("- n/a 1080p RGB → FileSink ≥ 90% of os.write: not measured")
    lines.append(_threads_verdict(report.threads))
    if report.memory:
        ok = all(r.peak_bytes <= r.bound for r in report.memory)
        parts = "; ".join(f"{r.method} {_size(r.peak_bytes)}" for r in report.memory)
        bound = report.memory[0].bound
        lines.append(
            f"- {'PASS' if ok else 'FAIL'} bounded writer peak ≤ max_bytes + one frame "
            f"({_size(bound)}): {parts}"
        )
    else:
        lines.append("- n/a bounded writer peak: not measured")
    lines.append(
        "- 64x64 RGB → `.rrc` (close, no fsync) ≤ foxglove-sdk's file, `send_columns` ≤ 0.2x "
        "the loop, `.mcap` size ≤ 1.05x: see `bench_writepath.py` and `bench_mcap.py`"
    )
    return lines


def _versus(
    results: Sequence[Measured] | None, ours: tuple[str, str], peer: tuple[str, str], case: str
) -> str:
    """The verdict ``ours`` ≤ ``peer`` per frame end to end (medians), or why there is none."""
    mine = _find(results, *ours) if results else None
    theirs = _find(results, *peer) if results else None
    what = f"{case} → {ours[1]} ≤ {bt.GROUP_TITLES[peer[0]]} {peer[1]} per frame e2e"
    if mine is None or theirs is None:
        return f"- n/a {what}: not measured"
    ratio = mine.us_e2e() / theirs.us_e2e()
    return (
        f"- {'PASS' if ratio <= 1.0 else 'FAIL'} {what}: {mine.us_e2e():,.1f} vs "
        f"{theirs.us_e2e():,.1f} µs/frame = {ratio:.2f}x (medians; log loop "
        f"{mine.us_loop():,.1f} vs {theirs.us_loop():,.1f} µs/call)"
    )


def _threads_verdict(threads: Sequence[Measured]) -> str:
    one = threads[0] if threads and threads[0].ok else None
    four = next((m for m in threads if m.ok and m.target.name.startswith("4 ")), None)
    if one is None or four is None:
        return "- n/a 4 threads ≥ 1.0x one thread's throughput: not measured"
    ratio = four.mbps() / one.mbps()
    return (
        f"- {'PASS' if ratio >= 1.0 else 'FAIL'} 4 threads → one FileSink ≥ 1.0x one thread's "
        f"throughput (640x480 RGB): {four.mbps():,.0f} vs {one.mbps():,.0f} MB/s = {ratio:.2f}x"
    )


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _disk(path: Path) -> str:
    best = ("?", "?", "")
    try:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            device, mount, fstype = line.split()[:3]
            if str(path).startswith(mount) and len(mount) >= len(best[2]):
                best = (device, fstype, mount)
    except OSError:
        pass
    return f"{best[0]} ({best[1]}, mounted at {best[2]})"


def machine(report: Report) -> list[str]:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"- nproc {nproc}; CPU `{_cpu_model()}`; memory {_mem_total()}; "
        f"kernel {platform.release()}",
        f"- Python {platform.python_version()}; numpy {np.__version__}; "
        f"rerun-core {_version('rerun-core')}; rerun-sdk {_version('rerun-sdk')}; "
        f"foxglove-sdk {_version('foxglove-sdk')}; mcap {_version('mcap')}",
        f"- temp files: `{report.workdir}` on {_disk(report.workdir)}, deleted after each run",
    ]


def render(report: Report) -> str:
    args = report.args
    elapsed = time.perf_counter() - report.started
    mode = "quick (tiny frames, 1 run)"
    if not args.quick:
        mode = f"{args.runs} runs, ~{args.seconds} s each"
    out = [
        "# rerun-core image-logging benchmark",
        "",
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {mode}, "
        f"total {elapsed / 60:.1f} min. MB = 10^6 bytes of input payload (pixels or JPEG bytes).",
        "",
        *machine(report),
        "",
    ]
    if report.skipped:
        out += [f"- skipped {g}: {why}" for g, why in report.skipped.items()] + [""]
    out += ["## Targets (SPEC §4)", "", *_verdicts(report), ""]
    if report.cases:
        out += [
            "## Headline: MB/s end-to-end, median",
            "",
            *_headline(report),
            "",
        ]
        per_call = _per_call(report)
        if per_call:
            out += ["## Per-call overhead (64x64 RGB u8)", "", *per_call, ""]
        out += [
            "## Per case",
            "",
            "`÷ limit`: MB/s ÷ the same-run limit's MB/s (memory sinks ÷ np.copyto; rerun-core "
            "file sinks ÷ os.write + fsync, since their flush() fsyncs; peers' file sinks, which "
            "do not fsync, and McapSink, whose flush does not fsync, ÷ os.write without fsync). "
            "`÷ rerun-sdk`: MB/s ÷ rerun-sdk's MB/s on the same kind of sink (memory or file).",
            "",
        ]
        for case, frame_bytes, results in report.cases:
            out += [
                f"### {case.name}: {case.label} ({frame_bytes:,} B/frame)",
                "",
                *_case_table(results),
                "",
            ]
    if report.sizes:
        out += ["## Scaling with image size (RGB u8)", "", *_sizes_table(report), ""]
    if report.threads:
        out += [
            "## Scaling with threads (640x480 RGB u8, one recording, FileSink)",
            "",
            *_threads_table(report),
            "",
        ]
    if report.memory:
        out += [
            "## Peak memory: BackgroundSink(FileSink, max_bytes, policy='block')",
            "",
            *_memory_table(report),
            "",
        ]
    if report.errors:
        out += ["## Errors", "", *[f"- {e}" for e in report.errors], ""]
    return "\n".join(out)


# -------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each case once, tiny frames")
    parser.add_argument("--out", type=Path, help="write the Markdown report to this file")
    parser.add_argument("--runs", type=int, default=None, help="runs per target (default 5)")
    parser.add_argument("--seconds", type=float, default=0.5, help="target seconds per run")
    parser.add_argument(
        "--targets",
        default="ours,rerun,foxglove,mcap,limit",
        help="comma-separated groups: ours, rerun, foxglove, mcap, limit",
    )
    parser.add_argument("--cases", default="", help="comma-separated case names (default all)")
    parser.add_argument(
        "--sections",
        default="cases,sizes,threads,memory",
        help="comma-separated: cases, sizes, threads, memory",
    )
    parser.add_argument("--memory-frames", type=int, default=1000)
    parser.add_argument(
        "--tmp-dir", type=Path, default=HERE, help="parent of the temp dir (same disk as the repo)"
    )
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    return args


def select_targets(groups: Sequence[str], report: Report) -> list[bt.Target]:
    """The targets of ``groups`` whose packages import; the others go to ``report.skipped``."""
    targets: list[bt.Target] = []
    for group in groups:
        if group not in bt.GROUP_TITLES:
            msg = f"unknown target group {group!r}; choose from {', '.join(bt.GROUP_TITLES)}"
            raise SystemExit(msg)
        why = bt.available(group)
        if why is not None:
            report.skipped[group] = why
            log(f"skipping {group}: {why}")
            continue
        for target in bt.TARGETS:
            if target.group != group:
                continue
            why = bt.available(target.requires)
            if why is not None:
                report.skipped[f"{group} {target.name}"] = why
                continue
            targets.append(target)
    return targets


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        bench_memory.child_main(args.memory_child)
        return 0
    groups = [g for g in args.targets.split(",") if g]
    sections = set(args.sections.split(","))
    workdir = Path(tempfile.mkdtemp(prefix=".bench-tmp-", dir=args.tmp_dir))
    previous = signal.signal(signal.SIGTERM, _terminate)  # `finally` removes the temp dir
    report = Report(args, workdir)
    try:
        targets = select_targets(groups, report)
        if "cases" in sections:
            run_cases(report, targets)
        if "sizes" in sections:
            run_sizes(report)
        if "threads" in sections:
            run_threads(report)
        if "memory" in sections:
            run_memory(report)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    text = render(report)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
