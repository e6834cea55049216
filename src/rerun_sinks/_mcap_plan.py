"""What ``McapSink`` builds once per entity and layout, and what it builds per record.

Rules:
- a :class:`Plan` is made from the first record of an entity with a new
  ``_foxglove.layout_key``: the image channel, a builder of the Foxglove message with
  the layout's fixed fields, how to get each record's data (``_foxglove.image_data``:
  the pixels' own bytes, no copy for frozen pixels) and the serialized static part of
  the side record; records whose side record holds per-record data (ext, lossy
  Foxglove forms, annotation contexts, extensions) get no plan;
- per record: a timestamp, the Foxglove message (a ``RawImage`` as bytes joined from its
  layout's serialized fields, the record's serialized timestamp and its data: foxglove-sdk
  logs bytes with less work than its own message objects), the side record's stamp
  (:class:`SideStamp`), two ``log`` calls;
- :class:`SideStamp` keeps one protobuf ``rerun_core.Record`` with the timepoint
  entries of the last record: while the timeline names, kinds and order stay the same only the
  values are set again; the bytes always equal those of a fresh message filled by
  ``_foxglove.fill_side_stamp``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rerun_core import Record, TimeValue
from rerun_sinks._foxglove import COMPRESSED_IMAGE, FoxgloveImage, fill_side_stamp

__all__ = [
    "ImageChannel",
    "MessageBuilder",
    "Plan",
    "SideStamp",
    "message_builder",
    "raw_image_builder",
]

MessageBuilder = Callable[[Any, bytes | memoryview], Any]
"""Builds a foxglove-sdk message from its timestamp and data."""


class ImageChannel:
    """An image channel's ``log`` and the sequence number foxglove-sdk gave its last message."""

    __slots__ = ("log", "sequence")

    def __init__(self, log: Callable[..., None]) -> None:
        """Wrap ``log``, the ``log`` method of a foxglove-sdk image channel."""
        self.log = log
        self.sequence = 0  # foxglove-sdk numbers each channel's messages 1, 2, ...


class Plan:
    """How the records of one entity and layout are written (see the module rules)."""

    __slots__ = ("channel", "data", "message", "static")

    def __init__(
        self,
        channel: ImageChannel,
        message: MessageBuilder,
        data: Callable[[Any], bytes | memoryview],
        static: bytes,
    ) -> None:
        """Keep the image ``channel``, the ``message`` builder, the ``data`` getter, ``static``."""
        self.channel = channel
        self.message = message
        self.data = data
        self.static = static


def message_builder(messages: Any, image: FoxgloveImage, frame_id: str) -> MessageBuilder:
    """Return a builder of ``image``'s messages with foxglove-sdk's ``messages`` module.

    A ``CompressedImage`` is a foxglove-sdk object; a ``RawImage`` is its serialized bytes
    (see :func:`raw_image_builder`).
    """
    if image.schema == COMPRESSED_IMAGE:
        compressed, image_format = messages.CompressedImage, image.encoding

        def build_compressed(timestamp: Any, data: bytes | memoryview) -> Any:
            return compressed(
                timestamp=timestamp, frame_id=frame_id, data=data, format=image_format
            )

        return build_compressed
    return raw_image_builder(messages.RawImage, image, frame_id)


def raw_image_builder(raw: Any, image: FoxgloveImage, frame_id: str) -> MessageBuilder:
    """Return a builder of ``image``'s ``RawImage`` messages as bytes, in field order.

    foxglove-sdk's own encoder (``raw``: its ``RawImage`` class) serializes the layout's
    fields once and each record's timestamp; the record's data is joined in (one copy,
    where foxglove-sdk's ``RawImage`` object copies it too). The bytes equal ``encode()``
    of the whole message.
    """
    size = image.step * image.height
    fixed = raw(width=image.width, height=image.height, encoding=image.encoding, step=image.step)
    data_head = raw(data=bytes(size)).encode()[:-size]  # the data field's tag and length
    head, tail = fixed.encode() + data_head, raw(frame_id=frame_id).encode()

    def build_raw(timestamp: Any, data: bytes | memoryview) -> bytes:
        return b"".join((raw(timestamp=timestamp).encode(), head, data, tail))

    return build_raw


class SideStamp:
    """Serializes the per-record part of side records, reusing one protobuf message."""

    __slots__ = ("_entries", "_message", "_names")

    def __init__(self, message: Any) -> None:
        """Use ``message``, an empty ``rerun_core.Record`` protobuf message."""
        self._message = message
        self._entries: tuple[tuple[Any, str, str], ...] | None = None  # entry, timeline, kind
        self._names: tuple[str, ...] = ()

    def serialize(self, record: Record, sequence: int) -> bytes:
        """Return the stamp of ``record``, whose image message has number ``sequence``."""
        message = self._message
        if record.timeless or not self._set_values(record.timepoint):
            message.Clear()
            fill_side_stamp(message, record, sequence)
            self._entries = None
            if not record.timeless:  # the record's own strings: compared by identity next time
                pairs = zip(message.timepoint, record.timepoint.items(), strict=True)
                self._entries = tuple((entry, name, time.kind) for entry, (name, time) in pairs)
                self._names = tuple(record.timepoint)
        else:
            message.log_tick = record.log_tick
            message.log_time_ns = record.log_time_ns
            message.image_sequence = sequence
        stamp: bytes = message.SerializeToString()
        return stamp

    def _set_values(self, timepoint: Mapping[str, TimeValue]) -> bool:
        """Set the values of ``timepoint``; False if its timelines are not the kept ones."""
        entries = self._entries
        if entries is None or len(entries) != len(timepoint):
            return False
        for entry, timeline, kind in entries:
            time = timepoint.get(timeline)
            if time is None or time.kind != kind:
                return False
            entry.value = time.value
        return len(entries) < 2 or tuple(timepoint) == self._names  # the same order too
