"""Peak memory of the bounded writer: BackgroundSink(FileSink, max_bytes, policy="block").

Two measurements of the same loop (N frames of one shape, cycled from a pool of 3 that
is allocated before measuring):
- ``tracemalloc``: peak traced bytes above the baseline (numpy reports its buffers);
- RSS: ``VmHWM`` from ``/proc/self/status`` in a fresh child process, minus ``VmRSS``
  just before the loop (the high-water mark is reset with ``/proc/self/clear_refs``
  when the kernel allows it, else the baseline is the ``VmHWM`` before the loop).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

MiB = 2**20


@dataclass(frozen=True)
class MemoryResult:
    method: str
    frames: int
    frame_bytes: int
    max_bytes: int
    peak_bytes: int  # above the baseline
    peak_queued_bytes: int  # the sink's own accounting
    seconds: float
    note: str = ""

    @property
    def bound(self) -> int:
        return self.max_bytes + self.frame_bytes


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    msg = f"{field} not in /proc/self/status"
    raise RuntimeError(msg)


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure(
    *, method: str, frames: int, shape: tuple[int, ...], max_bytes: int, workdir: Path
) -> MemoryResult:
    """Log ``frames`` RGB frames of ``shape`` through the bounded writer; measure the peak."""
    import rerun_sinks as rr  # noqa: PLC0415

    rng = np.random.default_rng(1)
    pool = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(3)]
    inner = rr.FileSink(workdir / "memory.rrc")
    sink = rr.BackgroundSink(inner, max_bytes=max_bytes, policy="block")
    rec = rr.new_recording("bench-memory", strict=True, sink=sink)
    gc.collect()
    note = ""
    if method == "tracemalloc":
        tracemalloc.start()
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
    elif _reset_hwm():
        baseline = _status_kib("VmRSS") * 1024
        note = "VmHWM reset via clear_refs"
    else:
        baseline = _status_kib("VmHWM") * 1024
        note = "VmHWM not resettable; baseline = VmHWM before the loop"
    t0 = time.perf_counter()
    for i in range(frames):
        rec.set_time_sequence("frame", i)
        rec.log_image("cam/image", pool[i % 3])
    rec.flush()
    seconds = time.perf_counter() - t0
    if method == "tracemalloc":
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
    else:
        peak = _status_kib("VmHWM") * 1024 - baseline
    rec.disconnect()
    return MemoryResult(
        method=method,
        frames=frames,
        frame_bytes=pool[0].nbytes,
        max_bytes=max_bytes,
        peak_bytes=peak,
        peak_queued_bytes=sink.peak_queued_bytes,
        seconds=seconds,
        note=note,
    )


def measure_rss_in_child(
    *, frames: int, shape: tuple[int, ...], max_bytes: int, workdir: Path
) -> MemoryResult:
    """Run :func:`measure` with ``method="rss"`` in a fresh interpreter."""
    args: dict[str, Any] = {
        "frames": frames,
        "shape": list(shape),
        "max_bytes": max_bytes,
        "workdir": str(workdir),
    }
    bench = Path(__file__).with_name("bench.py")
    out = subprocess.run(
        [sys.executable, str(bench), "--memory-child", json.dumps(args)],
        check=True,
        capture_output=True,
        text=True,
    )
    return MemoryResult(**json.loads(out.stdout.strip().splitlines()[-1]))


def child_main(arg: str) -> None:
    """Entry point of the child process (``bench.py --memory-child JSON``)."""
    args = json.loads(arg)
    result = measure(
        method="rss",
        frames=args["frames"],
        shape=tuple(args["shape"]),
        max_bytes=args["max_bytes"],
        workdir=Path(args["workdir"]),
    )
    print(json.dumps(asdict(result)))
