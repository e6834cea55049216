"""A small recording of every message kind, with pixel values the tests can predict."""

from __future__ import annotations

import numpy as np
import pytest

import rerun_core as rc

FRAMES = 4
HEIGHT, WIDTH = 6, 8
BASE_NS = 1_767_225_600_000_000_000
FRAME_NS = 33_333_333


def rgb_frame(index: int) -> np.ndarray:
    """An RGB u8 frame whose every pixel value is known: (y*W + x + index) % 256 per channel."""
    base = np.arange(HEIGHT * WIDTH * 3, dtype=np.uint32).reshape(HEIGHT, WIDTH, 3)
    return ((base + 7 * index) % 256).astype(np.uint8)


def depth_frame(index: int) -> np.ndarray:
    """A u16 depth frame using the whole 16-bit range."""
    base = np.arange(HEIGHT * WIDTH, dtype=np.uint32).reshape(HEIGHT, WIDTH)
    return ((base * 1361 + index * 65_000) % 65536).astype(np.uint16)


def segmentation_frame(index: int) -> np.ndarray:
    return (np.arange(HEIGHT * WIDTH, dtype=np.uint8).reshape(HEIGHT, WIDTH) + index) % 5


def sample_records() -> list[rc.Record]:
    """A timeless annotation context, then per frame: RGB, BGR, JPEG, depth, segmentation,
    a float image and an extension message, on a ``frame`` and a ``sensor_time`` timeline."""
    records = [
        rc.make_record(
            "world",
            rc.make_annotation_context_msg([(1, "person", (255, 0, 0)), (2, "car")]),
            timeless=True,
            log_tick=0,
            log_time_ns=BASE_NS,
        )
    ]
    tick = 0
    for index in range(FRAMES):
        timepoint = {
            "frame": rc.TimeValue("sequence", index),
            "sensor_time": rc.TimeValue("time", BASE_NS + index * FRAME_NS),
        }
        rgb = rgb_frame(index)
        msgs = {
            "world/camera/rgb": rc.make_image_msg(rgb, ext={"exposure_ms": 8.0 + index}),
            "world/camera/bgr": rc.make_image_msg(rgb[..., ::-1], color_model="BGR"),
            "world/camera/jpeg": rc.make_image_msg(rgb, jpeg_quality=90),
            "world/camera/depth": rc.make_depth_msg(depth_frame(index), meter=1000),
            "world/camera/segmentation": rc.make_segmentation_msg(segmentation_frame(index)),
            "world/camera/float": rc.make_image_msg(rgb.astype(np.float32) / 255),
            "world/stats": rc.make_extension_msg(
                {"speed": [1.5, float("nan")]}, identifiers=[1, 2]
            ),
        }
        for path, msg in msgs.items():
            tick += 1
            records.append(
                rc.make_record(
                    path,
                    msg,
                    timepoint=timepoint,
                    log_tick=tick,
                    log_time_ns=BASE_NS + tick * 1000,
                )
            )
    return records


@pytest.fixture
def records() -> list[rc.Record]:
    return sample_records()


class Frames:
    """The pixel values the sample recording holds, for checking what engines read."""

    count = FRAMES
    height, width = HEIGHT, WIDTH
    base_ns, frame_ns = BASE_NS, FRAME_NS
    rgb = staticmethod(rgb_frame)
    depth = staticmethod(depth_frame)
    segmentation = staticmethod(segmentation_frame)


@pytest.fixture
def frames() -> type[Frames]:
    return Frames
