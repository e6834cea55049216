"""McapSink against foxglove-sdk, and the MCAP writer McapSink is built on.

    python benchmarks/bench_mcap.py                 # ~1-2 min on 2 cores; Markdown on stdout
    python benchmarks/bench_mcap.py --quick         # a few seconds, tiny N (smoke test)

Section "sink": per frame end to end (log loop + close) for 64x64 RGB and 640x480 uint16
depth, the same N for every target, runs interleaved (run 1 of every target, then run 2,
...), with the output file size:
- ``McapSink e2e``: ``rr.new_recording(sink=McapSink(path))`` + ``log_image`` /
  ``log_depth_image(meter=1000)`` + ``set_time_sequence`` per frame, then close (as bench.py);
- ``McapSink.write``: the sink alone, given records built before the timer (what the
  sink itself costs per record; the rest of "e2e" is the recording path);
- ``foxglove-sdk``: ``open_mcap(path)`` with its default options (zstd) and a
  ``RawImageChannel`` (as bench.py).

Section "writers": the choice of writer. The same messages (a protobuf ``foxglove.RawImage``
and a ~60-byte side message per frame, zstd chunks) through foxglove-sdk's Rust writer and
through the ``mcap`` Python writer with ``foxglove-schemas-protobuf``; through foxglove-sdk
given its own ``RawImage`` objects, bytes serialized by the protobuf library (a template
of the fields every frame shares plus each frame's timestamp and data: protobuf merges
concatenated messages), or bytes joined from a per-layout template (each frame's
serialized timestamp, the shared fields and the data field's tag and length serialized
once, the pixels: what ``McapSink`` logs); and without the side messages: what one per
frame costs.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_targets import Case, Pool, make_pool

CASES = (Case("rgb64", "rgb", 64, 64), Case("depth16", "depth", 480, 640))
DEFAULT_N = {"rgb64": 20_000, "depth16": 400}


@dataclass(frozen=True)
class Timing:
    """Wall seconds of the log loop and of loop + close; CPU seconds of loop + close.

    CPU is the whole process's (``time.process_time``), so it includes foxglove-sdk's
    compression threads; on a loaded machine it is steadier than wall time.
    """

    loop: float
    total: float
    cpu: float


Run = Callable[[Case, Pool, int, Path], Timing]


class _Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> float:
        return time.perf_counter() - self.wall

    def stop(self, loop: float) -> Timing:
        return Timing(loop, time.perf_counter() - self.wall, time.process_time() - self.cpu)


def _ours_e2e(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    """rr.new_recording(sink=McapSink) + set_time_sequence + log_* per frame, then close."""
    import rerun_sinks as rr  # noqa: PLC0415

    rec = rr.new_recording("bench", strict=True, sink=rr.McapSink(workdir / "ours.mcap"))
    frames, m = pool.frames, len(pool.frames)
    set_time = rec.set_time_sequence
    clock = _Clock()
    if case.kind == "depth":
        log_depth = rec.log_depth_image
        for i in range(n):
            set_time("frame", i)
            log_depth("cam/depth", frames[i % m], meter=1000)
    else:
        log_image = rec.log_image
        for i in range(n):
            set_time("frame", i)
            log_image("cam/image", frames[i % m])
    loop = clock.lap()
    rec.disconnect()  # close: the summary and footer
    return clock.stop(loop)


def _foxglove_default(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    """foxglove-sdk open_mcap(path) with default options and a RawImageChannel (as bench.py)."""
    import foxglove  # noqa: PLC0415
    from foxglove.channels import RawImageChannel  # noqa: PLC0415
    from foxglove.messages import RawImage, Timestamp  # noqa: PLC0415

    context = foxglove.Context()
    writer = foxglove.open_mcap(workdir / "foxglove.mcap", allow_overwrite=True, context=context)
    channel = RawImageChannel("/cam/image", context=context)
    encoding, step = ("16UC1", case.width * 2) if case.kind == "depth" else ("rgb8", case.width * 3)
    frames, m = pool.frames, len(pool.frames)
    clock = _Clock()
    for i in range(n):
        message = RawImage(
            timestamp=Timestamp(sec=0, nsec=i),
            frame_id="cam",
            width=case.width,
            height=case.height,
            encoding=encoding,
            step=step,
            data=frames[i % m].tobytes(),  # the API takes bytes only
        )
        channel.log(message, log_time=i)
    loop = clock.lap()
    writer.close()
    return clock.stop(loop)


def _sink_only(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    """McapSink.write of records built before the timer, then close."""
    import rerun_core as rc  # noqa: PLC0415
    from rerun_sinks import McapSink  # noqa: PLC0415

    if case.kind == "depth":
        msgs = [rc.make_depth_msg(frame, meter=1000) for frame in pool.frames]
    else:
        msgs = [rc.make_image_msg(frame) for frame in pool.frames]
    entity = "cam/depth" if case.kind == "depth" else "cam/image"
    base = time.time_ns()
    records = [
        rc.make_record(
            entity,
            msgs[i % len(msgs)],
            timepoint={"frame": rc.TimeValue("sequence", i)},
            log_tick=i,
            log_time_ns=base + i,
        )
        for i in range(n)
    ]
    sink = McapSink(workdir / "sink.mcap")
    write = sink.write
    clock = _Clock()
    for record in records:
        write(record)
    loop = clock.lap()
    sink.close()
    return clock.stop(loop)


SINK_TARGETS: tuple[tuple[str, Run, str], ...] = (
    ("McapSink e2e (rec.log_* + close)", _ours_e2e, "ours.mcap"),
    ("McapSink.write (prebuilt records) + close", _sink_only, "sink.mcap"),
    ("foxglove-sdk open_mcap (default: zstd)", _foxglove_default, "foxglove.mcap"),
)


# ------------------------------------------------------------------------------- writers


def _side_message() -> bytes:
    """A side record as McapSink writes it for a frame (serialized by the protobuf library)."""
    from rerun_sinks import _mcap_schema  # noqa: PLC0415

    side = _mcap_schema.message_class("Record")(
        entity_path=["cam", "image"],
        log_tick=5,
        log_time_ns=time.time_ns(),
        timepoint=[{"timeline": "frame", "kind": "sequence", "value": 5}],
        kind="image",
        image_sequence=5,
        dtype="|u1",
        color_model="RGB",
    )
    return side.SerializeToString()


def _layout(case: Case) -> tuple[str, int]:
    """The RawImage encoding and step of the case's frames."""
    return ("16UC1", case.width * 2) if case.kind == "depth" else ("rgb8", case.width * 3)


