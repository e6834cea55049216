"""Records of every message kind x dtype x colour model, for the interop round trips."""

from __future__ import annotations

import numpy as np
import pytest

import rerun_core as rc

IMAGE_DTYPES = ("uint8", "uint16", "float16", "float32", "float64")
COLOR_MODELS = {"L": 1, "RGB": 3, "RGBA": 4, "BGR": 3, "BGRA": 4}
BASE_NS = 1_700_000_000_000_000_000


def _pixels(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype.startswith("float"):
        values = rng.random(shape).astype(dtype)
        values.flat[0] = np.nan  # NaN is kept, never clipped
        return values
    return rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def build_records() -> list[rc.Record]:
    """One record per case; entity paths are unique, timeless records sit in the middle."""
    rng = np.random.default_rng(42)
    msgs: list[tuple[str, rc.Message]] = []
    for dtype in IMAGE_DTYPES:
        for model, channels in COLOR_MODELS.items():
            shape = (3, 5) if model == "L" else (3, 5, channels)
            msg = rc.make_image_msg(_pixels(rng, dtype, shape), color_model=model, draw_order=1.5)
            msgs.append((f"image/{dtype}/{model}", msg))
    rgb = rng.integers(0, 255, (16, 24, 3), dtype=np.uint8)
    msgs.append(("jpeg/rgb", rc.make_image_msg(rgb, jpeg_quality=90, ext={"score": 0.5})))
    msgs.append(("jpeg/gray", rc.make_image_msg(rgb[..., 0], jpeg_quality=80)))
    for dtype, meter in (("uint8", None), ("uint16", 1000.0), ("float32", None), ("float64", 4.0)):
        depth = rc.make_depth_msg(_pixels(rng, dtype, (4, 6)), meter=meter, draw_order=-1.0)
        msgs.append((f"depth/{dtype}", depth))
    segmentation_u8 = rc.make_segmentation_msg(rng.integers(0, 200, (4, 5), dtype=np.uint8))
    segmentation_u16 = rc.make_segmentation_msg(np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000)
    msgs.append(("segmentation/u8", segmentation_u8))
    msgs.append(("segmentation/u16", segmentation_u16))
    msgs.append(
        ("ext", rc.make_extension_msg({"speed": [1.5, 2.5], "tag": ["a", "b"]}, identifiers=[7, 9]))
    )

    records = []
    for tick, (path, msg) in enumerate(msgs, start=1):
        timepoint = {
            "frame": rc.TimeValue("sequence", 100 + tick),
            "sim_time": rc.TimeValue("time", BASE_NS + tick * 1_000_001),
        }
        records.append(
            rc.make_record(
                path, msg, timepoint=timepoint, log_tick=tick, log_time_ns=BASE_NS + tick * 7
            )
        )
    context = rc.make_annotation_context_msg(
        [
            rc.ClassDescription(
                info=rc.AnnotationInfo(1, "person", (255, 0, 0)),
                keypoint_annotations=[(0, "head"), (1, "hand", "#00ff0080")],
                keypoint_connections=[(0, 1)],
            ),
            (2, "car"),
        ]
    )
    timeless = [
        rc.make_record("/", context, timeless=True, log_tick=90, log_time_ns=BASE_NS + 5),
        rc.make_record(
            "static/image",
            rc.make_image_msg(np.zeros((2, 2), np.uint8)),
            timeless=True,
            log_tick=91,
            log_time_ns=BASE_NS + 6,
        ),
    ]
    middle = len(records) // 2
    return records[:middle] + timeless + records[middle:]


def build_golden_records() -> list[rc.Record]:
    """``build_records()`` plus an entity logging raw and JPEG images (the MCAP golden files)."""
    raw = rc.make_image_msg(np.arange(16 * 24 * 3, dtype=np.uint8).reshape(16, 24, 3))
    jpeg = rc.make_image_msg(np.asarray(raw.pixels), jpeg_quality=85)
    mixed = [
        rc.make_record(
            "mixed",
            msg,
            timepoint={"frame": rc.TimeValue("sequence", i)},
            log_tick=200 + i,
            log_time_ns=BASE_NS + 1000 + i,
        )
        for i, msg in enumerate([raw, jpeg, raw, jpeg])
    ]
    return build_records() + mixed


@pytest.fixture(scope="session")
def records() -> list[rc.Record]:
    return build_records()
