"""Golden vectors: today's encoder reproduces tests/golden/*.rrc byte for byte.

Regenerate (only together with a format version bump, keeping the old files readable):
``python tests/unit/test_golden.py --regenerate``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import rerun_core as rc

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def _grid(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return (np.arange(int(np.prod(shape))) % 251).reshape(shape).astype(dtype)


def _image(dtype: str, channels: int, model: str | None = None) -> rc.Record:
    shape = (3, 5) if channels == 1 else (3, 5, channels)
    pixels = _grid(shape, dtype)
    if pixels.dtype.kind == "f":
        pixels = pixels / 250
        pixels.flat[0] = np.nan
    msg = rc.make_image_msg(pixels, color_model=model, draw_order=-10.0)
    return rc.make_record(
        f"images/{dtype}/{channels}",
        msg,
        timepoint={"frame": ("sequence", 7)},
        log_tick=1,
        log_time_ns=1_700_000_000_000_000_000,
    )


CASES: dict[str, Callable[[], rc.Record]] = {
    "tiny": lambda: rc.make_record("a", rc.make_image_msg(np.array([[[255, 0, 128]]], np.uint8))),
    **{
        f"image-{dtype}-{channels}": (lambda d=dtype, c=channels: _image(d, c))
        for dtype in ("uint8", "uint16", "float16", "float32", "float64")
        for channels in (1, 3, 4)
    },
    "image-bgr": lambda: _image("uint8", 3, "BGR"),
    "image-bgra": lambda: _image("uint16", 4, "BGRA"),
    "image-jpeg": lambda: rc.make_record(
        "camera/jpeg",
        rc.make_encoded_image_msg((GOLDEN / "source-rgb.jpg").read_bytes(), ext={"quality": 90}),
        timepoint={"t": ("time", 1_500_000_000)},
        log_tick=2,
        log_time_ns=5,
    ),
    "image-jpeg-gray": lambda: rc.make_record(
        "camera/gray",
        rc.make_encoded_image_msg((GOLDEN / "source-gray-progressive.jpg").read_bytes()),
    ),
    **{
        f"depth-{dtype}": (
            lambda d=dtype: rc.make_record(
                f"depth/{d}",
                rc.make_depth_msg(
                    _grid((4, 3), d), meter=None if d == "uint8" else 1000.0, draw_order=1.0
                ),
                timepoint={"frame": ("sequence", -3)},
            )
        )
        for dtype in ("uint8", "uint16", "float32", "float64")
    },
    "segmentation-uint8": lambda: rc.make_record(
        "seg/8", rc.make_segmentation_msg(_grid((4, 3), "uint8"), ext={"note": "hi"})
    ),
    "segmentation-uint16": lambda: rc.make_record(
        "seg/16", rc.make_segmentation_msg(_grid((4, 3), "uint16") * 200)
    ),
    "annotation-context": lambda: rc.make_record(
        "/",
        rc.make_annotation_context_msg(
            [
                (0, "background"),
                (1, "person", "#ff8800"),
                rc.ClassDescription(
                    info=rc.AnnotationInfo(2, "skeleton", (0.0, 0.5, 1.0)),
                    keypoint_annotations=[(0, "head"), (1, "hip", (1, 2, 3, 4))],
                    keypoint_connections=[0, 1],
                ),
            ]
        ),
        timeless=True,
    ),
    "extension": lambda: rc.make_record(
        "ext/points",
        rc.make_extension_msg(
            {
                "score": [0.5, 0.25],
                "name": ["a", "bc"],
                "flag": True,
                "count": np.array([3, 4], np.uint32),
            },
            identifiers=[10, 2**64 - 1],
        ),
        timepoint={"frame": ("sequence", 1), "time": ("time", -1)},
        log_tick=2**63 - 1,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_encoder_reproduces_golden_bytes(name: str) -> None:
    expected = (GOLDEN / f"{name}.rrc").read_bytes()
    assert rc.encode_record(CASES[name]()) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_decoder_reads_golden_file(name: str) -> None:
    record = rc.decode_record((GOLDEN / f"{name}.rrc").read_bytes())
    assert record == CASES[name]()


def test_golden_stream_reads_in_order() -> None:
    names = sorted(CASES)
    stream = b"".join((GOLDEN / f"{n}.rrc").read_bytes() for n in names)
    assert list(rc.iter_records(stream)) == [CASES[n]() for n in names]


def test_every_kind_and_dtype_is_covered() -> None:
    records = [make() for make in CASES.values()]
    kinds = {type(r.msg).__name__ for r in records}
    assert kinds == {
        "ImageMsg",
        "DepthMsg",
        "SegmentationMsg",
        "AnnotationContextMsg",
        "ExtensionMsg",
    }
    dtypes = {
        (type(r.msg).__name__, str(r.msg.pixels.dtype))
        for r in records
        if getattr(r.msg, "pixels", None) is not None
    }
    assert len(dtypes) == 5 + 4 + 2


if __name__ == "__main__" and "--regenerate" in sys.argv:
    for case_name, make_record in CASES.items():
        (GOLDEN / f"{case_name}.rrc").write_bytes(rc.encode_record(make_record()))
        print("wrote", case_name)