def _raw_image_schema_data() -> bytes:
    """foxglove.RawImage's FileDescriptorSet, from foxglove-schemas-protobuf."""
    from foxglove_schemas_protobuf.RawImage_pb2 import RawImage  # noqa: PLC0415
    from google.protobuf import descriptor_pb2  # noqa: PLC0415

    files = descriptor_pb2.FileDescriptorSet()
    for file in (RawImage.DESCRIPTOR.file.dependencies[0], RawImage.DESCRIPTOR.file):
        file.CopyToProto(files.file.add())
    return files.SerializeToString()


def _writer_foxglove(
    case: Case, pool: Pool, n: int, workdir: Path, *, side: bool = True, form: str = "objects"
) -> Timing:
    """foxglove-sdk's writer given ``form``: its RawImage objects, or bytes.

    Bytes: ``"protobuf"`` serializes each frame's timestamp and data with the protobuf
    library; ``"template"`` joins each frame's serialized timestamp, the shared fields and
    the data field's tag and length (all serialized once), and the pixels.
    """
    import foxglove  # noqa: PLC0415
    from foxglove.channels import RawImageChannel  # noqa: PLC0415
    from foxglove.messages import RawImage, Timestamp  # noqa: PLC0415
    from foxglove_schemas_protobuf.RawImage_pb2 import RawImage as PbRawImage  # noqa: PLC0415
    from google.protobuf.timestamp_pb2 import Timestamp as PbTimestamp  # noqa: PLC0415

    context = foxglove.Context()
    writer = foxglove.open_mcap(workdir / "w-foxglove.mcap", allow_overwrite=True, context=context)
    typed = form == "objects"
    if typed:
        image_log = RawImageChannel("/cam", context=context).log
    else:
        schema = foxglove.Schema(
            name="foxglove.RawImage", encoding="protobuf", data=_raw_image_schema_data()
        )
        image_log = foxglove.Channel(
            "/cam", schema=schema, message_encoding="protobuf", context=context
        ).base.log
    schema = foxglove.Schema(name="rerun_core.Record", encoding="protobuf", data=b"")
    side_log = foxglove.Channel(
        "/cam/rerun_core", schema=schema, message_encoding="protobuf", context=context
    ).base.log
    side_message = _side_message()
    encoding, step = _layout(case)
    # protobuf merges concatenated messages: the fields every frame shares, serialized once
    template = PbRawImage(
        frame_id="cam", width=case.width, height=case.height, encoding=encoding, step=step
    ).SerializeToString()
    frames = [f.tobytes() for f in pool.frames]
    size = len(frames[0])
    data_head = PbRawImage(data=bytes(size)).SerializeToString()[:-size]  # tag and length
    m, base = len(frames), time.time_ns()
    clock = _Clock()
    for i in range(n):
        t = base + i
        sec, nsec = divmod(t, 1_000_000_000)
        if form == "template":
            stamp = PbTimestamp(seconds=sec, nanos=nsec).SerializeToString()
            head = b"\n" + bytes((len(stamp),))  # field 1, length-delimited: the timestamp
            message = b"".join((head, stamp, template, data_head, frames[i % m]))
        elif typed:
            message = RawImage(
                timestamp=Timestamp(sec, nsec),
                frame_id="cam",
                width=case.width,
                height=case.height,
                encoding=encoding,
                step=step,
                data=frames[i % m],
            )
        else:
            own = PbRawImage(timestamp=PbTimestamp(seconds=sec, nanos=nsec), data=frames[i % m])
            message = template + own.SerializeToString()
        image_log(message, log_time=t)
        if side:
            side_log(side_message, t, None)
    loop = clock.lap()
    writer.close()
    return clock.stop(loop)


