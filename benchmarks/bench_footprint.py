"""Footprint of the core for SDKs that embed it: ``import rerun_core`` time and install size.

Method: build a wheel of this repository (or take ``--wheel``), install it into a fresh
virtualenv with its runtime dependencies only (no extras), then
- import time: ``python -c "import X"`` in a fresh interpreter, wall clock of the whole
  child minus an empty child's (``python -c pass``), N runs per target, targets interleaved
  (numpy, numpy + Pillow, rerun_core, rerun_sinks, empty); reported: min and median;
- what ``import rerun_core`` loads: the top-level modules it puts in ``sys.modules``;
- install size: the bytes of every file each installed distribution's RECORD lists
  (pip, setuptools and wheel left out), per distribution and in total.

Targets (issue 18): import <= numpy's + 50 ms; install <= numpy + Pillow + 30 MB.

``--png`` times the 16-bit colour PNG decoders instead, in this interpreter (the development
venv has all three): pyspng (what ``decode_png`` uses), imagecodecs (libpng, what it used
before) and pypng (the pure-Python fallback), on 640x480 random RGB and RGBA, same bytes for
each, runs interleaved, every output checked equal to the pixels encoded.

    python benchmarks/bench_footprint.py                  # wheel of this checkout
    python benchmarks/bench_footprint.py --wheel W.whl --runs 30 --keep /tmp/fp-venv
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

ROOT = Path(__file__).resolve().parents[1]
MB = 1e6
TARGETS = {
    "empty": "pass",
    "numpy": "import numpy",
    "numpy + Pillow": "import numpy, PIL.Image",
    "rerun_core": "import rerun_core",
    "rerun_sinks": "import rerun_sinks",
}
TOOLING = {"pip", "setuptools", "wheel"}

SIZES = """
import json
from importlib import metadata
sizes = {}
for dist in metadata.distributions():
    total = 0
    for file in dist.files or ():
        path = file.locate()
        if path.is_file():
            total += path.stat().st_size
    sizes[dist.metadata["Name"].lower()] = total
print(json.dumps(sizes))
"""

LOADED = """
import json, sys
before = set(sys.modules)
import rerun_core
loaded = {m.split(".")[0] for m in set(sys.modules) - before}
print(json.dumps(sorted(loaded - set(sys.stdlib_module_names) - {"rerun_core"})))
"""


def build_wheel(out: Path) -> Path:
    """Build a wheel of this checkout (no dependencies) into ``out``."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)]
    subprocess.run(cmd, check=True)
    return next(out.glob("rerun_core-*.whl"))


def make_venv(wheel: Path, where: Path) -> Path:
    """A fresh virtualenv at ``where`` with ``wheel`` and its runtime dependencies."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    return python


def child_seconds(python: Path, code: str) -> float:
    """Wall-clock seconds of a fresh interpreter running ``code``."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    start = time.perf_counter()
    subprocess.run([str(python), "-c", code], check=True, env=env)
    return time.perf_counter() - start


def import_times(python: Path, runs: int) -> dict[str, list[float]]:
    """Import time of each target in ms, minus an empty interpreter's, runs interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in TARGETS}
    for _ in range(runs):
        for name, code in TARGETS.items():
            samples[name].append(child_seconds(python, code) * 1000)
    empty = min(samples.pop("empty"))
    return {name: [t - empty for t in times] for name, times in samples.items()}


def run_json(python: Path, code: str) -> object:
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def report(python: Path, runs: int) -> str:
    times = import_times(python, runs)
    sizes = {k: v for k, v in dict(run_json(python, SIZES)).items() if k not in TOOLING}  # type: ignore[call-overload]
    loaded = run_json(python, LOADED)
    lines = [
        f"Import time (ms above an empty interpreter, {runs} runs each, interleaved):",
        "",
        "| import | min | median |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| `{name}` | {min(t):.0f} | {statistics.median(t):.0f} |" for name, t in times.items()
    ]
    core, numpy = min(times["rerun_core"]), min(times["numpy"])
    lines += [
        "",
        f"`import rerun_core` - `import numpy` = {core - numpy:.0f} ms (min; target <= 50 ms).",
        f"`import rerun_core` loads (besides the standard library): "
        f"{', '.join(f'`{m}`' for m in loaded)}.",  # type: ignore[attr-defined]
        "",
        "Install size (files in each distribution's RECORD; pip/setuptools/wheel left out):",
        "",
        "| distribution | MB |",
        "|---|---:|",
    ]
    lines += [
        f"| {name} | {size / MB:.1f} |"
        for name, size in sorted(sizes.items(), key=lambda item: -item[1])
    ]
    total = sum(sizes.values())
    base = sizes.get("numpy", 0) + sizes.get("pillow", 0)
    lines += [
        f"| **total** | **{total / MB:.1f}** |",
        "",
        f"Total - (numpy + Pillow) = {(total - base) / MB:.1f} MB (target <= 30 MB).",
    ]
    return "\n".join(lines)


def png_decoders(runs: int) -> str:
    """Min and median ms of each 16-bit colour decoder on 640x480 RGB and RGBA."""
    import imagecodecs  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    import png  # noqa: PLC0415
    import pyspng  # noqa: PLC0415

    def pypng_decode(data: bytes) -> np.ndarray:
        width, height, pixels, info = png.Reader(bytes=data).read_flat()
        return np.asarray(pixels, np.uint16).reshape(height, width, info["planes"])

    decoders = {"pyspng": pyspng.load, "imagecodecs": imagecodecs.png_decode, "pypng": pypng_decode}
    lines = ["| image | decoder | runs | min ms | median ms |", "|---|---|--:|--:|--:|"]
    rng = np.random.default_rng(0)
    for channels in (3, 4):
        pixels = rng.integers(0, 2**16, (480, 640, channels), dtype=np.uint16)
        data = imagecodecs.png_encode(pixels, level=1)
        samples: dict[str, list[float]] = {name: [] for name in decoders}
        for run in range(runs):
            for name, decode in decoders.items():
                if name == "pypng" and run >= 3:  # ~1 s a call
                    continue
                start = time.perf_counter()
                out = decode(data)
                samples[name].append((time.perf_counter() - start) * 1000)
                assert np.array_equal(out[:, :, :channels], pixels), name
        lines += [
            f"| 640x480 {'RGB' if channels == 3 else 'RGBA'} u16 | {name} | {len(t)} | "
            f"{min(t):.1f} | {statistics.median(t):.1f} |"
            for name, t in samples.items()
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--wheel", type=Path, help="a built wheel (default: build this checkout)")
    parser.add_argument("--runs", type=int, default=20, help="runs per import target")
    parser.add_argument("--keep", type=Path, help="create (or reuse) the venv here")
    parser.add_argument("--png", action="store_true", help="time the 16-bit PNG decoders")
    args = parser.parse_args()
    if args.png:
        print(png_decoders(args.runs))
        return
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or build_wheel(Path(tmp) / "dist")
        where = args.keep or Path(tmp) / "venv"
        python = where / "bin" / "python"
        if not python.exists():
            python = make_venv(wheel, where)
        print(f"wheel: {wheel.name}; python: {sys.version.split()[0]}\n")
        print(report(python, args.runs))


if __name__ == "__main__":
    main()
