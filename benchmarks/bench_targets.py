"""Workloads (frame pools) and the things we time: this library, its peers, the limit.

Every target is a function ``run(case, pool, n, workdir) -> Timing`` that sets up a
fresh sink outside the timed region, then times the log loop (``loop``) and the loop
plus whatever makes the output complete (``total``: flush, drain, fsync, close).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import io
import os
import resource
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

Kind = Literal["rgb", "gray_f32", "depth", "seg", "jpeg"]
SinkKind = Literal["memory", "file"]
Frame = Any  # np.ndarray for raw cases, bytes for JPEG
POOL_BYTES = 8 * 2**20  # >= 8 MB of distinct frames: no compressor can dedupe repeats
MIN_POOL = 3


@dataclass(frozen=True)
class Case:
    """One workload: what is logged and how big one frame is."""

    name: str
    kind: Kind
    height: int
    width: int

    @property
    def label(self) -> str:
        what = {
            "rgb": "RGB u8",
            "gray_f32": "gray float32",
            "depth": "depth u16",
            "seg": "segmentation u8",
            "jpeg": "JPEG bytes",
        }[self.kind]
        return f"{self.width}x{self.height} {what}"


@dataclass(frozen=True)
class Pool:
    """Distinct frames cycled through by every target, and the payload bytes of one."""

    frames: Sequence[Frame]
    frame_bytes: int  # mean payload (pixels or JPEG file bytes)


@dataclass(frozen=True)
class Timing:
    loop: float
    total: float
    loop_faults: int | None = None  # minor page faults in the log loop (rerun-core only)


@dataclass(frozen=True)
class Target:
    """A timed configuration: who (group), where (sink kind) and how (run)."""

    group: str  # ours | rerun | foxglove | mcap | limit
    name: str
    sink: SinkKind
    run: Callable[[Case, Pool, int, Path], Timing]
    limit: str  # key of the limit target this one is compared with
    requires: str = ""  # another group whose package this target needs (McapSink: mcap)


FULL_CASES: tuple[Case, ...] = (
    Case("rgb64", "rgb", 64, 64),
    Case("rgb480", "rgb", 480, 640),
    Case("rgb1080", "rgb", 1080, 1920),
    Case("f32gray1080", "gray_f32", 1080, 1920),
    Case("depth16", "depth", 480, 640),
    Case("seg8", "seg", 480, 640),
    Case("jpeg480", "jpeg", 480, 640),
)


def quick_cases() -> tuple[Case, ...]:
    return tuple(Case(c.name, c.kind, 16, 16) for c in FULL_CASES)


# --------------------------------------------------------------------------- pools


def make_pool(case: Case, *, quick: bool = False, seed: int = 0) -> Pool:
    """Random-noise frames (worst case for compression); JPEGs of synthetic scenes."""
    rng = np.random.default_rng(seed)
    if case.kind == "jpeg":
        return _jpeg_pool(case, rng, quick=quick)
    frame = _frame(case, rng)
    count = MIN_POOL if quick else max(MIN_POOL, -(-POOL_BYTES // frame.nbytes))
    frames = [frame] + [_frame(case, rng) for _ in range(count - 1)]
    return Pool(frames, frame.nbytes)


def _frame(case: Case, rng: np.random.Generator) -> np.ndarray:
    h, w = case.height, case.width
    if case.kind == "rgb":
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if case.kind == "gray_f32":
        return rng.random((h, w), dtype=np.float32)
    if case.kind == "depth":
        return rng.integers(0, 10_000, (h, w), dtype=np.uint16)
    if case.kind == "seg":
        return rng.integers(0, 20, (h, w), dtype=np.uint8)
    msg = f"no raw frames for {case.kind}"
    raise ValueError(msg)


def _jpeg_pool(case: Case, rng: np.random.Generator, *, quick: bool) -> Pool:
    from PIL import Image  # noqa: PLC0415  (Pillow is a dependency of rerun-core)

    h, w = case.height, case.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames: list[bytes] = []
    total = 0
    limit = MIN_POOL if quick else 400
    while len(frames) < limit and (quick or total < POOL_BYTES):
        k = len(frames)
        scene = np.stack(
            [
                128 + 100 * np.sin(xx / (17 + k % 13) + k),
                128 + 100 * np.cos(yy / (11 + k % 7) - k),
                128 + 100 * np.sin((xx + yy) / (23 + k % 5)),
            ],
            axis=-1,
        )
        scene += rng.normal(0, 12, scene.shape)
        out = io.BytesIO()
        Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=90)
        frames.append(out.getvalue())
        total += len(frames[-1])
    return Pool(frames, total // len(frames))


# ---------------------------------------------------------------------- availability


def available(group: str) -> str | None:
    """Return None if the group's package imports, else why it is skipped."""
    module = {"rerun": "rerun", "foxglove": "foxglove", "mcap": "mcap"}.get(group)
    if module is None:
        return None
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed"
    try:
        importlib.import_module(module)
    except Exception as err:
        return f"{module} failed to import: {err}"
    return None


