"""open_recording on .mcap: a catalog and locators, records read again; untrusted files.

Crafted files are built record by record with the ``mcap`` library's own record classes
(one chunk per list of messages), then damaged on purpose.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks import open_recording, read_mcap_records

pytest.importorskip("foxglove", reason="needs the [mcap] extra")

import zstandard
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from mcap.data_stream import RecordBuilder
from mcap.records import (
    Channel,
    Chunk,
    DataEnd,
    Footer,
    Header,
    Message,
    Schema,
)

from rerun_sinks import McapSink

MAGIC = b"\x89MCAP0\r\n"
SCHEMA = Schema(id=1, name="foxglove.RawImage", encoding="protobuf", data=b"")
CHANNEL = Channel(id=1, topic="/cam", message_encoding="protobuf", metadata={}, schema_id=1)


def _image(value: int) -> bytes:
    pixels = bytes([value]) * 4 * 6
    return RawImage(width=6, height=4, encoding="mono8", step=6, data=pixels).SerializeToString()


def _records(*items: Any) -> bytes:
    builder = RecordBuilder()
    for item in items:
        item.write(builder)
    return bytes(builder.end())


def _message(value: int) -> Message:
    return Message(
        channel_id=1, log_time=value, data=_image(value), publish_time=value, sequence=value
    )


def _chunk(values: list[int], **forged: Any) -> Chunk:
    inner = _records(*(_message(v) for v in values))
    data = zstandard.ZstdCompressor().compress(inner)
    fields = {
        "compression": "zstd",
        "data": data,
        "message_start_time": values[0],
        "message_end_time": values[-1],
        "uncompressed_crc": 0,
        "uncompressed_size": len(inner),
    }
    return Chunk(**{**fields, **forged})


def _file(*chunks: Chunk | bytes) -> bytes:
    """Header, schema, channel, the chunks (or raw record bytes), DataEnd, footer, magic."""
    head = _records(Header(profile="", library="test"), SCHEMA, CHANNEL)
    body = b"".join(c if isinstance(c, bytes) else _records(c) for c in chunks)
    tail = _records(DataEnd(data_section_crc=0), Footer(0, 0, 0))
    return MAGIC + head + body + tail + MAGIC


def _values(path: Path) -> list[int]:
    with open_recording(path) as f:
        return [r.log_time_ns for r in f]


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "crafted.mcap"
    path.write_bytes(data)
    return path


def _peak(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


# -- our files: the same records, read again from their chunks ----------------------


def _ours(tmp_path: Path, count: int = 300) -> tuple[Path, list[rc.Record]]:
    frames = np.random.default_rng(5).integers(0, 255, (4, 64, 64, 3), dtype=np.uint8)
    depth = np.arange(48 * 64, dtype=np.uint16).reshape(48, 64)
    records = [rc.make_record("world", rc.make_annotation_context_msg([(1, "a")]), timeless=True)]
    for i in range(count):
        stamp = {"timepoint": {"frame": ("sequence", i)}, "log_tick": i + 1, "log_time_ns": i}
        records.append(rc.make_record("cam/rgb", rc.make_image_msg(frames[i % 4]), **stamp))
        if i % 3 == 0:
            records.append(rc.make_record("cam/depth", rc.make_depth_msg(depth + i), **stamp))
    path = tmp_path / "ours.mcap"
    with McapSink(path) as sink:  # about 4 MB: several 1 MiB chunks
        for record in records:
            sink.write(record)
    return path, records


def test_records_come_back_in_any_order_from_their_chunks(tmp_path: Path) -> None:
    path, records = _ours(tmp_path)
    with open_recording(path) as f:
        assert len(f) == len(records)
        assert list(f) == records
        order = np.random.default_rng(1).permutation(len(records))
        assert [f[int(i)] for i in order] == [records[int(i)] for i in order]
        assert f[-1] == records[-1]
        got = list(f.query("cam/depth", timeline="frame", start=30, stop=60))
        assert got == [
            r for r in records[1:] if r.entity_path == ("cam", "depth") and 30 <= r.log_time_ns < 60
        ]
    assert list(read_mcap_records(path)) == records


def test_opening_keeps_no_pixels(tmp_path: Path) -> None:
    path, records = _ours(tmp_path, count=600)
    pixels = sum(r.msg.pixels.nbytes for r in records if hasattr(r.msg, "pixels"))  # type: ignore[union-attr]
    holder: list[Any] = []
    peak = _peak(lambda: holder.append(open_recording(path)))
    with holder[0] as f:
        assert f.entities == ("cam/depth", "cam/rgb", "world")
    assert pixels > 8 << 20
    assert peak < pixels // 2, (peak, pixels)


def test_a_torn_tail_opens_as_the_complete_chunks(tmp_path: Path) -> None:
    path, records = _ours(tmp_path)
    data = path.read_bytes()
    counts = set()
    for cut in range(0, len(data), len(data) // 9):
        torn = _write(tmp_path, data[:cut])
        with open_recording(torn) as f:
            got = list(f)
        assert got == records[: len(got)]
        counts.add(len(got))
        with pytest.raises(rc.DecodeError, match="damaged or ends early"):
            list(read_mcap_records(torn))
    assert len(counts) >= 3


# -- crafted files -------------------------------------------------------------------

ABSURD = 1 << 40


def _zstd_of(size: int) -> bytes:
    return zstandard.ZstdCompressor().compress(bytes(size))


BAD = {  # name -> (the damaged chunk, message fragment of read_mcap_records' DecodeError)
    "absurd uncompressed size": (
        _chunk([2, 3], uncompressed_size=ABSURD),
        f"declares {ABSURD} bytes uncompressed",
    ),
    "size beyond the codec's ratio": (
        _chunk([2, 3], uncompressed_size=(1 << 29)),
        "the file is damaged or forged",
    ),
    "declares more than it holds": (
        _chunk([2, 3], uncompressed_size=(1 << 20)),
        "decompresses to",
    ),
    "a bomb: holds more than it declares": (
        _chunk([2, 3], data=_zstd_of(64 << 20), uncompressed_size=4096),
        "decompresses to more than its declared 4096 bytes",
    ),
    "data length past the record": (
        _records(_chunk([2, 3]))[:-40] + b"",
        "",
    ),
    "unknown compression": (_chunk([2, 3], compression="brotli"), "compression 'brotli'"),
    "bad CRC": (_chunk([2, 3], uncompressed_crc=12345), "fails its CRC check"),
    "not zstd at all": (_chunk([2, 3], data=b"\x00" * 64), "does not decompress"),
}


def _forged_data_length() -> bytes:
    """A chunk record whose inner ``records`` length field claims 2**62 bytes."""
    record = bytearray(_records(_chunk([2, 3])))
    # opcode(1) length(8) start(8) end(8) size(8) crc(4) compression "zstd" (4+4), then length
    at = 1 + 8 + 8 + 8 + 8 + 4 + 4 + 4
    record[at : at + 8] = (1 << 62).to_bytes(8, "little")
    return bytes(record)


BAD["data length past the record"] = (_forged_data_length(), "does not parse")


@pytest.mark.parametrize("name", list(BAD))
def test_a_damaged_chunk_is_refused_without_allocating_it(tmp_path: Path, name: str) -> None:
    chunk, fragment = BAD[name]
    path = _write(tmp_path, _file(_chunk([0, 1]), chunk, _chunk([4, 5])))
    got: list[rc.Record] = []
    with pytest.raises(rc.DecodeError, match=fragment) as error:
        _peak(lambda: got.extend(read_mcap_records(path)))
    assert [r.log_time_ns for r in got] == [0, 1]
    assert error.value.offset > 0
    peak = _peak(lambda: _values(path))
    assert peak < 16 << 20, peak  # never the declared size (1 TiB, 512 MiB, 64 MiB of zeros)
    assert _values(path) == [0, 1, 4, 5]  # open_recording skips the damaged chunk


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        (b"\x05" + (1 << 60).to_bytes(8, "little"), "runs past the end"),
        (b"\x06" + (3 << 30).to_bytes(8, "little") + bytes(64), "runs past the end"),
        (b"\x05" + (10).to_bytes(8, "little") + bytes(10), "does not parse"),
    ],
    ids=["huge-length", "chunk-past-end", "short-message"],
)
def test_broken_framing_ends_the_records(tmp_path: Path, record: bytes, fragment: str) -> None:
    path = _write(tmp_path, _file(_chunk([0, 1]), record, _chunk([4, 5])))
    got: list[rc.Record] = []
    with pytest.raises(rc.DecodeError, match=fragment):
        got.extend(read_mcap_records(path))
    assert [r.log_time_ns for r in got] == [0, 1]
    assert _peak(lambda: _values(path)) < 16 << 20
    assert _values(path)[:2] == [0, 1]


def test_a_record_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    from rerun_sinks import _mcap_file

    first, big, last = _chunk([0, 1]), _chunk(list(range(2, 200))), _chunk([4, 5])
    limit = max(max(len(_records(c)) - 9, c.uncompressed_size) for c in (first, last))
    assert len(_records(big)) - 9 > limit
    path = _write(tmp_path, _file(first, big, last))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_mcap_file, "MAX_CHUNK_BYTES", limit)
        with pytest.raises(rc.DecodeError, match=f"records of at most {limit} bytes"):
            list(read_mcap_records(path))
        assert _values(path) == [0, 1, 4, 5]


def test_a_footer_pointing_outside_the_file_is_not_followed(tmp_path: Path) -> None:
    data = bytearray(_file(_chunk([0, 1]), _chunk([2, 3])))
    footer = len(data) - 8 - 20  # summary_start, summary_offset_start, summary_crc
    data[footer : footer + 16] = ((1 << 63) + 7).to_bytes(8, "little") * 2
    path = _write(tmp_path, bytes(data))
    assert [r.log_time_ns for r in read_mcap_records(path)] == [0, 1, 2, 3]
    assert _values(path) == [0, 1, 2, 3]


def test_a_wrong_data_section_crc_raises(tmp_path: Path) -> None:
    data = _file(_chunk([0, 1])).replace(
        _records(DataEnd(data_section_crc=0)), _records(DataEnd(data_section_crc=99))
    )
    path = _write(tmp_path, data)
    with pytest.raises(rc.DecodeError, match="data section fails its CRC check"):
        list(read_mcap_records(path))
    assert _values(path) == [0, 1]


def test_messages_outside_chunks_and_a_stream(tmp_path: Path) -> None:
    data = _file(_records(_message(0), _message(1)), _chunk([2, 3]), _records(_message(4)))
    path = _write(tmp_path, data)
    assert _values(path) == [0, 1, 2, 3, 4]
    with open_recording(path) as f:
        assert [f[i].log_time_ns for i in (4, 0, 3)] == [4, 0, 3]
    stream = io.BytesIO(b"junk" + data)
    stream.seek(4)
    assert [r.log_time_ns for r in read_mcap_records(stream)] == [0, 1, 2, 3, 4]


def test_threads_read_records_at_once(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path, records = _ours(tmp_path, count=120)
    order = np.random.default_rng(3).permutation(len(records)).tolist()
    with open_recording(path) as f, ThreadPoolExecutor(4) as pool:
        got = list(pool.map(f.__getitem__, order))
    assert got == [records[i] for i in order]


@pytest.mark.parametrize(
    "name",
    ["mcap-json-sidecar.mcap", "mcap-protobuf-side.mcap", "mcap-protobuf-side-shared-topics.mcap"],
)
def test_golden_files_open_as_they_read(name: str) -> None:
    path = Path(__file__).parents[1] / "golden" / name
    records = list(read_mcap_records(path))
    assert records
    with open_recording(path) as f:
        assert list(f) == records
        assert [f[i] for i in reversed(range(len(f)))] == records[::-1]


def test_lz4_chunks_and_a_cut_lz4_frame(tmp_path: Path) -> None:
    import lz4.frame

    inner = _records(_message(2), _message(3))
    frame = lz4.frame.compress(inner)
    good = _chunk([2, 3], compression="lz4", data=frame, uncompressed_size=len(inner))
    cut = _chunk([6, 7], compression="lz4", data=frame[: len(frame) // 2])
    path = _write(tmp_path, _file(_chunk([0, 1]), good, cut, _chunk([4, 5])))
    with pytest.raises(rc.DecodeError, match="decompresses to"):
        list(read_mcap_records(path))
    assert _values(path) == [0, 1, 2, 3, 4, 5]
