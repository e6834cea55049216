"""A synthetic camera: deterministic RGB, depth and segmentation frames for demos."""

from __future__ import annotations

from typing import Any

import numpy as np

from rerun_core import AnnotationInfo, ClassDescription

__all__ = ["CLASSES", "Frame", "synthetic_frame"]

CLASSES = (
    ClassDescription(info=AnnotationInfo(0, "background", (0, 0, 0, 0))),
    ClassDescription(info=AnnotationInfo(1, "floor", (120, 120, 120))),
    ClassDescription(info=AnnotationInfo(2, "box", "#e6550d")),
    ClassDescription(info=AnnotationInfo(3, "ball", (0.2, 0.4, 1.0))),
)

Frame = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]


def synthetic_frame(index: int, *, height: int = 120, width: int = 160) -> Frame:
    """Return ``(rgb uint8 HxWx3, depth uint16 mm HxW, class ids uint8 HxW)`` for a frame."""
    rows, cols = np.mgrid[0:height, 0:width]
    ids = np.zeros((height, width), dtype=np.uint8)
    ids[rows > height * 2 // 3] = 1
    box_left = (index * 7) % (width - 30)
    ids[height // 3 : height // 3 + 30, box_left : box_left + 30] = 2
    centre_row, centre_col = height // 2, (width - 1 - index * 5) % width
    ids[(rows - centre_row) ** 2 + (cols - centre_col) ** 2 < 15**2] = 3
    palette = np.array([[30, 30, 60], [120, 120, 120], [230, 85, 13], [51, 102, 255]], np.uint8)
    shade = (cols * 80 // max(width - 1, 1)).astype(np.uint8)[..., np.newaxis]
    rgb = palette[ids] // 2 + shade
    depth_mm = np.where(ids == 0, 0, 4000 - rows * 20 - ids.astype(np.int64) * 300)
    return rgb, depth_mm.astype(np.uint16), ids
