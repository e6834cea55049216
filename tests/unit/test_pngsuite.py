"""Every PngSuite image decodes exactly, by every decoder path; every broken one raises.

PngSuite (Willem van Schaik, freeware: pngsuite/PngSuite.LICENSE) covers each colour type,
bit depth, interlacing, palette and transparency variant, odd sizes, filters and chunk
orders; its ``x*`` files are corrupt. The expected pixels come from pypng's raw samples
(``png.Reader.read``) turned into SPEC §2's output by the rules below, independently of
the decoders ``decode_png`` uses (Pillow, pyspng, and pypng for the rest).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import png
import pytest

from rerun_core._png import decode_png
from rerun_core.errors import DecodeError

SUITE = Path(__file__).parent / "pngsuite"
VALID = sorted(p for p in SUITE.glob("*.png") if not p.name.startswith("x"))
BROKEN = sorted(SUITE.glob("x*.png"))
MAX = 2**28


def expected(data: bytes) -> np.ndarray:
    """SPEC §2: palette -> RGB(A), gray+alpha -> RGBA, low-bit gray scaled, 16 bits kept."""
    width, height, rows, info = png.Reader(bytes=data).read()
    samples = np.vstack([np.asarray(row, dtype=np.uint32) for row in rows])
    samples = samples.reshape(height, width, info["planes"])
    depth = info["bitdepth"]
    if "palette" in info and info["planes"] == 1:  # truecolour may carry a suggested PLTE
        palette = np.asarray(info["palette"], dtype=np.uint8)  # 4 columns when tRNS is given
        return palette[samples[:, :, 0]]
    if info["greyscale"] and info["alpha"]:
        samples = samples[:, :, [0, 0, 0, 1]]
    elif info["greyscale"] and depth < 8:
        samples = samples * 255 // (2**depth - 1)
    return samples.astype(np.uint16 if depth == 16 else np.uint8)


def is_16bit_color(data: bytes) -> bool:
    depth, color_type = data[24], data[25]
    return depth == 16 and color_type != 0


def test_the_suite_is_complete() -> None:
    assert len(VALID) == 160
    assert len(BROKEN) == 14
    assert sum(is_16bit_color(p.read_bytes()) for p in VALID) == 20


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_decodes_exactly(path: Path) -> None:
    data = path.read_bytes()

    out = decode_png(data, max_pixels=MAX)

    want = expected(data)
    assert out.dtype == want.dtype
    assert np.array_equal(out, want)


@pytest.mark.parametrize(
    "path", [p for p in VALID if is_16bit_color(p.read_bytes())], ids=lambda p: p.stem
)
def test_pure_python_fallback_decodes_16bit_color_exactly(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pyspng, pypng decodes 16-bit colour to the same pixels."""
    monkeypatch.setitem(sys.modules, "pyspng", None)  # import pyspng raises ImportError
    data = path.read_bytes()

    out = decode_png(data, max_pixels=MAX)

    assert np.array_equal(out, expected(data))


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_files_raise(path: Path) -> None:
    with pytest.raises(DecodeError):
        decode_png(path.read_bytes(), max_pixels=MAX)
