"""Reading recordings back (SPEC §4 "reading", issue 13): the index and compression.

Section "reading": a file of at least ``--size-gb`` (default 1.0) GB of mixed frames
(640x480 RGB u8, 64x64 RGB u8, 640x480 depth u16, one of each per frame, timelines
``frame`` and ``clock``) written by ``FileSink`` under ``--tmp-dir`` and deleted after.
Targets, interleaved over ``--runs`` runs, each warm (file in the page cache) and cold
(the file's pages dropped with ``posix_fadvise(DONTNEED)`` before the run):

- scan: ``for record in read_records(path)`` (every record decoded, every CRC checked);
- open: ``open_recording(path)``, ``.entities``, ``.time_range("frame")``, close;
- query: open, then ``list(f.query("cam/rgb", timeline="frame", start=a, stop=b))`` for
  1% of the frames, close.

Touched bytes: after a cold open or query, ``mincore`` counts the file's pages that are
resident (every page the reader touched, plus the kernel's readahead), next to what the
reader must read: the index record and the matching records (opening also checks the
headers of the first and last records: two pages). Major page faults (``getrusage``) too.

Section "compression": Kinect-like depth (u16 mm, planes and spheres, depth-dependent
noise, holes at edges) and its segmentation (u8 ids), 640x480, ``--frames`` distinct
frames. Ratio = raw pixel bytes / stored bytes; MB/s = raw pixel bytes per second
(MB = 10^6). Targets: rerun-core records with ``zstd`` / ``lz4`` (``encode_compressed_parts``
and ``decode_record``), PNG through Pillow (zlib-ng) at levels 1 and 6, and foxglove-sdk's
``open_mcap`` with its default zstd chunks (``RawImage`` 16UC1 / mono8; write only).

``python benchmarks/bench_reading.py [--size-gb 1] [--runs 5] [--frames 30] [--tmp-dir D]``
prints Markdown; ``--quick`` runs a 64 MB file and 4 frames once.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import io
import mmap
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, features

import rerun_core as rc
from rerun_sinks import FileSink, open_recording, read_records

FRAME_NS = 33_333_333

# -- the reading file ---------------------------------------------------------------------


def _write_file(path: Path, size: int) -> tuple[int, int]:
    """Write mixed frames until the file holds ``size`` bytes; return (frames, records)."""
    rng = np.random.default_rng(0)
    pools = {
        "cam/rgb": [
            rc.make_image_msg(rng.integers(0, 256, (480, 640, 3), np.uint8)) for _ in range(3)
        ],
        "cam/thumb": [
            rc.make_image_msg(rng.integers(0, 256, (64, 64, 3), np.uint8)) for _ in range(3)
        ],
        "cam/depth": [
            rc.make_depth_msg(rng.integers(0, 10_000, (480, 640), np.uint16), meter=1000.0)
            for _ in range(3)
        ],
    }
    per_frame = sum(len(rc.encode_record(rc.make_record(e, p[0]))) for e, p in pools.items())
    frames = -(-size // per_frame)
    with FileSink(path) as sink:
        for frame in range(frames):
            time_point = {"frame": ("sequence", frame), "clock": ("time", frame * FRAME_NS)}
            sink.write_many(
                [
                    rc.make_record(entity, pool[frame % 3], timepoint=time_point, log_tick=frame)
                    for entity, pool in pools.items()
                ]
            )
        sink.flush()
    return frames, frames * len(pools)


def _drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _resident_bytes(path: Path) -> int:
    """Bytes of ``path`` in the page cache (``mincore`` over a fresh shared map)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = path.stat().st_size
    page = mmap.PAGESIZE
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap failed")
        vector = ctypes.create_string_buffer((size + page - 1) // page)
        try:
            if libc.mincore(address, size, vector) != 0:
                raise OSError(ctypes.get_errno(), "mincore failed")
        finally:
            libc.munmap(address, size)
    finally:
        os.close(fd)
    return int(np.count_nonzero(np.frombuffer(vector.raw, np.uint8) & 1)) * page


def _scan(path: Path, _: Any) -> int:
    return sum(1 for _ in read_records(path))


def _open(path: Path, _: Any) -> int:
    with open_recording(path) as recording:
        recording.entities  # noqa: B018 (the answer is the work)
        recording.time_range("frame")
        return len(recording)


def _query(path: Path, window: tuple[int, int]) -> int:
    with open_recording(path) as recording:
        got = list(recording.query("cam/rgb", timeline="frame", start=window[0], stop=window[1]))
        return len(got)


def _timed(
    target: Callable[[Path, Any], int], path: Path, argument: Any, *, cold: bool
) -> tuple[float, int]:
    if cold:
        _drop_cache(path)
    gc.collect()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
    start = time.perf_counter()
    target(path, argument)
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults


def reading_section(tmp: Path, size: int, runs: int) -> Iterator[str]:
    path = tmp / "reading.rrc"
    try:
        start = time.perf_counter()
        frames, records = _write_file(path, size)
        written = time.perf_counter() - start
        file_size = path.stat().st_size
        count = max(1, round(frames / 100))
        window = (frames // 2, frames // 2 + count)
        with open_recording(path) as recording:
            assert recording.indexed
            catalog = recording.catalog
            rows = recording.positions("cam/rgb", timeline="frame", start=window[0], stop=window[1])
            matching = int(catalog.length[rows].sum())
            index_start = int(catalog.offset[-1] + catalog.length[-1])
            rows_count = len(rows)
        del catalog, recording, rows  # the catalog's columns view the map: let it go
        gc.collect()
        index_bytes = file_size - index_start
        yield "## Reading: the index against a full scan (SPEC §4 reading)"
        yield ""
        yield (
            f"File: {file_size / 1e9:.2f} GB, {records} records ({frames} frames x 640x480 RGB "
            f"u8 + 64x64 RGB u8 + 640x480 depth u16), written by `FileSink` in {written:.1f} s; "
            f"index record {index_bytes / 1e3:.1f} kB "
            f"({index_bytes / file_size * 100:.4f}% of the file). "
            f"Query: `cam/rgb`, frames {window[0]}..{window[1] - 1} ({count} frames = 1% of "
            f"{frames}), {rows_count} records, {matching / 1e6:.2f} MB. N = {runs} runs per target "
            "and state, interleaved."
        )
        yield ""
        targets = {
            "scan: `read_records` (every record)": (_scan, None),
            "open + `entities` + `time_range`": (_open, None),
            "1% time-range query of one entity": (_query, window),
        }
        results: dict[tuple[str, bool], list[tuple[float, int]]] = {}
        for _ in range(runs):
            for cold in (False, True):
                for name, (target, argument) in targets.items():
                    results.setdefault((name, cold), []).append(
                        _timed(target, path, argument, cold=cold)
                    )
        yield (
            "| target | warm median [best] | warm ÷ scan | cold median [best] | cold ÷ scan "
            "| major faults (cold, median) |"
        )
        yield "|---|---|---|---|---|---|"
        scan = {
            cold: statistics.median(t for t, _ in results[(next(iter(targets)), cold)])
            for cold in (False, True)
        }
        for name in targets:
            cells = []
            for cold in (False, True):
                times = [t for t, _ in results[(name, cold)]]
                median = statistics.median(times)
                cells += [
                    f"{median * 1e3:.2f} ms [{min(times) * 1e3:.2f}]",
                    f"{median / scan[cold]:.4f}",
                ]
            faults = statistics.median(f for _, f in results[(name, True)])
            yield f"| {name} | {' | '.join(cells)} | {faults:.0f} |"
        yield ""
        yield "Touched bytes (cold: pages dropped, one call, then `mincore` over the file):"
        yield ""
        yield (
            "| call | resident after | must read (index + matching records) "
            "| extra (record headers, page rounding, readahead) |"
        )
        yield "|---|---|---|---|"
        for name, (target, argument), needed in (
            (
                "open + entities + time_range",
                targets["open + `entities` + `time_range`"],
                index_bytes,
            ),
            (
                "1% query",
                targets["1% time-range query of one entity"],
                index_bytes + matching,
            ),
        ):
            _drop_cache(path)
            before = _resident_bytes(path)
            target(path, argument)
            after = _resident_bytes(path)
            yield (
                f"| {name} | {after / 1e6:.2f} MB (before: {before / 1e6:.2f}) | "
                f"{needed / 1e6:.2f} MB | {(after - needed) / 1e6:+.2f} MB |"
            )
        yield ""
        yield f"Whole file: {file_size / 1e6:.0f} MB."
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# -- compression ------------------------------------------------------------------------


def kinect_scene(index: int, height: int = 480, width: int = 640) -> tuple[np.ndarray, np.ndarray]:
    """A room seen by a Kinect-like depth camera: depth (u16 mm) and segmentation (u8 ids)."""
    rng = np.random.default_rng(index)
    focal = 525.0 * width / 640
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    rays = np.stack([(u - width / 2) / focal, (v - height / 2) / focal, np.ones_like(u)], -1)
    eye = np.array([0.3 * np.sin(index / 10), 0.05 * np.cos(index / 7), 0.02 * index])
    best = np.full((height, width), np.inf)
    ids = np.zeros((height, width), np.uint8)

    def hit(t: np.ndarray, label: int) -> None:
        nonlocal best
        ok = (t > 0) & (t < best)
        best = np.where(ok, t, best)
        ids[ok] = label

    with np.errstate(divide="ignore", invalid="ignore"):
        for label, (normal, offset) in enumerate(
            [
                ((0, 1, 0), 1.2),
                ((0, 0, 1), 4.0),
                ((1, 0, 0), 2.5),
                ((1, 0, 0), -2.5),
                ((0, 1, 0), -1.8),
            ],
            start=1,
        ):
            n = np.array(normal, np.float64)
            hit((offset - eye @ n) / (rays @ n), label)
        for label, (x, y, z, radius) in enumerate(
            [(-0.8, 0.7, 2.5, 0.5), (0.9, 0.9, 3.2, 0.3), (0.2, 0.4, 1.8, 0.25)], start=6
        ):
            centre = np.array([x, y, z]) - eye
            b = rays @ centre
            a = (rays * rays).sum(-1)
            disc = b * b - a * (centre @ centre - radius * radius)
            hit(np.where(disc > 0, (b - np.sqrt(disc)) / a, np.inf), label)
    z = best + rng.normal(0, 1, best.shape) * (0.0015 + 0.00285 * best * best)
    mm = np.rint(z * 1000)
    edges = np.zeros_like(ids, bool)
    edges[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    edges[1:, :] |= ids[1:, :] != ids[:-1, :]
    holes = (rng.random(z.shape) < 0.02) | (edges & (rng.random(z.shape) < 0.6)) | (mm > 4500)
    mm[holes] = 0
    return mm.astype(np.uint16), ids


def _png(level: int) -> tuple[Callable[[np.ndarray], bytes], Callable[[bytes], np.ndarray]]:
    def encode(frame: np.ndarray) -> bytes:
        out = io.BytesIO()
        Image.fromarray(frame).save(out, format="PNG", compress_level=level)
        return out.getvalue()

    def decode(data: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(data)))

    return encode, decode


def _ours(
    codec: str | None, kind: str
) -> tuple[Callable[[np.ndarray], bytes], Callable[[bytes], np.ndarray]]:
    build = rc.make_depth_msg if kind == "depth" else rc.make_segmentation_msg

    def encode(frame: np.ndarray) -> bytes:
        record = rc.make_record("cam", build(frame))
        parts = (
            rc.encode_record_parts(record)
            if codec is None
            else rc.encode_compressed_parts(record, codec)
        )
        return b"".join(parts)

    def decode(data: bytes) -> np.ndarray:
        return rc.decode_record(data).msg.pixels  # type: ignore[union-attr,no-any-return]

    return encode, decode


def _foxglove_mcap(frames: list[np.ndarray], kind: str, tmp: Path) -> tuple[float, int]:
    import foxglove  # noqa: PLC0415
    from foxglove.channels import RawImageChannel  # noqa: PLC0415
    from foxglove.messages import RawImage, Timestamp  # noqa: PLC0415

    path = tmp / "foxglove.mcap"
    encoding = "16UC1" if kind == "depth" else "mono8"
    context = foxglove.Context()
    start = time.perf_counter()
    writer = foxglove.open_mcap(path, allow_overwrite=True, context=context)
    channel = RawImageChannel("/cam", context=context)
    for index, frame in enumerate(frames):
        channel.log(
            RawImage(
                timestamp=Timestamp(sec=index, nsec=0),
                width=frame.shape[1],
                height=frame.shape[0],
                encoding=encoding,
                step=frame.strides[0],
                data=frame.tobytes(),
            ),
            log_time=index,
        )
    writer.close()
    elapsed = time.perf_counter() - start
    size = path.stat().st_size
    path.unlink()
    return elapsed, size


def compression_section(tmp: Path, frame_count: int, runs: int) -> Iterator[str]:
    scenes = [kinect_scene(i) for i in range(frame_count)]
    yield "## Compression: depth and segmentation, per codec, next to PNG and foxglove-sdk"
    yield ""
    yield (
        f"{frame_count} distinct 640x480 frames of Kinect-like depth (u16 mm: room planes and "
        "spheres, noise growing with depth², 2% holes and holes at edges, back wall at 4 m, "
        "0 beyond 4.5 m) and "
        f"their segmentation (u8, 8 ids). Pillow {version('Pillow')} (zlib-ng "
        f"{features.version('zlib_ng')}), zstandard {version('zstandard')}, lz4 {version('lz4')}, "
        f"foxglove-sdk {_maybe_version('foxglove-sdk')}. N = {runs} runs, interleaved; "
        "median MB/s of raw pixels [best]."
    )
    for kind, position in (("depth", 0), ("segmentation", 1)):
        frames = [np.ascontiguousarray(scene[position]) for scene in scenes]
        raw = sum(f.nbytes for f in frames)
        codecs = {
            "rerun-core, no compression": _ours(None, kind),
            "rerun-core zstd (shuffle + zstd-1)"
            if kind == "depth"
            else "rerun-core zstd (zstd-1)": _ours("zstd", kind),
            "rerun-core lz4 (shuffle + lz4)" if kind == "depth" else "rerun-core lz4": _ours(
                "lz4", kind
            ),
            "PNG level 1 (Pillow, zlib-ng)": _png(1),
            "PNG level 6 (Pillow default)": _png(6),
        }
        results: dict[str, dict[str, list[float]]] = {}
        sizes: dict[str, int] = {}
        for _ in range(runs):
            for name, (encode, decode) in codecs.items():
                gc.collect()
                start = time.perf_counter()
                blobs = [encode(frame) for frame in frames]
                encoded = time.perf_counter() - start
                start = time.perf_counter()
                back = [decode(blob) for blob in blobs]
                decoded = time.perf_counter() - start
                assert all(np.array_equal(b, f) for b, f in zip(back, frames, strict=True))
                sizes[name] = sum(len(b) for b in blobs)
                results.setdefault(name, {"enc": [], "dec": []})
                results[name]["enc"].append(raw / encoded / 1e6)
                results[name]["dec"].append(raw / decoded / 1e6)
            if _maybe_version("foxglove-sdk") != "not installed":
                elapsed, size = _foxglove_mcap(frames, kind, tmp)
                sizes["foxglove-sdk open_mcap (zstd chunks)"] = size
                entry = results.setdefault(
                    "foxglove-sdk open_mcap (zstd chunks)", {"enc": [], "dec": []}
                )
                entry["enc"].append(raw / elapsed / 1e6)
        yield ""
        yield f"### {kind} ({raw / 1e6:.1f} MB raw)"
        yield ""
        yield "| codec | ratio | encode MB/s | decode MB/s |"
        yield "|---|---|---|---|"
        for name, entry in results.items():
            enc, dec = entry["enc"], entry["dec"]
            decode_cell = (
                f"{statistics.median(dec):.0f} [{max(dec):.0f}]" if dec else "n/a (write only)"
            )
            yield (
                f"| {name} | {raw / sizes[name]:.2f} | "
                f"{statistics.median(enc):.0f} [{max(enc):.0f}] | {decode_cell} |"
            )
        ours = (
            "rerun-core zstd (shuffle + zstd-1)" if kind == "depth" else "rerun-core zstd (zstd-1)"
        )
        for png in ("PNG level 1 (Pillow, zlib-ng)", "PNG level 6 (Pillow default)"):
            ratio = sizes[png] / sizes[ours]
            speed = statistics.median(results[ours]["enc"]) / statistics.median(results[png]["enc"])
            verdict = "pass" if ratio >= 1 and speed >= 5 else "FAIL"
            yield (
                f"\n{verdict}: zstd vs {png}: ratio {ratio:.2f}x PNG's, encode speed "
                f"{speed:.1f}x PNG's (target: ratio >= 1x at >= 5x the speed)"
            )


def _maybe_version(name: str) -> str:
    try:
        return version(name)
    except Exception:  # the peer is optional
        return "not installed"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--tmp-dir", default=tempfile.gettempdir())
    parser.add_argument("--sections", default="reading,compression")
    parser.add_argument("--quick", action="store_true", help="64 MB file, 4 frames, one run")
    args = parser.parse_args(argv)
    if args.quick:
        args.size_gb, args.frames, args.runs = 0.064, 4, 1
    print("# rerun-core reading benchmark")
    print()
    print(
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; "
        f"Python {platform.python_version()}; numpy {np.__version__}; "
        f"rerun-core {version('rerun-core')}; {platform.system()} {platform.release()}"
    )
    print()
    with tempfile.TemporaryDirectory(dir=args.tmp_dir, prefix=".bench-reading-") as directory:
        tmp = Path(directory)
        if "reading" in args.sections:
            for line in reading_section(tmp, int(args.size_gb * 1e9), args.runs):
                print(line, flush=True)
            print()
        if "compression" in args.sections:
            for line in compression_section(tmp, args.frames, args.runs):
                print(line, flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
