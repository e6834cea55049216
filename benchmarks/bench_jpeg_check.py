"""What the strict JPEG check costs ``make_encoded_image_msg`` / ``log_image_file``.

Every new JPEG must pass a strict decode (libjpeg-turbo via simplejpeg, warnings as errors, at
1/8 scale). This times, per file and on the same pool of JPEG files (the synthetic q90 scenes of
``bench_targets``), interleaved run by run with the same N files for every target:

- ``header walk``: ``rc.ImageMsg(..., encoded=data)``, whose validation walks the markers from
  SOI to EOI without decoding: what the builder did before the check;
- ``strict check``: the check's own call, ``simplejpeg.decode_jpeg(data, min_factor=8,
  strict=True)``;
- ``builder``: ``rc.make_encoded_image_msg(data)`` (header, walk, check);
- ``strict full decode``: ``simplejpeg.decode_jpeg(data, strict=True)`` at full scale;
- ``Pillow decode``: ``Image.open(...).load()`` at full scale;
- ``copy``: ``bytes(bytearray(data))`` (the physical limit of taking the bytes).

    .venv/bin/python benchmarks/bench_jpeg_check.py [--runs 5] [--files 20] [--quick]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import simplejpeg
from bench_targets import Case, make_pool
from PIL import Image

import rerun_core as rc

CASES = (Case("jpeg480", "jpeg", 480, 640), Case("jpeg4k", "jpeg", 2160, 3840))


def _pillow(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def _header_walk(data: bytes) -> None:
    height, width = simplejpeg.decode_jpeg_header(data)[:2]
    rc.ImageMsg(
        height=height,
        width=width,
        channels=3,
        color_model="RGB",
        encoded=data,
        media_type="jpeg",
    )


TARGETS: dict[str, Callable[[bytes], object]] = {
    "header walk": _header_walk,
    "strict check": lambda data: simplejpeg.decode_jpeg(data, min_factor=8, strict=True),
    "builder": rc.make_encoded_image_msg,
    "strict full decode": lambda data: simplejpeg.decode_jpeg(data, strict=True),
    "Pillow decode": _pillow,
    "copy": lambda data: bytes(bytearray(data)),
}


def _time(target: Callable[[bytes], object], files: list[bytes]) -> float:
    start = time.perf_counter()
    for data in files:
        target(data)
    return (time.perf_counter() - start) / len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=20, help="files timed per run and target")
    parser.add_argument("--quick", action="store_true", help="1 run of 3 files")
    args = parser.parse_args()
    runs, count = (1, 3) if args.quick else (args.runs, args.files)
    print(f"runs {runs}, N = {count} files per run and target (median of runs, ms per file)\n")
    print("| case | mean file | " + " | ".join(TARGETS) + " | check / header walk |")
    print("|---" * (len(TARGETS) + 3) + "|")
    for case in CASES:
        pool = [bytes(f) for f in make_pool(case, quick=args.quick).frames]
        files = [pool[i % len(pool)] for i in range(count)]
        samples: dict[str, list[float]] = {name: [] for name in TARGETS}
        for _ in range(runs):  # interleaved: every target once per run
            for name, target in TARGETS.items():
                samples[name].append(_time(target, files))
        median = {name: statistics.median(values) * 1e3 for name, values in samples.items()}
        size = sum(len(f) for f in files) // len(files) // 1024
        cells = " | ".join(f"{median[name]:.3f}" for name in TARGETS)
        ratio = median["strict check"] / median["header walk"]
        print(f"| {case.name} {case.width}x{case.height} | {size} KB | {cells} | {ratio:.0f}x |")


if __name__ == "__main__":
    main()
