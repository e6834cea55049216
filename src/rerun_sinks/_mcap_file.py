"""An MCAP file read through bounded reads: a chunk-by-chunk scan and random access.

Rules:
- the ``mcap`` library parses every record (``Header``, ``Schema``, ``Channel``,
  ``Chunk``, ``Message``, ``Footer``, ...) from bytes this module read first; no read is
  larger than what the file holds, and no record or chunk larger than
  :data:`MAX_CHUNK_BYTES` (compressed or not) is read or decompressed;
- a chunk is decompressed in pieces of at most 8 MiB, stopping one byte past its
  declared size: memory follows the bytes really produced, never a declared size; a size
  beyond what the codec can reach from the stored bytes (zstd 65536:1, lz4 512:1) is
  refused before decompressing; the uncompressed CRC is checked when the writer set it;
- the scan (:meth:`McapFile.messages`) yields every message with its locator (the offset
  of its chunk record, or -1 outside chunks, and the offset of the message record in the
  chunk's data, or in the file); :meth:`McapFile.message` reads one back through a small
  cache of decompressed chunks (at most 4 chunks, 256 MiB): messages read in file order
  decompress each chunk once;
- ``strict`` (``read_mcap_records``): damage raises ``rerun_core.DecodeError`` at the
  offset of the record it is in, after every message before it; the data section CRC is
  checked, and the file must end with its footer and magic. Not strict
  (``open_recording``): a damaged chunk is skipped (``damaged`` says so) and the scan
  goes on; a torn tail or broken framing ends the scan, never an error;
- the summary section is walked (its framing must hold) but not used: our catalog needs
  fields only the message bodies hold (entity paths and timelines of our side records,
  the image encoding that makes a foreign image a depth or an image).
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Generator, Iterator
from typing import IO, Final, TypeVar

from mcap.data_stream import ReadDataStream
from mcap.opcode import Opcode
from mcap.records import Channel, Chunk, Footer, Header, Message, Schema

from rerun_core import DecodeError

__all__ = ["MAX_CHUNK_BYTES", "Locator", "McapFile"]

MAX_CHUNK_BYTES: Final = 1 << 30
"""Largest chunk (compressed or uncompressed) or single record a reader accepts."""

Locator = tuple[int, int]
"""(offset of the chunk record or -1, offset of the message record in its chunk or file)."""

MAGIC: Final = b"\x89MCAP0\r\n"
_HEAD = struct.Struct("<BQ")
_PIECE = 8 << 20  # a typical chunk (1 MiB to a few MiB) decompresses in one piece
_MAX_RATIO = {"zstd": 1 << 16, "lz4": 1 << 9}  # as rerun_core's compressed arrays
_CACHE_CHUNKS, _CACHE_BYTES = 4, 256 << 20
_READ = frozenset(
    (Opcode.HEADER, Opcode.SCHEMA, Opcode.CHANNEL, Opcode.CHUNK, Opcode.MESSAGE, Opcode.DATA_END)
)
_CUT = "the MCAP file is damaged or ends early (cut, or still being written)"
_R = TypeVar("_R")


class _Damage(Exception):  # noqa: N818 (internal signal, turned into DecodeError)
    """A damaged chunk or record, at ``offset``."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class _Bounded:
    """A read-only stream over ``data`` that refuses reads past the end (or negative)."""

    def __init__(self, data: bytes | memoryview) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, count: int) -> bytes:
        end = self._pos + count
        if count < 0 or end > len(self._data):
            msg = f"a field of {count} bytes runs past its record ({len(self._data)} bytes)"
            raise ValueError(msg)
        piece = bytes(self._data[self._pos : end])
        self._pos = end
        return piece


def _parse(kind: type[_R], body: bytes | memoryview, offset: int) -> _R:
    """Parse ``body`` (a record without opcode and length) with the ``mcap`` library."""
    stream = ReadDataStream(_Bounded(body))  # type: ignore[arg-type]
    try:
        if kind is Message:
            message: _R = Message.read(stream, len(body))
            return message
        parsed: _R = kind.read(stream)  # type: ignore[attr-defined]
        return parsed
    except (ValueError, struct.error) as err:
        msg = f"a {kind.__name__} record that does not parse: {err}"
        raise _Damage(msg, offset) from err


