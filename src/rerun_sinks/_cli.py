"""The ``rerun-core`` command line."""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np
from PIL import Image

import rerun_core as rc
from rerun_sinks._export import export as export_images
from rerun_sinks._readers import read_records
from rerun_sinks._readers import recover as recover_file
from rerun_sinks._readers import verify as verify_file
from rerun_sinks._samples import CLASSES, synthetic_frame

__all__ = ["main"]

Command = TypeVar("Command", bound=Callable[..., None])


@click.group()
def main() -> None:
    """Build, inspect, verify, repair and convert rerun-core recordings (.rrc)."""


def _one_line_errors(command: Command) -> Command:
    """Turn expected failures into a one-line error and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (OSError, rc.RerunCoreError) as error:
            raise click.ClickException(_describe(error)) from None

    return wrapper  # type: ignore[return-value]


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _existing_file(path: str) -> Path:
    file = Path(path)
    if not file.is_file():
        msg = f"no such file: {path}"
        raise click.ClickException(msg)
    return file


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """Show a progress bar on stderr (click hides it when stderr is not a terminal)."""
    hidden = not sys.stderr.isatty()
    with click.progressbar(length=total, label=label, file=sys.stderr, hidden=hidden) as bar:
        yield bar.update


@main.command()
@click.argument("file")
@_one_line_errors
def info(file: str) -> None:
    """Per-entity record counts, message kinds, dtypes, shapes and time range."""
    rows: dict[str, dict[str, Any]] = {}
    for record in read_records(_existing_file(file)):
        row = rows.setdefault(
            rc.format_entity_path(record.entity_path),
            {"count": 0, "kinds": set(), "details": set(), "times": {}, "timeless": 0},
        )
        row["count"] += 1
        row["kinds"].add(type(record.msg).__name__)
        row["details"].add(_detail(record.msg))
        row["timeless"] += record.timeless
        for name, time in record.timepoint.items():
            low, high = row["times"].get(name, (time.value, time.value))
            row["times"][name] = (min(low, time.value), max(high, time.value))
    click.echo(f"{file}: {sum(r['count'] for r in rows.values())} records, {len(rows)} entities")
    for path, row in sorted(rows.items()):
        times = ", ".join(f"{n} {lo}..{hi}" for n, (lo, hi) in sorted(row["times"].items()))
        click.echo(
            f"  {path}: {row['count']} x {'/'.join(sorted(row['kinds']))} "
            f"[{'; '.join(sorted(row['details']))}]"
            + (f" time: {times}" if times else "")
            + (f" timeless: {row['timeless']}" if row["timeless"] else "")
        )


def _detail(msg: rc.Message) -> str:
    if isinstance(msg, rc.ImageMsg):
        kind = "jpeg" if msg.pixels is None else str(msg.pixels.dtype)
        return f"{kind} {msg.height}x{msg.width}x{msg.channels} {msg.color_model.value}"
    if isinstance(msg, rc.DepthMsg | rc.SegmentationMsg):
        return f"{msg.pixels.dtype} {msg.pixels.shape[0]}x{msg.pixels.shape[1]}"
    if isinstance(msg, rc.AnnotationContextMsg):
        return f"{len(msg.class_descriptions)} classes"
    return ", ".join(sorted(msg.components))


@main.command()
@click.argument("file")
@_one_line_errors
def verify(file: str) -> None:
    """Check every record's framing and CRC; exit 1 if any byte is damaged."""
    path = _existing_file(file)
    with _progress(path.stat().st_size, "verifying") as update:
        report = verify_file(path, progress=update)
    if report.ok:
        click.echo(f"ok: {report.count} records, {report.size} bytes")
        return
    msg = (
        f"damaged: {report.count} intact records, first bad record at byte offset "
        f"{report.first_bad_offset}, {report.damaged_bytes} of {report.size} bytes damaged "
        f"({report.first_error}); run 'rerun-core recover {file} OUT.rrc'"
    )
    raise click.ClickException(msg)


@main.command()
@click.argument("src")
@click.argument("dst")
@_one_line_errors
def recover(src: str, dst: str) -> None:
    """Copy every intact record of SRC into a new file DST."""
    path = _existing_file(src)
    if Path(dst).resolve() == path.resolve():
        msg = "DST must differ from SRC: recover writes a new file"
        raise click.ClickException(msg)
    with _progress(path.stat().st_size, "recovering") as update:
        copied = recover_file(path, dst, progress=update)
    click.echo(f"recovered {copied} records into {dst}")


@main.command()
@click.argument("file")
@click.option("--to", "out_dir", required=True, help="Directory for the image files.")
@_one_line_errors
def export(file: str, out_dir: str) -> None:
    """Write a PNG (or the original JPEG) per image, depth and segmentation record."""
    path = _existing_file(file)
    total = sum(1 for _ in read_records(path))
    with _progress(total, "exporting") as update:
        written = export_images(path, out_dir, progress=update)
    click.echo(f"wrote {len(written)} files to {out_dir}")


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
