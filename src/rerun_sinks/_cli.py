"""The ``rerun-core`` command line."""

from __future__ import annotations

import io

import click
import numpy as np
from PIL import Image

import rerun_core as rc
from rerun_sinks._samples import CLASSES, synthetic_frame

__all__ = ["main"]


@click.group()
def main() -> None:
    """Build, inspect and convert rerun-core recordings."""


@main.command()
@click.option("--frames", default=5, show_default=True, help="Number of camera frames.")
def demo(frames: int) -> None:
    """Build messages of every kind from a synthetic camera and summarise them."""
    context = rc.make_annotation_context_msg(CLASSES)
    messages: list[tuple[str, rc.Message]] = [("world/classes", context)]
    for index in range(frames):
        rgb, depth, ids = synthetic_frame(index)
        png = io.BytesIO()
        Image.fromarray(rgb).save(png, format="PNG")
        messages += [
            ("camera/rgb", rc.make_image_msg(rgb, draw_order=-10.0, ext={"frame": index})),
            ("camera/bgr", rc.make_image_msg(rgb[..., ::-1], color_model="BGR")),
            ("camera/jpeg", rc.make_image_msg(rgb, jpeg_quality=85)),
            ("camera/png", rc.make_encoded_image_msg(png.getvalue())),
            ("camera/linear", rc.make_image_msg(rgb.astype(np.float32) / 255)),
            ("camera/depth", rc.make_depth_msg(depth, meter=1000)),
            ("camera/segmentation", rc.make_segmentation_msg(ids)),
        ]
    click.echo(f"{'entity':<22}{'message':<22}{'shape':<16}{'dtype':<10}{'detail'}")
    for path, msg in messages:
        click.echo(f"{path:<22}{_summary(msg)}")
    click.echo(f"{len(messages)} messages from {frames} frames; every one validated and immutable.")


def _summary(msg: rc.Message) -> str:
    if isinstance(msg, rc.ImageMsg):
        if msg.pixels is None:
            detail = f"{msg.color_model.value}, {len(msg.encoded or b'')} bytes of JPEG"
            return f"{'ImageMsg':<22}{msg.shape!s:<16}{'jpeg':<10}{detail}"
        return f"{'ImageMsg':<22}{msg.shape!s:<16}{msg.pixels.dtype!s:<10}{msg.color_model.value}"
    if isinstance(msg, rc.DepthMsg):
        detail = f"meter={msg.effective_meter:g}"
        return f"{'DepthMsg':<22}{msg.pixels.shape!s:<16}{msg.pixels.dtype!s:<10}{detail}"
    if isinstance(msg, rc.SegmentationMsg):
        classes = sorted(int(i) for i in np.unique(msg.pixels))
        return (
            f"{'SegmentationMsg':<22}{msg.pixels.shape!s:<16}{msg.pixels.dtype!s:<10}ids {classes}"
        )
    if isinstance(msg, rc.AnnotationContextMsg):
        labels = ", ".join(str(d.info.label) for d in msg.class_descriptions)
        return f"{'AnnotationContextMsg':<22}{'':<16}{'':<10}{labels}"
    return f"{'ExtensionMsg':<22}{'':<16}{'':<10}{sorted(msg.components)}"