class McapFile:
    """The records of one MCAP file or seekable stream (offsets from its position now)."""

    def __init__(self, stream: IO[bytes]) -> None:
        """Read ``stream`` from its current position; it stays the caller's to close."""
        self._stream = stream
        self._start = stream.tell()
        self._fd = _fileno(stream)
        end = os.fstat(self._fd).st_size if self._fd is not None else _stream_end(stream)
        self.size = max(end - self._start, 0)
        self.library = ""
        self.schemas: dict[int, Schema] = {}
        self.channels: dict[int, Channel] = {}
        self.damaged = False
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()  # the cache, and the stream's position

    # -- reading bytes -------------------------------------------------------------

    def _read(self, offset: int, count: int) -> bytes:
        """Return ``count`` bytes at ``offset``; ``_Damage`` if the file holds fewer."""
        if count < 0 or offset < 0 or offset + count > self.size:
            msg = f"{_CUT}: {count} bytes at offset {offset} of a {self.size}-byte file"
            raise _Damage(msg, offset)
        position = self._start + offset
        if self._fd is not None:
            pieces, got = [], 0
            while got < count:
                piece = os.pread(self._fd, count - got, position + got)
                if not piece:
                    break
                pieces.append(piece)
                got += len(piece)
            data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        else:
            self._stream.seek(position)
            data = self._stream.read(count)
        if len(data) != count:
            msg = f"{_CUT}: read {len(data)} of {count} bytes at offset {offset}"
            raise _Damage(msg, offset)
        return data

    # -- the scan ------------------------------------------------------------------

    def messages(self, *, strict: bool) -> Iterator[tuple[Channel, Message, Locator]]:
        """Yield ``(channel, message, locator)`` for every message, in file order."""
        try:
            yield from self._scan(strict=strict)
        except _Damage as err:
            if strict:
                raise DecodeError(str(err), offset=err.offset) from err
            self.damaged = True

    def _scan(self, *, strict: bool) -> Iterator[tuple[Channel, Message, Locator]]:
        if self._read(0, 8) != MAGIC:
            msg = "not an MCAP file: it does not start with MCAP's magic bytes"
            raise _Damage(msg, 0)
        crc = zlib.crc32(MAGIC) if strict else None
        position, summary = 8, False
        while True:
            head = self._read(position, 9)
            opcode, length = _HEAD.unpack(head)
            body = position + 9
            if length > self.size - body:
                msg = f"{_CUT}: a record of {length} bytes at offset {position} runs past the end"
                raise _Damage(msg, position)
            if opcode == Opcode.FOOTER:
                _parse(Footer, self._read(body, length), position)
                if self._read(body + length, 8) != MAGIC:
                    msg = f"{_CUT}: no closing magic after the footer"
                    raise _Damage(msg, body + length)
                return
            if not summary:
                crc = yield from self._data_record(opcode, head, position, crc, strict=strict)
                summary = opcode == Opcode.DATA_END
            position = body + length

    def _data_record(
        self, opcode: int, head: bytes, position: int, crc: int | None, *, strict: bool
    ) -> Generator[tuple[Channel, Message, Locator], None, int | None]:
        """Read one record of the data section; return the data section CRC so far."""
        body, length = position + 9, _HEAD.unpack(head)[1]
        if opcode not in _READ:
            if crc is not None:
                crc = zlib.crc32(head, crc)
                for at in range(body, body + length, _PIECE):
                    crc = zlib.crc32(self._read(at, min(_PIECE, body + length - at)), crc)
            return crc
        if length > MAX_CHUNK_BYTES:
            msg = (
                f"a record of {length} bytes at offset {position}; readers accept records "
                f"of at most {MAX_CHUNK_BYTES} bytes (rerun_sinks._mcap_file.MAX_CHUNK_BYTES)"
            )
            self._damage(msg, position, strict=strict)
            return None  # the data section CRC cannot be checked without those bytes
        data = self._read(body, length)
        if opcode == Opcode.DATA_END:
            _check_data_crc(data, crc, position)
            return crc
        if crc is not None:
            crc = zlib.crc32(data, zlib.crc32(head, crc))
        yield from self._record(opcode, data, position, strict=strict)
        return crc

    def _damage(self, message: str, offset: int, *, strict: bool) -> None:
        if strict:
            raise DecodeError(message, offset=offset)
        self.damaged = True

    def _record(
        self, opcode: int, data: bytes, position: int, *, strict: bool
    ) -> Iterator[tuple[Channel, Message, Locator]]:
        if opcode == Opcode.CHUNK:
            try:
                records = self._chunk_data(position, data)
            except _Damage as err:
                self._damage(str(err), err.offset, strict=strict)
                return
            for inner, (kind, body) in _walk(records, position):
                if kind == Opcode.MESSAGE:
                    yield from self._message(body, (position, inner), position, strict=strict)
                else:
                    self._declare(kind, body, position)
        elif opcode == Opcode.MESSAGE:
            yield from self._message(data, (-1, position), position, strict=strict)
        else:
            self._declare(opcode, data, position)

    def _declare(self, opcode: int, body: bytes | memoryview, position: int) -> None:
        if opcode == Opcode.HEADER:
            self.library = _parse(Header, body, position).library
        elif opcode == Opcode.SCHEMA:
            schema = _parse(Schema, body, position)
            self.schemas[schema.id] = schema
        elif opcode == Opcode.CHANNEL:
            channel = _parse(Channel, body, position)
            self.channels[channel.id] = channel

    def _message(
        self, body: bytes | memoryview, locator: Locator, position: int, *, strict: bool
    ) -> Iterator[tuple[Channel, Message, Locator]]:
        message = _parse(Message, body, position)
        channel = self.channels.get(message.channel_id)
        if channel is None:
            msg = f"a message of channel {message.channel_id}, which was never declared"
            self._damage(msg, position, strict=strict)
            return
        yield channel, message, locator

    # -- random access -------------------------------------------------------------

    def message(self, locator: Locator) -> tuple[Channel, Message]:
        """Read back the message the scan gave ``locator``, and its channel (thread-safe)."""
        with self._lock:
            return self._message_at(locator)

    def _message_at(self, locator: Locator) -> tuple[Channel, Message]:
        chunk, offset = locator
        try:
            if chunk < 0:
                _, length = _HEAD.unpack(self._read(offset, 9))
                body: bytes | memoryview = self._read(offset + 9, length)
                position = offset
            else:
                data = memoryview(self._chunk(chunk))
                _, length = _HEAD.unpack_from(data, offset)
                body = data[offset + 9 : offset + 9 + length]
                position = chunk
            message = _parse(Message, body, position)
        except (_Damage, struct.error) as err:
            msg = f"the MCAP message at {locator} no longer reads (was the file changed?): {err}"
            raise DecodeError(msg, offset=max(chunk, offset)) from err
        return self.channels[message.channel_id], message

    def _chunk(self, position: int) -> bytes:
        data = self._cache.get(position)
        if data is not None:
            self._cache.move_to_end(position)
            return data
        _, length = _HEAD.unpack(self._read(position, 9))
        if length > MAX_CHUNK_BYTES:
            msg = f"the chunk at offset {position} now has {length} bytes"
            raise _Damage(msg, position)
        data = self._chunk_data(position, self._read(position + 9, length))
        self._cache[position] = data
        held = sum(map(len, self._cache.values()))
        while len(self._cache) > 1 and (len(self._cache) > _CACHE_CHUNKS or held > _CACHE_BYTES):
            held -= len(self._cache.popitem(last=False)[1])
        return data

    def _chunk_data(self, position: int, record: bytes) -> bytes:
        """Return the records of the chunk record ``record`` (at ``position``), decompressed."""
        chunk = _parse(Chunk, record, position)
        size = chunk.uncompressed_size
        data = _decompress(chunk.compression, chunk.data, size, position)
        if chunk.uncompressed_crc and zlib.crc32(data) != chunk.uncompressed_crc:
            msg = f"the chunk at offset {position} fails its CRC check"
            raise _Damage(msg, position)
        return data


