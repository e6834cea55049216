"""Opening a large ``.mcap`` (issue 13 "left"): peak memory and time, catalog vs whole list.

Writes a file of at least ``--size-gb`` (default 1.0) GB with ``McapSink`` (default zstd
chunks): per frame one 640x480 RGB u8 noise image, one 640x480 u16 depth and one 64x64
RGB thumbnail, on timelines ``frame`` and ``clock``. Then, in a fresh subprocess per run
(so ``VmHWM``, the peak resident set, belongs to one target), interleaved over ``--runs``:

- ``open_recording``: ``open_recording(path)``, ``.entities``, ``.time_range("frame")``,
  then ``list(f.query("cam/rgb", timeline="frame", start=a, stop=b))`` for 1% of the
  frames (the current reader: a catalog and a locator per record);
- ``whole list``: what ``open_recording`` did before: ``list(read_mcap_records(path))``,
  a ``CatalogBuilder`` over it, the same questions answered from the list;
- with ``--before-src DIR`` also ``before``: ``open_recording`` of the ``src`` directory
  of an older checkout (e.g. ``git archive <commit> src | tar -x -C DIR``).

Each run reports the peak RSS (``VmHWM``) minus the RSS after the imports, wall time and
CPU time (``resource.getrusage``) of open + entities + time_range, and of the query.

``python benchmarks/bench_mcap_open.py [--size-gb 1] [--runs 3] [--tmp-dir D]``; ``--quick``
uses a 64 MB file and one run. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAME_NS = 33_333_333

_CHILD = r"""
import json, resource, sys, time
sys.path[:0] = [p for p in sys.argv[3:] if p]
from rerun_sinks import open_recording, read_records
from rerun_core.catalog import CatalogBuilder

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

path, target = sys.argv[1], sys.argv[2]
base = status("VmRSS")
wall, used = time.perf_counter(), cpu()
if target == "whole list":
    records = list(read_records(path))
    builder = CatalogBuilder()
    for position, record in enumerate(records):
        builder.add(position, 0, record)
    catalog = builder.build()
    entities = sorted({"/".join(r.entity_path) for r in records})
    frames = [r.timepoint["frame"].value for r in records if "frame" in r.timepoint]
    span = (min(frames), max(frames))
else:
    f = open_recording(path)
    entities = f.entities
    span = f.time_range("frame")