def _writer_mcap_python(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    from foxglove_schemas_protobuf.RawImage_pb2 import RawImage  # noqa: PLC0415
    from mcap.writer import CompressionType, Writer  # noqa: PLC0415

    stream = open(workdir / "w-mcap.mcap", "wb")  # noqa: SIM115
    writer = Writer(stream, compression=CompressionType.ZSTD)
    writer.start(profile="", library="bench")
    image = writer.register_channel(
        "/cam",
        "protobuf",
        writer.register_schema("foxglove.RawImage", "protobuf", _raw_image_schema_data()),
    )
    side = writer.register_channel(
        "/cam/rerun_core", "protobuf", writer.register_schema("rerun_core.Record", "protobuf", b"")
    )
    side_message = _side_message()
    encoding, step = _layout(case)
    frames = [f.tobytes() for f in pool.frames]
    m, base, add = len(frames), time.time_ns(), writer.add_message
    clock = _Clock()
    for i in range(n):
        t = base + i
        message = RawImage(
            frame_id="cam",
            width=case.width,
            height=case.height,
            encoding=encoding,
            step=step,
            data=frames[i % m],
        )
        message.timestamp.seconds, message.timestamp.nanos = divmod(t, 10**9)
        add(image, log_time=t, data=message.SerializeToString(), publish_time=t, sequence=i)
        add(side, log_time=t, data=side_message, publish_time=t, sequence=i)
    loop = clock.lap()
    writer.finish()
    stream.close()
    return clock.stop(loop)


def _writer_foxglove_bytes(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    return _writer_foxglove(case, pool, n, workdir, form="protobuf")


def _writer_foxglove_template(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    return _writer_foxglove(case, pool, n, workdir, form="template")


def _writer_foxglove_images_only(case: Case, pool: Pool, n: int, workdir: Path) -> Timing:
    return _writer_foxglove(case, pool, n, workdir, side=False)


WRITER_TARGETS: tuple[tuple[str, Run, str], ...] = (
    ("foxglove-sdk, its RawImage objects", _writer_foxglove, "w-foxglove.mcap"),
    (
        "foxglove-sdk, protobuf bytes (template + per-frame part)",
        _writer_foxglove_bytes,
        "w-foxglove.mcap",
    ),
    (
        "foxglove-sdk, bytes joined from a per-layout template",
        _writer_foxglove_template,
        "w-foxglove.mcap",
    ),
    ("mcap (Python writer) + protobuf", _writer_mcap_python, "w-mcap.mcap"),
    (
        "foxglove-sdk, RawImage objects, no side message",
        _writer_foxglove_images_only,
        "w-foxglove.mcap",
    ),
)


# ---------------------------------------------------------------------------------- runs


def measure(
    case: Case,
    *,
    targets: tuple[tuple[str, Run, str], ...],
    n: int,
    runs: int,
    workdir: Path,
    quick: bool,
) -> dict[str, tuple[list[Timing], int]]:
    pool = make_pool(case, quick=quick)
    results: dict[str, tuple[list[Timing], int]] = {name: ([], 0) for name, _, _ in targets}
    for _name, run, _ in targets:  # warm-up (imports, first-touch of the pool)
        run(case, pool, min(n, 200), workdir)
    for _ in range(runs):
        for name, run, output in targets:
            gc.collect()
            timing = run(case, pool, n, workdir)
            size = (workdir / output).stat().st_size
            for file in workdir.iterdir():
                file.unlink()
            results[name][0].append(timing)
            results[name] = (results[name][0], size)
    return results


def table(case: Case, n: int, results: dict[str, tuple[list[Timing], int]], reference: str) -> str:
    def median(timings: list[Timing], field: str) -> float:
        return statistics.median(getattr(t, field) for t in timings)

    ref_timings, ref_size = results[reference]
    ref_total, ref_cpu = median(ref_timings, "total"), median(ref_timings, "cpu")
    lines = [
        f"**{case.label}**, N = {n} frames per run, {len(ref_timings)} interleaved runs",
        "",
        "| target | e2e µs/frame median [best] | ÷ ref | CPU µs/frame median | ÷ ref "
        "| log loop µs/call | file MB | size ÷ ref |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (timings, size) in results.items():
        total, cpu = median(timings, "total"), median(timings, "cpu")
        best, loop = min(t.total for t in timings), median(timings, "loop")
        lines.append(
            f"| {name} | {total / n * 1e6:,.1f} [{best / n * 1e6:,.1f}] | {total / ref_total:.2f} "
            f"| {cpu / n * 1e6:,.1f} | {cpu / ref_cpu:.2f} | {loop / n * 1e6:,.1f} "
            f"| {size / 1e6:,.2f} | {size / ref_size:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny N and 1 run (smoke test)")
    parser.add_argument("--sections", default="sink,writers")
    parser.add_argument("--n-rgb64", type=int, default=DEFAULT_N["rgb64"])
    parser.add_argument("--n-depth16", type=int, default=DEFAULT_N["depth16"])
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    runs = 1 if args.quick else args.runs
    counts = {"rgb64": args.n_rgb64, "depth16": args.n_depth16}
    from importlib.metadata import version  # noqa: PLC0415

    print(f"foxglove-sdk {version('foxglove-sdk')}, mcap {version('mcap')}, numpy {np.__version__}")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{when}, nproc {os.cpu_count()}, Python {sys.version.split()[0]}\n")
    with tempfile.TemporaryDirectory(
        dir=Path(__file__).resolve().parent, prefix=".bench-mcap-"
    ) as tmp:
        workdir = Path(tmp)
        if "sink" in sections:
            for case in CASES:
                n = 50 if args.quick else counts[case.name]
                results = measure(
                    case, targets=SINK_TARGETS, n=n, runs=runs, workdir=workdir, quick=args.quick
                )
                print(table(case, n, results, SINK_TARGETS[-1][0]), "\n")
        if "writers" in sections:
            print("Writers: the same RawImage + side message per frame, zstd chunks\n")
            for case in CASES:
                n = 50 if args.quick else counts[case.name]
                results = measure(
                    case, targets=WRITER_TARGETS, n=n, runs=runs, workdir=workdir, quick=args.quick
                )
                print(table(case, n, results, WRITER_TARGETS[0][0]), "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
