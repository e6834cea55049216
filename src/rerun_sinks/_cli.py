"""The ``rerun-core`` command line."""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from PIL import Image

import rerun_core as rc
from rerun_core.catalog import read_index
from rerun_sinks._api import new_recording
from rerun_sinks._convert import convert as convert_file
from rerun_sinks._data import records_to_parquet
from rerun_sinks._export import export as export_images
from rerun_sinks._export import shorten
from rerun_sinks._formats import open_foreign, sniff_format
from rerun_sinks._readers import _map, read_records
from rerun_sinks._readers import recover as recover_file
from rerun_sinks._readers import verify as verify_file
from rerun_sinks._recording_file import RecordingFile, open_recording
from rerun_sinks._samples import CLASSES, synthetic_frame
from rerun_sinks._summary import scanned_catalog, summary_lines
from rerun_sinks.errors import ForeignDataError

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
            sys.stdout.flush()
        except BrokenPipeError:
            _stop_quietly_on_closed_pipe()
        except (OSError, rc.RerunCoreError, ForeignDataError, ImportError) as error:
            raise click.ClickException(_describe(error)) from None

    return wrapper  # type: ignore[return-value]


_SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what `cat` reports when its reader goes away


def _stop_quietly_on_closed_pipe() -> None:
    """Exit quietly when stdout's reader went away (``rerun-core info f | head``).

    stdout is pointed at devnull so the interpreter's final flush cannot fail again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(_SIGPIPE_STATUS)


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


@contextmanager
def _past_damage(file: str) -> Iterator[Callable[[rc.RecordSpan], None]]:
    """Report each skipped damaged region on stderr; after the block, exit 1 if any.

    A file without a single intact record is not a recording: its error is raised at once.
    """
    damaged: list[rc.RecordSpan] = []
    size = Path(file).stat().st_size

    def report(span: rc.RecordSpan) -> None:
        if span.offset == 0 and span.length == size and span.error is not None:
            raise span.error
        damaged.append(span)
        end = span.offset + span.length
        click.echo(f"skipped damaged bytes {span.offset}..{end}: {span.error}", err=True)

    yield report
    if damaged:
        msg = (
            f"{len(damaged)} damaged region(s) of {file} skipped; "
            f"run 'rerun-core recover {file} OUT.rrc' to keep only intact records"
        )
        raise click.ClickException(msg)


@contextmanager
def _opened(path: Path) -> Iterator[RecordingFile]:
    """Open ``path`` for a selection; an ``.rrc`` read without its index reports its damage.

    The damaged regions a scan skipped go to stderr and make the command exit 1 at the
    end, as without a selection.
    """
    with _past_damage(str(path)) as on_damage, open_recording(path) as recording:
        if not recording.indexed and sniff_format(path) == "rrc":
            for span in rc.scan_records(_map(path)):
                if span.error is not None:
                    on_damage(span)
        yield recording


@main.command()
@click.argument("file")
@_one_line_errors
def info(file: str) -> None:
    """Entities, kinds, counts, dtypes, shapes and time ranges (from the index when valid)."""
    path = _existing_file(file)
    kind = sniff_format(path)
    if kind == "rrc" and read_index(_map(path)).status != "valid":
        with _past_damage(file) as on_damage:
            catalog = scanned_catalog(path, on_damage)
            for line in summary_lines(file, catalog, "no index: scanned", shorten):
                click.echo(line)
        return
    if kind != "rrc":
        foreign = open_foreign(path, kind)
        try:
            for line in summary_lines(file, foreign.catalog, f"read as .{kind}", shorten):
                click.echo(line)
        finally:
            foreign.close()
        if foreign.damaged:
            msg = (
                f"{file} is damaged or cut: the records above are the intact ones before and "
                f"around the damage; 'rerun-core verify {file}' shows where it starts"
            )
            raise click.ClickException(msg)
        return
    with open_recording(path) as recording:
        for line in summary_lines(file, recording.catalog, "from its index", shorten):
            click.echo(line)


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
    if report.ok and report.format != "rrc":
        click.echo(f"ok: {report.count} records, {report.size} bytes (.{report.format})")
        return
    if report.ok:
        click.echo(f"ok: {report.count} records, {report.size} bytes, index {report.index}")
        return
    msg = (
        f"damaged: {report.count} intact records, first bad record at byte offset "
        f"{report.first_bad_offset}, {report.damaged_bytes} of {report.size} bytes damaged "
        f"({report.first_error}), index {report.index}; run 'rerun-core recover {file} OUT.rrc'"
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


def _selection_options(command: Command) -> Command:
    """Add --entity, --timeline, --start and --stop (a query of the recording)."""
    options = [
        click.option("--entity", help="Entity path, or a prefix ending in /** (e.g. cam/**)."),
        click.option("--timeline", help="Timeline that --start and --stop apply to."),
        click.option("--start", type=int, help="First time value (inclusive; ns or sequence)."),
        click.option("--stop", type=int, help="Last time value (exclusive; ns or sequence)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _query(
    entity: str | None, timeline: str | None, start: int | None, stop: int | None
) -> dict[str, Any] | None:
    """Return the query the selection options ask for, or None when there is none."""
    if entity is None and timeline is None and start is None and stop is None:
        return None
    return {"entity": entity, "timeline": timeline, "start": start, "stop": stop}


@main.command()
@click.argument("file")
@click.option("--to", "out_dir", required=True, help="Directory for the image files.")
@_selection_options
@_one_line_errors
def export(
    file: str,
    out_dir: str,
    *,
    entity: str | None,
    timeline: str | None,
    start: int | None,
    stop: int | None,
) -> None:
    """Write a PNG (or the original JPEG) per image, depth and segmentation record."""
    path = _existing_file(file)
    query = _query(entity, timeline, start, stop)
    if query is not None:
        with _opened(path) as recording:
            selected = recording.positions(**query)
            with _progress(len(selected), "exporting") as update:
                records = recording.records(selected.tolist())
                written = export_images(path, out_dir, progress=update, records=records)
            click.echo(f"wrote {len(written)} files to {out_dir}")
        return
    with _past_damage(file) as on_damage:
        with _progress(verify_file(path).count, "exporting") as update:
            written = export_images(path, out_dir, progress=update, on_damage=on_damage)
        click.echo(f"wrote {len(written)} files to {out_dir}")


@main.command()
@click.argument("out", default="demo.rrc")
@click.option("--frames", default=30, show_default=True, help="Number of camera frames.")
@_one_line_errors
def demo(out: str, frames: int) -> None:
    """Log a synthetic camera sequence to OUT (.rrc) and summarise the file."""
    rec = new_recording("rerun_core_demo", strict=True, clock=_demo_clock())
    rec.log_annotation_context("world", CLASSES)
    for index in range(frames):
        rgb, depth, ids = synthetic_frame(index)
        png = io.BytesIO()
        Image.fromarray(rgb).save(png, format="PNG")
        rec.set_time_sequence("frame", index)
        rec.set_time_seconds("sensor_time", index / 30)
        rec.log_image("world/camera/rgb", rgb, ext={"exposure_ms": 8.0 + index % 3})
        rec.log_image("world/camera/bgr", rgb[..., ::-1], color_model="BGR")
        rec.log_image("world/camera/jpeg", rgb, jpeg_quality=85)
        rec.log_image_file("world/camera/png", img_bytes=png.getvalue())
        rec.log_depth_image("world/camera/depth", depth, meter=1000)
        rec.log_segmentation_image("world/camera/segmentation", ids)
    rec.save(out)
    rec.disconnect()
    report = verify_file(out)
    click.echo(
        f"wrote {out}: {report.count} records, {report.size} bytes, "
        f"{rec.stats.dropped} dropped, verified {'ok' if report.ok else 'DAMAGED'}"
    )
    for path, count, detail in _entity_rows(Path(out)):
        click.echo(f"  {path:<28}{count:>4} x {detail}")
    click.echo(f"next: rerun-core info {out}   rerun-core export {out} --to frames/")


def _demo_clock() -> Callable[[], int]:
    """Return a deterministic wall clock (30 fps from 2026-01-01): demo files are reproducible."""
    ticks = iter(range(1_767_225_600_000_000_000, 2**63, 33_333_333))
    return lambda: next(ticks)


def _entity_rows(path: Path) -> Iterator[tuple[str, int, str]]:
    rows: dict[str, tuple[int, str]] = {}
    for record in read_records(path):
        name = rc.format_entity_path(record.entity_path)
        count = rows.get(name, (0, ""))[0]
        rows[name] = (count + 1, _detail(record.msg))
    for name, (count, detail) in sorted(rows.items()):
        yield name, count, detail


@main.command()
@click.argument("file")
@click.argument("out")
@_selection_options
@click.option(
    "--compression",
    type=click.Choice(["zstd", "lz4"]),
    help="Compress the pixels of an .rrc OUT (format 1.1).",
)
@click.option("--images", is_flag=True, help="Parquet: fill the image column (PNG or JPEG).")
@click.option("--overwrite", is_flag=True, help="Parquet: replace existing output.")
@_one_line_errors
def convert(
    file: str,
    out: str,
    *,
    entity: str | None,
    timeline: str | None,
    start: int | None,
    stop: int | None,
    compression: str | None,
    images: bool,
    overwrite: bool,
) -> None:
    """Convert a recording FILE to OUT.mcap (Foxglove), OUT.rrd (Rerun viewer), OUT.rrc or Parquet.

    Parquet: OUT.parquet is one file; a name without an extension (or ending in /) is a
    directory with one file per entity path (docs/DATAFRAMES.md).
    """
    path = _existing_file(file)
    if Path(out).resolve() == path.resolve():
        msg = "OUT must differ from FILE: convert writes a new file"
        raise click.ClickException(msg)
    query = _query(entity, timeline, start, stop)
    options: dict[str, Any] = {"compression": compression}
    try:
        if out.lower().endswith(".parquet") or out.endswith("/") or not Path(out).suffix:
            _to_parquet(path, out, query, images=images, overwrite=overwrite)
            return
        if images or overwrite:
            msg = "--images and --overwrite apply to Parquet output (OUT.parquet or a directory)"
            raise click.UsageError(msg)
        if query is not None:
            with _opened(path) as recording:
                selected = recording.positions(**query)
                with _progress(len(selected), "converting") as update:
                    records = recording.records(selected.tolist())
                    count = convert_file(path, out, progress=update, records=records, **options)
                click.echo(f"converted {count} records into {out}")
            return
        with _past_damage(file) as on_damage:
            with _progress(verify_file(path).count, "converting") as update:
                count = convert_file(path, out, progress=update, on_damage=on_damage, **options)
            click.echo(f"converted {count} records into {out}")
    except (ValueError, ImportError) as error:
        if isinstance(error, click.ClickException):
            raise
        raise click.ClickException(_describe(error)) from None


def _to_parquet(
    path: Path, out: str, query: dict[str, Any] | None, *, images: bool, overwrite: bool
) -> None:
    """Write the selected records of ``path`` as Parquet with a progress bar; say how many."""
    with _opened(path) as recording:
        records: Any = recording
        if query is not None:
            records = list(recording.records(recording.positions(**query).tolist()))
        with _progress(len(records), "converting") as update:
            records_to_parquet(
                records,
                out,
                timelines=recording.timelines,
                images=images,
                overwrite=overwrite,
                progress=update,
            )
        click.echo(f"converted {len(records)} records into {out}")