# ------------------------------------------------------------------------- this library


def _ours_loop(rec: Any, case: Case, frames: Sequence[Frame], n: int) -> None:
    m = len(frames)
    set_time = rec.set_time_sequence
    if case.kind in ("rgb", "gray_f32"):
        log_image = rec.log_image
        for i in range(n):
            set_time("frame", i)
            log_image("cam/image", frames[i % m])
    elif case.kind == "depth":
        log_depth = rec.log_depth_image
        for i in range(n):
            set_time("frame", i)
            log_depth("cam/depth", frames[i % m], meter=1000)
    elif case.kind == "seg":
        log_seg = rec.log_segmentation_image
        for i in range(n):
            set_time("frame", i)
            log_seg("cam/seg", frames[i % m])
    else:
        log_file = rec.log_image_file
        for i in range(n):
            set_time("frame", i)
            log_file("cam/jpeg", img_bytes=frames[i % m])


def _ours(make_sink: Callable[[Path], Any], *, drain: bool = False):
    def run(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
        import rerun_sinks as rr  # noqa: PLC0415

        sink = make_sink(workdir)
        rec = rr.new_recording("bench", strict=True, sink=sink)
        faults = _minor_faults()
        t0 = time.perf_counter()
        _ours_loop(rec, case, pool.frames, n)
        t1 = time.perf_counter()
        faults = _minor_faults() - faults
        rec.flush()  # FileSink: fsync; BackgroundSink: drain the queue, then fsync
        if drain:
            sink.getvalue()
        rec.disconnect()  # close
        t2 = time.perf_counter()
        return Timing(t1 - t0, t2 - t0, faults)

    return run


def _minor_faults() -> int:
    """Page faults of this process so far that the kernel served without I/O."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _memory_sink(_: Path) -> Any:
    import rerun_sinks as rr  # noqa: PLC0415

    return rr.MemorySink()


def _file_sink(workdir: Path) -> Any:
    import rerun_sinks as rr  # noqa: PLC0415

    return rr.FileSink(workdir / "ours.rrc")


def _background_file_sink(workdir: Path) -> Any:
    import rerun_sinks as rr  # noqa: PLC0415

    return rr.BackgroundSink(rr.FileSink(workdir / "ours-bg.rrc"))


def _mcap_sink(workdir: Path) -> Any:
    from rerun_sinks import McapSink  # noqa: PLC0415

    return McapSink(workdir / "ours.mcap")


# ------------------------------------------------------------------------------ rerun-sdk


def _rerun(sink: SinkKind):
    def run(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
        import rerun as rr  # noqa: PLC0415

        stream = rr.RecordingStream("bench")
        memory = None
        if sink == "memory":
            memory = stream.memory_recording()
        else:
            stream.save(workdir / "rerun.rrd")
        frames, m = pool.frames, len(pool.frames)
        log, set_time = stream.log, stream.set_time
        entity, archetype = _rerun_archetype(rr, case.kind)
        t0 = time.perf_counter()
        for i in range(n):
            set_time("frame", sequence=i)
            log(entity, archetype(frames[i % m]))
        t1 = time.perf_counter()
        stream.flush()
        if memory is not None:
            memory.drain_as_bytes()
        else:
            stream.disconnect()
        t2 = time.perf_counter()
        if memory is not None:
            stream.disconnect()
        return Timing(t1 - t0, t2 - t0)

    return run


def _rerun_archetype(rr: Any, kind: Kind) -> tuple[str, Callable[[Frame], Any]]:
    if kind in ("rgb", "gray_f32"):
        return "cam/image", rr.Image
    if kind == "depth":
        return "cam/depth", functools.partial(rr.DepthImage, meter=1000)
    if kind == "seg":
        return "cam/seg", rr.SegmentationImage

    def encoded(contents: bytes) -> Any:
        return rr.EncodedImage(contents=contents, media_type="image/jpeg")

    return "cam/jpeg", encoded


# --------------------------------------------------------------------------- foxglove-sdk

_FOXGLOVE_ENCODING = {"rgb": ("rgb8", 3), "gray_f32": ("32FC1", 4), "depth": ("16UC1", 2)}


def _foxglove(sink: SinkKind, *, compress: bool):
    def run(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
        import foxglove  # noqa: PLC0415
        from foxglove.channels import CompressedImageChannel, RawImageChannel  # noqa: PLC0415
        from foxglove.mcap import MCAPWriteOptions  # noqa: PLC0415
        from foxglove.messages import CompressedImage, RawImage, Timestamp  # noqa: PLC0415

        context = foxglove.Context()
        options = None if compress else MCAPWriteOptions(compression=None)
        target: Any = io.BytesIO() if sink == "memory" else workdir / "foxglove.mcap"
        writer = foxglove.open_mcap(
            target, allow_overwrite=True, context=context, writer_options=options
        )
        frames, m = pool.frames, len(pool.frames)
        t0 = time.perf_counter()
        if case.kind == "jpeg":
            jchannel = CompressedImageChannel("/cam/jpeg", context=context)
            for i in range(n):
                jchannel.log(
                    CompressedImage(
                        timestamp=Timestamp(sec=0, nsec=i),
                        frame_id="cam",
                        data=frames[i % m],
                        format="jpeg",
                    ),
                    log_time=i,
                )
        else:
            channel = RawImageChannel("/cam/image", context=context)
            encoding, item = _FOXGLOVE_ENCODING.get(case.kind, ("mono8", 1))
            step = case.width * item * (3 if case.kind == "rgb" else 1)
            for i in range(n):
                channel.log(
                    RawImage(
                        timestamp=Timestamp(sec=0, nsec=i),
                        frame_id="cam",
                        width=case.width,
                        height=case.height,
                        encoding=encoding,
                        step=step,
                        data=frames[i % m].tobytes(),  # the API takes bytes only
                    ),
                    log_time=i,
                )
        t1 = time.perf_counter()
        writer.close()
        if isinstance(target, io.BytesIO):
            target.getvalue()
        t2 = time.perf_counter()
        return Timing(t1 - t0, t2 - t0)

    return run


# ------------------------------------------------------------------------- mcap (python)


def _mcap_writer(sink: SinkKind):
    def run(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
        from mcap.writer import CompressionType, Writer  # noqa: PLC0415

        stream: Any = io.BytesIO() if sink == "memory" else open(workdir / "mcap.mcap", "wb")  # noqa: SIM115
        writer = Writer(stream, compression=CompressionType.NONE)
        writer.start(profile="", library="bench")
        schema = writer.register_schema(name="raw", encoding="", data=b"")
        channel = writer.register_channel(
            topic="/cam/image", message_encoding="raw", schema_id=schema
        )
        frames, m = pool.frames, len(pool.frames)
        header = struct.Struct("<IIII")
        add = writer.add_message
        t0 = time.perf_counter()
        for i in range(n):
            frame = frames[i % m]
            data = header.pack(case.width, case.height, i, 0) + memoryview(frame).cast("B")
            add(channel, log_time=i, data=data, publish_time=i)
        t1 = time.perf_counter()
        writer.finish()
        if isinstance(stream, io.BytesIO):
            stream.getvalue()
        else:
            stream.close()
        t2 = time.perf_counter()
        return Timing(t1 - t0, t2 - t0)

    return run


# --------------------------------------------------------------------------------- limit


def _as_buffer(frame: Frame) -> np.ndarray:
    return np.frombuffer(frame, np.uint8) if isinstance(frame, bytes) else frame


def _memcpy(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    sources = [_as_buffer(f) for f in pool.frames]
    targets = [np.empty_like(s) for s in sources]
    m = len(sources)
    t0 = time.perf_counter()
    for i in range(n):
        np.copyto(targets[i % m], sources[i % m])
    t1 = time.perf_counter()
    return Timing(t1 - t0, t1 - t0)


def _os_write(*, fsync: bool):
    def run(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
        frames, m = pool.frames, len(pool.frames)
        fd = os.open(workdir / "limit.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        write = os.write
        t0 = time.perf_counter()
        for i in range(n):
            write(fd, frames[i % m])
        t1 = time.perf_counter()
        if fsync:
            os.fsync(fd)
        os.close(fd)
        t2 = time.perf_counter()
        return Timing(t1 - t0, t2 - t0)

    return run


LIMIT_MEMCPY = "np.copyto (memcpy)"
LIMIT_WRITE_FSYNC = "os.write + fsync"
LIMIT_WRITE = "os.write (no fsync)"

TARGETS: tuple[Target, ...] = (
    Target("ours", "MemorySink", "memory", _ours(_memory_sink, drain=True), LIMIT_MEMCPY),
    Target("ours", "FileSink .rrc", "file", _ours(_file_sink), LIMIT_WRITE_FSYNC),
    Target(
        "ours",
        "BackgroundSink(FileSink)",
        "file",
        _ours(_background_file_sink),
        LIMIT_WRITE_FSYNC,
    ),
    Target(
        "ours",
        "McapSink .mcap (zstd)",
        "file",
        _ours(_mcap_sink),
        LIMIT_WRITE,
        requires="mcap",
    ),
    Target("rerun", "memory_recording()", "memory", _rerun("memory"), LIMIT_MEMCPY),
    Target("rerun", "save() .rrd", "file", _rerun("file"), LIMIT_WRITE),
    Target(
        "foxglove", "BytesIO (none)", "memory", _foxglove("memory", compress=False), LIMIT_MEMCPY
    ),
    Target("foxglove", "file (none)", "file", _foxglove("file", compress=False), LIMIT_WRITE),
    Target("foxglove", "file (zstd)", "file", _foxglove("file", compress=True), LIMIT_WRITE),
    Target("mcap", "BytesIO (none)", "memory", _mcap_writer("memory"), LIMIT_MEMCPY),
    Target("mcap", "file (none)", "file", _mcap_writer("file"), LIMIT_WRITE),
    Target("limit", LIMIT_MEMCPY, "memory", _memcpy, LIMIT_MEMCPY),
    Target("limit", LIMIT_WRITE_FSYNC, "file", _os_write(fsync=True), LIMIT_WRITE_FSYNC),
    Target("limit", LIMIT_WRITE, "file", _os_write(fsync=False), LIMIT_WRITE),
)

GROUP_TITLES = {
    "ours": "rerun-core",
    "rerun": "rerun-sdk",
    "foxglove": "foxglove-sdk",
    "mcap": "mcap (python)",
    "limit": "limit",
}


def target_key(target: Target) -> str:
    return f"{target.group}:{target.name}"


# Targets used by the scaling tables.
OURS_MEMORY = TARGETS[0]
OURS_FILE = TARGETS[1]
MEMCPY = TARGETS[11]
WRITE_FSYNC = TARGETS[12]
