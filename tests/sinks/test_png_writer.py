"""The export PNG writer is lossless for every pixel layout it is given (checked with libpng)."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest

from rerun_sinks._png_writer import encode_png

SHAPES = [(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4)]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_round_trips_exactly(shape: tuple[int, ...], dtype: type) -> None:
    pixels = np.random.default_rng(7).integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)

    decoded = imagecodecs.png_decode(encode_png(pixels, level=1))

    assert decoded.dtype == pixels.dtype
    assert np.array_equal(decoded.reshape(shape), pixels)
