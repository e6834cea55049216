"""Logging a 1080p frame from a tensor vs from the equivalent numpy array (issue 17).

Every source wraps the same pool of frames: a numpy array; a CPU tensor that speaks only
DLPack (``__dlpack__`` / ``__dlpack_device__``, as torch and cupy do); an object that speaks
only ``__array__``; a real torch tensor (``torch.from_numpy``, when torch is installed); and
the same three as channels-first (CxHxW) data logged with ``layout="CHW"``. Each source's
"copies" column is tracemalloc's peak during one ``log_image`` call divided by the frame size:
1.0 is the one copy into the message's immutable memory. See benchmarks/README.md.

    python benchmarks/bench_tensors.py [--frame 1080p|64] [--runs 5] [--seconds 0.5]
                                       [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import platform
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import rerun_sinks as rr

SHAPES = {"1080p": (1080, 1920, 3), "64": (64, 64, 3)}
POOL = 3  # distinct frames, so no run reads one frame from the cache over and over
N_MAX = 200_000


class DLPackOnly:
    """A CPU tensor that speaks only DLPack, like a torch or cupy tensor without ``__array__``."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.arr.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self.arr.__dlpack_device__()


class ArrayOnly:
    """An object that speaks only ``__array__`` (pandas, xarray, PIL-like)."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.arr


class NullSink:
    """Drops every record: the figures are the log call itself, not a sink's writes."""

    def write(self, record: Any) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class Source:
    name: str
    what: str
    frames: list[Any]
    layout: str = "HWC"
    times: list[float] = field(default_factory=list)
    copies: float = float("nan")


def make_sources(shape: tuple[int, ...]) -> list[Source]:
    rng = np.random.default_rng(17)
    hwc = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(POOL)]
    chw = [np.ascontiguousarray(np.moveaxis(f, -1, 0)) for f in hwc]
    sources = [
        Source("numpy", "numpy array HxWx3", hwc),
        Source("dlpack", "DLPack-only CPU tensor HxWx3", [DLPackOnly(f) for f in hwc]),
        Source("array", "`__array__`-only object HxWx3", [ArrayOnly(f) for f in hwc]),
    ]
    torch = _torch()
    if torch is not None:
        sources.append(
            Source("torch", "torch CPU tensor HxWx3", [torch.from_numpy(f) for f in hwc])
        )
    sources += [
        Source("numpy-chw", "numpy array 3xHxW, layout=CHW", chw, "CHW"),
        Source(
            "dlpack-chw",
            "DLPack-only tensor 3xHxW, layout=CHW",
            [DLPackOnly(f) for f in chw],
            "CHW",
        ),
    ]
    if torch is not None:
        sources.append(
            Source(
                "torch-chw",
                "torch tensor 3xHxW, layout=CHW",
                [torch.from_numpy(f) for f in chw],
                "CHW",
            )
        )
    return sources


def _torch() -> Any:
    if importlib.util.find_spec("torch") is None:
        return None
    import torch  # noqa: PLC0415

    return torch


def log_loop(source: Source, n: int) -> float:
    """Seconds for ``n`` timed ``log_image`` calls into a fresh recording."""
    rec = rr.new_recording("bench", strict=True, sink=NullSink())
    frames, m, layout = source.frames, len(source.frames), source.layout
    set_time, log_image = rec.set_time_sequence, rec.log_image
    gc.collect()
    t0 = time.perf_counter()
    for i in range(n):
        set_time("frame", i)
        log_image("cam", frames[i % m], layout=layout)
    elapsed = time.perf_counter() - t0
    rec.disconnect()
    return elapsed


def memcpy_loop(frames: list[np.ndarray], n: int) -> float:
    """The physical limit of one copy per frame: ``np.copyto`` into a preallocated buffer."""
    out = np.empty_like(frames[0])
    t0 = time.perf_counter()
    for i in range(n):
        np.copyto(out, frames[i % len(frames)])
    return time.perf_counter() - t0


def count_copies(source: Source, frame_bytes: int) -> float:
    """Peak bytes tracemalloc sees during one log call, in frames (numpy reports its buffers)."""
    rec = rr.new_recording("bench", strict=True, sink=NullSink())
    frame = source.frames[0]
    rec.log_image("cam", frame, layout=source.layout)  # warm-up outside the trace
    gc.collect()
    tracemalloc.start()
    rec.log_image("cam", frame, layout=source.layout)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rec.disconnect()
    return peak / frame_bytes


def calibrate(source: Source, seconds: float) -> int:
    n = 1
    while True:
        elapsed = log_loop(source, n)
        if elapsed >= seconds / 4 or n >= N_MAX:
            return max(1, min(N_MAX, round(n * seconds / max(elapsed, 1e-9))))
        n *= 4


@dataclass
class Result:
    sources: list[Source]
    limit: list[float]
    shape: tuple[int, ...]
    n: int
    runs: int


def measure(runs: int, seconds: float, *, quick: bool, frame: str = "1080p") -> Result:
    shape = SHAPES["64" if quick else frame]
    sources = make_sources(shape)
    frame_bytes = int(np.prod(shape))
    n = 3 if quick else calibrate(sources[0], seconds)
    limit: list[float] = []
    for source in sources:
        source.copies = count_copies(source, frame_bytes)
        log_loop(source, min(n, 3))  # warm-up
    for r in range(runs):  # interleaved: run r of every source, then run r + 1
        for source in sources[r % len(sources) :] + sources[: r % len(sources)]:
            source.times.append(log_loop(source, n) / n)
        limit.append(memcpy_loop(sources[0].frames, n) / n)
    return Result(sources, limit, shape, n, runs)


def report(result: Result) -> str:
    sources, limit, shape = result.sources, result.limit, result.shape
    base = statistics.median(sources[0].times)
    memcpy = statistics.median(limit)
    lines = [
        f"### Tensors: log_image of a {shape[0]}x{shape[1]}x{shape[2]} uint8 frame "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"N = {result.n} calls per run for every source, {result.runs} interleaved runs; "
        "NullSink; "
        f"Python {platform.python_version()}, numpy {np.__version__}"
        + (f", torch {_torch().__version__}" if _torch() is not None else ", torch not installed")
        + ".",
        "",
        "| source | µs/call median [best] | ÷ numpy | ÷ memcpy | copies |",
        "|---|---|---|---|---|",
    ]
    for source in sources:
        med, best = statistics.median(source.times), min(source.times)
        lines.append(
            f"| {source.what} | {med * 1e6:,.1f} [{best * 1e6:,.1f}] | {med / base:.2f} | "
            f"{med / memcpy:.2f} | {source.copies:.2f} |"
        )
    lines.append(
        f"| limit: np.copyto of the frame | {memcpy * 1e6:,.1f} [{min(limit) * 1e6:,.1f}] | "
        f"{memcpy / base:.2f} | 1.00 | 1 |"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="target length of one run")
    parser.add_argument("--frame", choices=sorted(SHAPES), default="1080p", help="frame size")
    parser.add_argument("--quick", action="store_true", help="64x64 frames, 3 calls, 1 run")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    text = report(measure(runs, args.seconds, quick=args.quick, frame=args.frame))
    sys.stdout.write(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
