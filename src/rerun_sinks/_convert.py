"""Choosing a sink from a file name, and converting ``.rrc`` files to other formats.

Rules: the extension (case-insensitive) picks the format, never the content: ``.rrc`` ->
:class:`FileSink`, ``.mcap`` -> :class:`McapSink`, ``.rrd`` -> :class:`RerunSink`; any
other extension raises ``ValueError`` naming the supported ones. Optional formats raise
``ImportError`` with the install command when their extra is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from rerun_core import InvalidArgumentError, Record, RecordSpan
from rerun_sinks._file import FileSink
from rerun_sinks._mcap import McapSink
from rerun_sinks._rerun import RerunSink
from rerun_sinks._salvage import intact_records
from rerun_sinks._sinks import Sink

__all__ = ["CONVERT_EXTENSIONS", "SAVE_EXTENSIONS", "convert", "sink_for_path"]

PathLike = str | os.PathLike[str]


def _rerun_file(
    path: str, *, application_id: str = "rerun_core", recording_id: str | None = None
) -> Sink:
    return RerunSink(path=path, application_id=application_id, recording_id=recording_id)


_SINKS: Mapping[str, Callable[[str], Sink]] = MappingProxyType(
    {".rrc": FileSink, ".mcap": McapSink, ".rrd": _rerun_file}
)
SAVE_EXTENSIONS = tuple(_SINKS)
"""Extensions ``save()`` / :func:`sink_for_path` can write."""
CONVERT_EXTENSIONS = (".mcap", ".rrd", ".rrc")
"""Extensions :func:`convert` can write."""


def sink_for_path(
    path: PathLike,
    *,
    application_id: str | None = None,
    recording_id: str | None = None,
    compression: str | None = None,
    buffer_bytes: int = 0,
) -> Sink:
    """Return a new sink writing to ``path`` (created or truncated); the extension picks it.

    A format that stores them (``.rrd``) gets the recording's application and recording ids;
    ``compression`` (``"zstd"``/``"lz4"``) and ``buffer_bytes`` (``FileSink``'s write
    buffer) are for ``.rrc`` files only.
    """
    name = os.fspath(path)
    suffix = _suffix(name, SAVE_EXTENSIONS, action="save()")
    if compression is not None or buffer_bytes != 0:
        if suffix != ".rrc":
            option = "compression" if compression is not None else "buffer_bytes"
            value = compression if compression is not None else buffer_bytes
            msg = (
                f"{option}={value!r} is for .rrc files; {name!r} is {suffix} (.mcap chunks are "
                f"zstd-compressed and buffered already). Drop {option}= or save to .rrc."
            )
            raise InvalidArgumentError(msg, param=option)
        return FileSink(name, compression=compression, buffer_bytes=buffer_bytes)
    if suffix == ".rrd" and application_id is not None:
        return _rerun_file(name, application_id=application_id, recording_id=recording_id)
    return _SINKS[suffix](name)


def convert(
    src: PathLike,
    dst: PathLike,
    *,
    progress: Callable[[int], None] | None = None,
    on_damage: Callable[[RecordSpan], None] | None = None,
    compression: str | None = None,
    records: Iterable[Record] | None = None,
) -> int:
    """Write every record of the recording ``src`` to ``dst`` (``.mcap``, ``.rrd``, ``.rrc``).

    Returns the number of records written; ``progress`` is called with 1 per record.
    Damaged regions of ``src`` go to ``on_damage`` and are skipped; without it they raise.
    ``compression`` (``"zstd"``/``"lz4"``) is for ``.rrc`` output; ``records`` (e.g. a
    query of ``open_recording(src)``) replaces reading all of ``src``.
    """
    name = os.fspath(dst)
    _suffix(name, CONVERT_EXTENSIONS, action="convert")
    count = 0
    source = intact_records(src, on_damage) if records is None else records
    with sink_for_path(name, compression=compression) as sink:
        for record in source:
            sink.write(record)
            count += 1
            if progress is not None:
                progress(1)
    return count


def _suffix(name: str, allowed: tuple[str, ...], *, action: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in allowed:
        msg = (
            f"{action} cannot write {suffix or 'a file without an extension'} ({name!r}); "
            f"supported extensions: {', '.join(allowed)}. Name the file e.g. 'run{allowed[0]}'."
        )
        raise ValueError(msg)
    return suffix
