"""``McapSink`` and ``read_mcap_records``: records as Foxglove images in MCAP, and back.

Rules:
- needs the ``[mcap]`` extra: foxglove-sdk writes (its Rust MCAP writer: zstd chunks by
  default, chunk and message indexes, statistics), ``mcap`` reads, ``protobuf`` and
  ``foxglove-schemas-protobuf`` encode and decode; without it, creating a sink or calling
  the reader raises ``ImportError`` with the install command;
- every record with a Foxglove form (``_foxglove``) is a protobuf ``foxglove.RawImage`` or
  ``foxglove.CompressedImage`` message (``frame_id`` the entity path) on topic ``/`` +
  entity path (an entity's second image schema on ``<topic>/raw`` or
  ``<topic>/compressed``), whose channel metadata names the side topic
  (``rerun_core.side_topic``); then every record, also annotation contexts and extension
  messages, is a protobuf ``rerun_core.Record`` message (``_mcap_schema``) on
  ``<topic>/rerun_core``, referring to the image message by its sequence number: pixels
  are stored once, except where the Foxglove form is lossy;
- one channel per topic (Lichtblick decodes a topic with one schema): a topic another
  channel has gets a number (``_2``, ``_3``, ...);
- ``log_time`` = ``publish_time`` = the record's ``log_time_ns`` (negative written as 0),
  also the image's ``timestamp`` (clamped to Foxglove's last second, in 2106);
  timeless records logged before the first timed record wait for it and take its log
  time (or, if none comes, the first timeless record's at ``close()``); later timeless
  records take it at once;
- a path is created or truncated (an old regular file there is replaced, ``_rewrite``)
  and closed by the sink; a seekable binary stream is written from its current position
  (MCAP offsets count from there) and never closed; an unseekable one (a pipe) gets the
  whole file at ``close()`` (spooled in a temporary file);
- ``copies_on_write``: a record's bytes are in foxglove-sdk's writer when ``write``
  returns, so a recording may hand over large pixels as views of the caller's arrays
  (the one copy is the join into the ``RawImage`` bytes); waiting timeless records are
  copied;
- thread-safe (one lock per sink: each image message and its side message are adjacent);
  ``write``/``flush`` after ``close`` raise :class:`SinkClosedError`;
- :func:`read_mcap_records` yields the records of our files exactly, in logging order;
  Foxglove images of other writers (protobuf or JSON) become records (``_foxglove``); the
  JSON + ``rerun-core-rrc`` sidecar files of rerun-core 0.1 still read.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO, Literal, cast

import attrs

from rerun_core import Message, Record, decode_record, format_entity_path
from rerun_sinks._foxglove import (
    COMPRESSED_IMAGE,
    RAW_IMAGE,
    FoxgloveImage,
    entity_topic,
    fill_side,
    fill_side_static,
    foreign_record,
    foxglove_image,
    image_data,
    layout_key,
    record_from_side,
    side_key,
    side_topic,
)
from rerun_sinks._mcap_plan import ImageChannel, Plan, SideStamp, message_builder
from rerun_sinks._rewrite import rewrite
from rerun_sinks._sinks import Sink
from rerun_sinks.errors import ForeignDataError, SinkClosedError

__all__ = ["SIDE_TOPIC_KEY", "McapRecords", "McapSink", "read_mcap_records"]

PathLike = str | os.PathLike[str]
Compression = Literal["zstd", "lz4", "none"]

SIDE_TOPIC_KEY = "rerun_core.side_topic"
"""Channel metadata key of our image channels: the topic of their side records."""
_LEGACY_LIBRARY = "rerun-core"  # rerun-core 0.1's MCAP header; foxglove-sdk writes its own
_LEGACY_ENCODING = "rerun-core-rrc"  # rerun-core 0.1's sidecar: one encode_record per message
_INSTALL_HINT = "pip install 'rerun-core[mcap]'"
_COMPRESSIONS = ("zstd", "lz4", "none")
_NS = 1_000_000_000
_SEQUENCE_MOD = 2**32
_TIMESTAMP_END = 2**32 * _NS  # Foxglove timestamps have uint32 seconds (until 2106)
_TIMESTAMP_MAX = (2**32 - 1, _NS - 1)
_MAX_PLANS = 64  # layouts kept per entity; records of more layouts get a plan each time


def _missing_extra(what: str) -> str:
    return (
        f"{what} needs the optional MCAP packages (foxglove-sdk, mcap, protobuf, "
        f"foxglove-schemas-protobuf); install them: {_INSTALL_HINT}"
    )


class McapSink(Sink):
    """Writes records to an MCAP file as Foxglove images plus lossless side records."""

    def __init__(self, target: PathLike | BinaryIO, *, compression: Compression = "zstd") -> None:
        """Create or truncate the ``.mcap`` file at ``target``, or write to a binary stream.

        ``compression`` is the chunk compression: ``"zstd"`` (default), ``"lz4"`` or
        ``"none"``.
        """
        if compression not in _COMPRESSIONS:
            msg = (
                f"McapSink compression must be one of {', '.join(map(repr, _COMPRESSIONS))}; "
                f"got {compression!r}."
            )
            raise ValueError(msg)
        try:
            import foxglove  # noqa: PLC0415
            from foxglove import channels, messages  # noqa: PLC0415
            from foxglove.mcap import MCAPCompression, MCAPWriteOptions  # noqa: PLC0415

            from rerun_sinks import _mcap_schema  # noqa: PLC0415
        except ImportError as err:
            msg = _missing_extra("McapSink")
            raise ImportError(msg) from err
        self._fox = foxglove
        self._raw_schema = messages.RawImage.get_schema()  # RawImages are logged as bytes
        self._compressed_channel = channels.CompressedImageChannel
        self._messages = messages
        self._timestamp = messages.Timestamp
        self._side_class = _mcap_schema.message_class("Record")
        self._stamp = SideStamp(self._side_class())  # used under the lock
        self._side_schema = foxglove.Schema(
            name=_mcap_schema.SIDE_SCHEMA, encoding="protobuf", data=_mcap_schema.SCHEMA_DATA
        )
        kind = {"zstd": MCAPCompression.Zstd, "lz4": MCAPCompression.Lz4, "none": None}
        options = MCAPWriteOptions(compression=kind[compression])
        self._lock = threading.Lock()
        self._closed = False
        self._context = foxglove.Context()
        self._entities: dict[tuple[str, ...], _Entity] = {}
        self._topics: set[str] = set()  # one channel per topic: Lichtblick decodes per topic
        self._waiting: list[Record] = []  # timeless records before the first timed one
        self._first_time: int | None = None
        self._spool: IO[bytes] | None = None
        self._stream: BinaryIO | None = None
        if isinstance(target, str | os.PathLike):
            self.path: str | None = os.fspath(target)
            output: Any = self.path
        else:
            self.path = None
            self._stream = _binary_stream(target)
            if _seekable(self._stream):
                output = _Offset(self._stream)
            else:
                self._spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
                output = self._spool

        def open_writer() -> Any:
            return _open_writer(foxglove, output, self._context, options, self.path)

        # an old file at the path is replaced: truncated, ext4 would write it back at close
        self._writer = open_writer() if self.path is None else rewrite(self.path, open_writer)

    @property
    def copies_on_write(self) -> bool:
        """True: a record's bytes are in foxglove-sdk's writer when ``write`` returns.

        (A timeless record kept until the first timed one is copied first.)
        """
        return True

    def write(self, record: Record) -> None:
        """Write ``record``'s Foxglove image (if it has one) and its side record."""
        with self._lock:
            self._check_open()
            if record.timeless:
                if self._first_time is None:  # kept: its pixels may be the caller's array
                    self._waiting.append(attrs.evolve(record, msg=attrs.evolve(record.msg)))
                else:
                    self._emit(record, self._first_time)
                return
            log_time = max(record.log_time_ns, 0)
            if self._first_time is None:
                self._first_time = log_time
                self._emit_waiting(log_time)
            self._emit(record, log_time)

    def flush(self) -> None:
        """End the chunk being built and flush the file: every record written so far reads back.

        Except timeless records still waiting for the first timed record (or ``close()``);
        indexed MCAP readers need the summary that ``close()`` writes.
        """
        with self._lock:
            self._check_open()
            self._writer.flush()

    def close(self) -> None:
        """Write the MCAP summary and footer; close the file if the sink opened it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._waiting:
                    self._emit_waiting(max(self._waiting[0].log_time_ns, 0))
                self._writer.close()
                if self._spool is not None and self._stream is not None:
                    self._spool.seek(0)
                    shutil.copyfileobj(self._spool, _WholeWrites(self._stream))
                    self._stream.flush()
            finally:
                if self._spool is not None:
                    self._spool.close()

    def _emit_waiting(self, log_time: int) -> None:
        waiting, self._waiting = self._waiting, []
        for record in waiting:
            self._emit(record, log_time)

    def _emit(self, record: Record, log_time: int) -> None:
        entity = self._entities.get(record.entity_path)
        if entity is None:
            entity = self._entities[record.entity_path] = self._new_entity(record.entity_path)
        msg = record.msg
        key = layout_key(msg)
        plan = entity.plans.get(key)
        if plan is None:
            plan = self._new_plan(entity, msg, key)
            if plan is None:
                self._emit_whole(entity, record, log_time)
                return
        channel = plan.channel
        sequence = channel.sequence = (channel.sequence + 1) % _SEQUENCE_MOD
        sec, nsec = divmod(log_time, _NS) if log_time < _TIMESTAMP_END else _TIMESTAMP_MAX
        channel.log(plan.message(self._timestamp(sec, nsec), plan.data(msg)), log_time=log_time)
        # protobuf merges concatenated messages: the layout's static part, then this record's
        entity.side_log(plan.static + self._stamp.serialize(record, sequence), log_time, None)

    def _new_plan(self, entity: _Entity, msg: Message, key: tuple[Any, ...] | None) -> Plan | None:
        """Return the plan of ``msg``'s layout, kept while the entity has few.

        ``None`` if the side record holds per-record data (``key`` is ``None`` or the
        Foxglove form is lossy).
        """
        image = foxglove_image(msg)
        if key is None or image is None or side_key(msg, image) is None:
            return None
        side = self._side_class()
        fill_side_static(side, entity.path, msg, image)
        plan = Plan(
            self._image_channel(entity, image.schema),
            message_builder(self._messages, image, entity.frame_id),
            image_data(msg, image),
            side.SerializeToString(),
        )
        if len(entity.plans) < _MAX_PLANS:
            entity.plans[key] = plan
        return plan

    def _emit_whole(self, entity: _Entity, record: Record, log_time: int) -> None:
        """Write ``record`` with its side record serialized whole (it holds per-record data)."""
        image = foxglove_image(record.msg)
        sequence = None
        if image is not None:
            channel = self._image_channel(entity, image.schema)
            sequence = channel.sequence = (channel.sequence + 1) % _SEQUENCE_MOD
            sec, nsec = divmod(log_time, _NS) if log_time < _TIMESTAMP_END else _TIMESTAMP_MAX
            build = message_builder(self._messages, image, entity.frame_id)
            channel.log(build(self._timestamp(sec, nsec), image.data), log_time=log_time)
        side = self._side_class()
        fill_side(side, record, image, sequence)
        entity.side_log(side.SerializeToString(), log_time, None)

    def _image_channel(self, entity: _Entity, schema: str) -> ImageChannel:
        """Return the entity's channel of ``schema``; the first one has the entity's topic."""
        channel = entity.images.get(schema)
        if channel is not None:
            return channel
        preferred = entity.topic
        if entity.images:  # the entity's second image schema gets a topic of its own
            suffix = "/compressed" if schema == COMPRESSED_IMAGE else "/raw"
            preferred = entity.topic.rstrip("/") + suffix
        topic, metadata = self._unique_topic(preferred), {SIDE_TOPIC_KEY: entity.side_topic}
        log: Callable[..., None]
        if schema == RAW_IMAGE:
            log = self._fox.Channel(
                topic,
                schema=self._raw_schema,
                message_encoding="protobuf",
                metadata=metadata,
                context=self._context,
            ).base.log
        else:
            log = self._compressed_channel(topic, metadata=metadata, context=self._context).log
        channel = entity.images[schema] = ImageChannel(log)
        return channel

    def _unique_topic(self, preferred: str) -> str:
        """Return ``preferred``, or ``preferred_2``, ``_3``, ... if a channel already has it."""
        topic, number = preferred, 1
        while topic in self._topics:
            number += 1
            topic = f"{preferred}_{number}"
        self._topics.add(topic)
        return topic

    def _new_entity(self, entity_path: tuple[str, ...]) -> _Entity:
        side = self._fox.Channel(
            self._unique_topic(side_topic(entity_path)),
            schema=self._side_schema,
            message_encoding="protobuf",
            context=self._context,
        )
        return _Entity(entity_path, side)

    def _check_open(self) -> None:
        if self._closed:
            target = self.path if self.path is not None else "stream"
            msg = f"McapSink({target!r}) is closed; it accepts no more records. Open a new one."
            raise SinkClosedError(msg)


class _Entity:
    """The channels of one entity path and the plans of its layouts."""

    __slots__ = ("frame_id", "images", "path", "plans", "side_log", "side_topic", "topic")

    def __init__(self, entity_path: tuple[str, ...], side: Any) -> None:
        self.path = entity_path
        self.topic = entity_topic(entity_path)
        self.frame_id = format_entity_path(entity_path)
        self.side_topic: str = side.topic()
        self.side_log: Callable[[bytes, int | None, int | None], None] = side.base.log
        self.images: dict[str, ImageChannel] = {}
        self.plans: dict[tuple[Any, ...] | None, Plan] = {}


def read_mcap_records(source: PathLike | BinaryIO) -> Iterator[Record]:
    """Iterate over the records of an MCAP file, in file order.

    ``source`` is a path or a seekable binary stream, read front to back chunk by chunk
    (memory holds a chunk, not the file). Files written by :class:`McapSink` give back
    every record exactly; Foxglove ``RawImage`` / ``CompressedImage`` messages of other
    writers (protobuf or JSON) give one record each (docs/INTEROP.md); other channels are
    skipped. Data that cannot become a record raises
    :class:`~rerun_sinks.errors.ForeignDataError`; a damaged or missing tail (a file cut
    before ``close()``) raises ``rerun_core.DecodeError`` after the records before it.
    """
    decode = _decoder("read_mcap_records")
    return _records(decode, source)


def _decoder(what: str) -> Any:
    """Return the ``_mcap_decode`` module; ``ImportError`` with the install hint without it."""
    try:
        import mcap.records  # noqa: F401, PLC0415

        from rerun_sinks import _mcap_decode  # noqa: PLC0415
    except ImportError as err:
        msg = _missing_extra(what)
        raise ImportError(msg) from err
    return _mcap_decode


def _records(decode: Any, source: PathLike | BinaryIO) -> Iterator[Record]:
    """Yield the records of ``source``; ``decode`` is the ``_mcap_decode`` module."""
    with contextlib.ExitStack() as stack:
        if isinstance(source, str | os.PathLike):
            stream: IO[bytes] = stack.enter_context(open(source, "rb"))
        else:
            stream = cast(IO[bytes], source)
        for record, _ in _rows(decode, decode.McapFile(stream), strict=True):
            yield record


_NO_IMAGE = (0, -1)  # the image locator of a record without a Foxglove image


def _rows(decode: Any, file: Any, *, strict: bool) -> Iterator[tuple[Record, _Row]]:
    """Yield every record of ``file`` (a ``McapFile``) and where to read it again.

    Our image messages wait for their side record (by side topic, schema and sequence)
    as a locator; only the latest image is held decoded (the writer logs an image's side
    record right after it); an older one is read again from the file.
    """
    pending: dict[tuple[str, str, int], Any] = {}
    latest: tuple[Any, FoxgloveImage | None] = (None, None)
    tick = 0
    for channel, message, locator in file.messages(strict=strict):
        if file.library == _LEGACY_LIBRARY:  # rerun-core 0.1: the sidecar has every record
            if channel.message_encoding == _LEGACY_ENCODING:
                yield decode_record(message.data), (locator, _NO_IMAGE, 0)
            continue
        schema = file.schemas.get(channel.schema_id)
        name = "" if schema is None else schema.name
        where = f"{channel.topic!r} (message {message.sequence})"
        if name == decode.SIDE_SCHEMA:
            side = _decoded(decode.decode_side, name, channel.message_encoding, message, where)
            key, image_at = _claim(side, channel.topic, pending, where, lenient=file.damaged)
            if key is None and image_at is not None:
                continue  # its image was in a damaged chunk, skipped
            image = None
            if key is not None and image_at is not None:
                image = latest[1] if latest[0] == key else _image_at(decode, file, image_at)
            yield _side_record(side, image, where), (locator, image_at or _NO_IMAGE, 0)
        elif name in (RAW_IMAGE, COMPRESSED_IMAGE):
            encoding = channel.message_encoding
            image = _decoded(decode.decode_foxglove_image, name, encoding, message, where)
            side_topic = channel.metadata.get(SIDE_TOPIC_KEY)
            if side_topic is not None:
                key = (side_topic, name, message.sequence)
                pending[key] = locator
                latest = (key, image)
            else:
                yield (
                    foreign_record(channel.topic, image, message.log_time, tick),
                    (
                        locator,
                        _NO_IMAGE,
                        tick,
                    ),
                )
                tick += 1


_Locator = tuple[int, int]
_Row = tuple[_Locator, _Locator, int]  # side (or only) message, image message, foreign tick


def _claim(
    side: Any, topic: str, pending: dict[tuple[str, str, int], Any], where: str, *, lenient: bool
) -> tuple[tuple[str, str, int] | None, _Locator | None]:
    """Return the key and locator of the image ``side`` (on ``topic``) refers to.

    ``(None, None)`` for a side record without an image; ``(None, (0, -1))`` for one whose
    image is missing in a file with skipped damage.
    """
    if not side.HasField("image_sequence"):
        return None, None
    compressed = side.kind == "image" and not side.HasField("dtype")
    schema = COMPRESSED_IMAGE if compressed else RAW_IMAGE
    key = (topic, schema, side.image_sequence)
    locator = pending.pop(key, None)
    if locator is None:
        if lenient:
            return None, _NO_IMAGE
        msg = f"the side record on {where} refers to {schema} {key[2]}, which is missing"
        raise ForeignDataError(msg)
    return key, locator


def _image_at(decode: Any, file: Any, locator: _Locator) -> FoxgloveImage:
    channel, message = file.message(locator)
    schema = file.schemas[channel.schema_id].name
    where = f"{channel.topic!r} (message {message.sequence})"
    image: FoxgloveImage = _decoded(
        decode.decode_foxglove_image, schema, channel.message_encoding, message, where
    )
    return image


def _record_at(decode: Any, file: Any, row: _Row) -> Record:
    """Read the record of ``row`` (as :func:`_rows` gave it) back from ``file``."""
    locator, image_at, tick = row
    channel, message = file.message(locator)
    if file.library == _LEGACY_LIBRARY:
        return decode_record(message.data)
    schema = file.schemas[channel.schema_id].name
    where = f"{channel.topic!r} (message {message.sequence})"
    if schema == decode.SIDE_SCHEMA:
        side = _decoded(decode.decode_side, schema, channel.message_encoding, message, where)
        image = None if image_at[1] < 0 else _image_at(decode, file, image_at)
        return _side_record(side, image, where)
    image = _decoded(decode.decode_foxglove_image, schema, channel.message_encoding, message, where)
    return foreign_record(channel.topic, image, message.log_time, tick)


class McapRecords:
    """The records of an ``.mcap`` file by position: a catalog and re-reads (``open_recording``).

    One scan, chunk by chunk, builds the catalog and keeps a locator per record (chunk
    offset and message offset, of the side and of the image message); a record is read
    again from its chunk when asked (a few decompressed chunks are cached). A damaged
    chunk is skipped, a torn tail ends the records (``rerun_core.DecodeError`` is never
    raised for damage here).
    """

    def __init__(self, path: PathLike) -> None:
        """Scan the file at ``path``; it stays open until :meth:`close`."""
        import numpy as np  # noqa: PLC0415

        from rerun_core.catalog import CatalogBuilder  # noqa: PLC0415

        self._decode = _decoder("open_recording")
        self._stream = open(path, "rb")  # noqa: SIM115 (closed by close())
        try:
            self._file = self._decode.McapFile(self._stream)
            builder = CatalogBuilder()
            rows: list[int] = []
            for position, (record, (side, image, tick)) in enumerate(
                _rows(self._decode, self._file, strict=False)
            ):
                builder.add(position, 0, record)
                rows.extend((*side, *image, tick))
        except BaseException:
            self._stream.close()
            raise
        self.catalog = builder.build()
        self._rows = np.array(rows, np.int64).reshape(-1, 5)

    @property
    def damaged(self) -> bool:
        """True if the scan skipped a damaged chunk or stopped at a torn tail."""
        return bool(self._file.damaged)

    def record(self, position: int) -> Record:
        """Return the record of catalog row ``position``."""
        side_chunk, side_at, image_chunk, image_at, tick = self._rows[position].tolist()
        row = ((side_chunk, side_at), (image_chunk, image_at), tick)
        return _record_at(self._decode, self._file, row)

    def close(self) -> None:
        """Close the file."""
        self._stream.close()


def _decoded(
    decode: Callable[[str, str, bytes], Any], schema: str, encoding: str, message: Any, where: str
) -> Any:
    try:
        return decode(schema, encoding, message.data)
    except ForeignDataError as err:
        msg = f"{schema} on {where}: {err}"
        raise ForeignDataError(msg) from err


def _side_record(side: Any, image: FoxgloveImage | None, where: str) -> Record:
    """Rebuild the record of ``side`` with its image."""
    try:
        return record_from_side(side, image)
    except ForeignDataError:
        raise
    except (ValueError, TypeError, OverflowError) as err:  # the core's errors are ValueErrors
        msg = f"the side record on {where} breaks a rule: {err}"
        raise ForeignDataError(msg) from err


class _Offset:
    """A seekable stream as foxglove-sdk sees it: offsets from where the sink started."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._writes = _WholeWrites(stream)
        self._start = stream.tell()

    def write(self, data: bytes) -> int:
        return self._writes.write(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            offset += self._start
        return self._stream.seek(offset, whence) - self._start

    def flush(self) -> None:
        self._stream.flush()


class _WholeWrites:
    """Writes every byte, also to raw streams that write partially (or return ``None``)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        size = view.nbytes
        while view.nbytes:
            written = cast(int | None, self._stream.write(view))
            view = view[written if isinstance(written, int) else view.nbytes :]
        return size


def _open_writer(foxglove: Any, output: Any, context: Any, options: Any, path: str | None) -> Any:
    """Return foxglove-sdk's MCAP writer on ``output``; its ``OSError`` names ``path``.

    foxglove-sdk creates or truncates the file itself: a file made here first and
    truncated by it would be written back whole when it is closed (ext4's
    replace-via-truncate rule), ~0.1 s more per 250 MB.
    """
    try:
        return foxglove.open_mcap(
            output, allow_overwrite=True, context=context, writer_options=options
        )
    except OSError as err:  # foxglove-sdk's own message names neither the path nor errno
        if path is None:
            raise
        msg = f"McapSink cannot create {path!r}: {err}"
        raise type(err)(msg) from err


def _seekable(stream: BinaryIO) -> bool:
    try:
        if not stream.seekable():
            return False
        stream.tell()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _binary_stream(target: object) -> BinaryIO:
    if isinstance(target, io.TextIOBase) or not callable(getattr(target, "write", None)):
        msg = (
            f"McapSink needs a path or a binary stream; got {type(target).__name__}. "
            "Pass a path such as 'run.mcap', open(path, 'wb') or io.BytesIO()."
        )
        raise TypeError(msg)
    return cast(BinaryIO, target)
