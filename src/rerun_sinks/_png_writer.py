"""PNG bytes of uint8 or uint16 pixels, lossless, for exports (files, Arrow image columns).

Rules: HxW or HxWxC with C in 1, 3, 4 (gray, RGB, RGBA); 16 bits are kept. Pillow writes
everything it has a mode for (8-bit, 16-bit gray); 16-bit RGB/RGBA, which Pillow cannot
hold, is written by pypng (pure Python: about 0.2 s for 640x480). Both are imported on
first use.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

__all__ = ["encode_png"]


def encode_png(pixels: np.ndarray[Any, Any], *, level: int = 6) -> bytes:
    """Return a PNG of ``pixels`` (uint8 or uint16); ``level`` is the zlib level, 0..9."""
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    out = io.BytesIO()
    if pixels.dtype == np.uint16 and pixels.ndim == 3:
        import png  # noqa: PLC0415 (imported on first use)

        height, width, channels = pixels.shape
        writer = png.Writer(
            width, height, greyscale=False, alpha=channels == 4, bitdepth=16, compression=level
        )
        writer.write_array(out, np.ascontiguousarray(pixels).reshape(-1))
    else:
        from PIL import Image  # noqa: PLC0415 (imported on first use)

        Image.fromarray(np.ascontiguousarray(pixels)).save(out, format="PNG", compress_level=level)
    return out.getvalue()