opened, opened_cpu = time.perf_counter() - wall, cpu() - used
count = max((span[1] - span[0] + 1) // 100, 1)
start = span[0] + (span[1] - span[0]) // 2
wall, used = time.perf_counter(), cpu()
if target == "whole list":
    got = [
        r for r in records
        if r.entity_path == ("cam", "rgb") and start <= r.timepoint["frame"].value < start + count
    ]
else:
    got = list(f.query("cam/rgb", timeline="frame", start=start, stop=start + count))
queried, queried_cpu = time.perf_counter() - wall, cpu() - used
assert len(got) == count, (len(got), count)
print(json.dumps({
    "peak": status("VmHWM") - base, "open": opened, "open_cpu": opened_cpu,
    "query": queried, "query_cpu": queried_cpu, "entities": len(entities),
}))
"""


def _write_file(path: Path, size: int) -> int:
    """Write mixed frames with ``McapSink`` until the file holds ``size`` bytes; return frames."""
    import numpy as np  # noqa: PLC0415

    import rerun_core as rc  # noqa: PLC0415
    from rerun_sinks import McapSink  # noqa: PLC0415

    rng = np.random.default_rng(0)
    pools = {
        ("cam", "rgb"): [
            rc.make_image_msg(rng.integers(0, 256, (480, 640, 3), np.uint8)) for _ in range(3)
        ],
        ("cam", "depth"): [
            rc.make_depth_msg(rng.integers(0, 10_000, (480, 640), np.uint16), meter=1000.0)
            for _ in range(3)
        ],
        ("cam", "thumb"): [
            rc.make_image_msg(rng.integers(0, 256, (64, 64, 3), np.uint8)) for _ in range(3)
        ],
    }
    per_frame = sum(p[0].pixels.nbytes for p in pools.values())  # type: ignore[attr-defined]
    frames = -(-size * 11 // (per_frame * 10))  # zstd takes a few % off the depth frames
    tick = 0
    with McapSink(path) as sink:
        for frame in range(frames):
            clock = 1_700_000_000_000_000_000 + frame * FRAME_NS
            timepoint = {"frame": ("sequence", frame), "clock": ("time", clock)}
            for entity, pool in pools.items():
                sink.write(
                    rc.make_record(
                        entity,
                        pool[frame % 3],
                        timepoint=timepoint,
                        log_tick=tick,
                        log_time_ns=clock,
                    )
                )
                tick += 1
    return frames


def _write_rrd(path: Path, size: int) -> int:
    """The same frames through rerun-sdk's ``save`` (``Image`` / ``DepthImage``)."""
    import numpy as np  # noqa: PLC0415
    import rerun as rr  # noqa: PLC0415

    rng = np.random.default_rng(0)
    rgb = [rng.integers(0, 256, (480, 640, 3), np.uint8) for _ in range(3)]
    depth = [rng.integers(0, 10_000, (480, 640), np.uint16) for _ in range(3)]
    thumb = [rng.integers(0, 256, (64, 64, 3), np.uint8) for _ in range(3)]
    frames = -(-size // (rgb[0].nbytes + depth[0].nbytes + thumb[0].nbytes))
    rec = rr.RecordingStream("bench_mcap_open", recording_id="bench")
    rec.save(str(path))
    for frame in range(frames):
        rec.set_time("frame", sequence=frame)
        rec.set_time("clock", timestamp=np.datetime64(1_700_000_000 + frame, "s"))
        rec.log("cam/rgb", rr.Image(rgb[frame % 3]))
        rec.log("cam/depth", rr.DepthImage(depth[frame % 3], meter=1000.0))
        rec.log("cam/thumb", rr.Image(thumb[frame % 3]))
    rec.flush()
    rec.disconnect()
    return frames


def _run(path: Path, target: str, src: str) -> dict[str, float]:
    """Run one target in a fresh interpreter; return its figures."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), target, src],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    """Write the files, run the targets interleaved, print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tmp-dir", default=None)
    parser.add_argument("--before-src", default=None, help="src/ of an older checkout")
    parser.add_argument("--rrd-gb", type=float, default=0.4, help="size of the .rrd; 0: none")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    size = (64 << 20) if args.quick else int(args.size_gb * 1e9)
    rrd_size = (32 << 20) if args.quick and args.rrd_gb else int(args.rrd_gb * 1e9)
    runs = 1 if args.quick else args.runs
    targets = {"open_recording": "", "whole list": ""}
    if args.before_src:
        targets["before"] = str(Path(args.before_src).resolve())
    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp:
        files = {"mcap": (Path(tmp) / "big.mcap", _write_file, size)}
        if rrd_size:
            files["rrd"] = (Path(tmp) / "big.rrd", _write_rrd, rrd_size)
        for kind, (path, write, wanted) in files.items():
            results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
            started = time.perf_counter()
            frames = write(path, wanted)
            written = time.perf_counter() - started
            for _ in range(runs):
                for name, src in targets.items():
                    results[name].append(_run(path, "open" if name == "before" else name, src))
            _report(
                kind, results, size=path.stat().st_size, frames=frames, written=written, runs=runs
            )
            path.unlink()
    return 0


def _report(
    kind: str,
    results: dict[str, list[dict[str, float]]],
    *,
    size: int,
    frames: int,
    written: float,
    runs: int,
) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    writer = "McapSink, zstd" if kind == "mcap" else "rerun-sdk save"
    print(
        f"\nFile: {size / 1e9:.2f} GB .{kind} ({writer}), {frames} frames x 3 records, "
        f"written in {written:.1f} s. N = {runs} runs per target, interleaved, one "
        "subprocess per run; medians.\n"
    )
    print(
        "| target | peak RSS over imports (MiB) | open + entities + time_range: wall s "
        "(CPU s) | 1% query: wall s (CPU s) |"
    )
    print("|---|--:|--:|--:|")
    for name in results:
        print(
            f"| {name} | {median(name, 'peak') / 2**20:,.0f} | {median(name, 'open'):.2f} "
            f"({median(name, 'open_cpu'):.2f}) | {median(name, 'query'):.3f} "
            f"({median(name, 'query_cpu'):.3f}) |"
        )
    reference = "before" if "before" in results else "whole list"
    ratio = median("open_recording", "peak") / max(median(reference, "peak"), 1)
    print(f"\nPeak memory open_recording / {reference} (.{kind}): {ratio:.3f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