def _check_data_crc(data: bytes, crc: int | None, position: int) -> None:
    """Check the DataEnd record's CRC of every byte before it (0: the writer set none)."""
    expected = struct.unpack_from("<I", data)[0] if len(data) >= 4 else 0
    if crc is not None and expected not in (0, crc):
        msg = f"the data section fails its CRC check (DataEnd at offset {position})"
        raise _Damage(msg, position)


def _walk(data: bytes, position: int) -> Iterator[tuple[int, tuple[int, memoryview]]]:
    """Yield ``(offset, (opcode, body))`` for the records of a chunk's data."""
    view = memoryview(data)
    offset = 0
    while offset < len(view):
        if offset + 9 > len(view):
            msg = f"the chunk at offset {position} ends inside a record header"
            raise _Damage(msg, position)
        opcode, length = _HEAD.unpack_from(view, offset)
        if length > len(view) - offset - 9:
            msg = f"a record of {length} bytes runs past the chunk at offset {position}"
            raise _Damage(msg, position)
        yield offset, (opcode, view[offset + 9 : offset + 9 + length])
        offset += 9 + length


def _decompress(compression: str, data: bytes, size: int, position: int) -> bytes:
    """Return the ``size`` bytes ``data`` decompresses to, allocating only what it produces."""
    if compression == "":
        if len(data) != size:
            msg = f"the chunk at offset {position} holds {len(data)} bytes, declares {size}"
            raise _Damage(msg, position)
        return data
    if compression not in _MAX_RATIO:
        msg = (
            f"the chunk at offset {position} uses compression {compression!r}; readable: zstd, lz4"
        )
        raise _Damage(msg, position)
    if size > MAX_CHUNK_BYTES or size > max(len(data), 1) * _MAX_RATIO[compression]:
        msg = (
            f"the chunk at offset {position} declares {size} bytes uncompressed from "
            f"{len(data)} {compression} bytes; allowed: at most {MAX_CHUNK_BYTES} bytes and "
            f"{_MAX_RATIO[compression]}:1; the file is damaged or forged"
        )
        raise _Damage(msg, position)
    try:
        pieces = _zstd_pieces(data, size) if compression == "zstd" else _lz4_pieces(data, size)
    except Exception as err:  # the codec's own errors (zstd.ZstdError, RuntimeError for lz4)
        msg = f"the {compression} chunk at offset {position} does not decompress: {err}"
        raise _Damage(msg, position) from err
    got = sum(map(len, pieces))
    if got != size:
        more = "more than" if got > size else f"{got} bytes, not"
        msg = f"the chunk at offset {position} decompresses to {more} its declared {size} bytes"
        raise _Damage(msg, position)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _zstd_pieces(data: bytes, size: int) -> list[bytes]:
    import zstandard  # noqa: PLC0415 (a dependency of mcap)

    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    pieces: list[bytes] = []
    got = 0
    while got <= size:
        piece = reader.read(min(_PIECE, size + 1 - got))
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return pieces


def _lz4_pieces(data: bytes, size: int) -> list[bytes]:
    import lz4.frame  # type: ignore[import-untyped]  # noqa: PLC0415 (a dependency of mcap)

    decompressor = lz4.frame.LZ4FrameDecompressor()
    pieces: list[bytes] = []
    got, feed = 0, data
    while got <= size and not decompressor.eof:
        piece = decompressor.decompress(feed, max_length=min(_PIECE, size + 1 - got))
        feed = b""
        if not piece:  # no progress: the frame ends early (checked by the caller)
            break
        pieces.append(piece)
        got += len(piece)
    return pieces


def _fileno(stream: IO[bytes]) -> int | None:
    try:
        fd = stream.fileno()
        if not hasattr(os, "pread") or not _regular(fd):
            return None
    except (AttributeError, OSError, ValueError):
        return None
    return fd


def _regular(fd: int) -> bool:
    import stat  # noqa: PLC0415

    return stat.S_ISREG(os.fstat(fd).st_mode)


def _stream_end(stream: IO[bytes]) -> int:
    position = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    stream.seek(position)
    return end
