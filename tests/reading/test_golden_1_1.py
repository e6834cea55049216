"""Golden files of format 1.1: today's writer reproduces them, today's readers read them.

Regenerate (only with a format version bump, keeping older files readable):
``python tests/reading/test_golden_1_1.py --regenerate``.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import cbor2
import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks import FileSink, open_recording, read_records, verify

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GOLDEN_1_1 = GOLDEN / "1.1"


def recording() -> list[rc.Record]:
    """One record of every message kind, on two timelines, plus a timeless context."""
    records = [
        rc.make_record(
            "/", rc.make_annotation_context_msg([(0, "bg"), (1, "box", "#ff0000")]), timeless=True
        )
    ]
    for frame in range(2):
        time = {"frame": ("sequence", frame), "clock": ("time", 1_000_000 * frame)}
        stamp = {"timepoint": time, "log_tick": frame, "log_time_ns": 1_700_000_000 + frame}
        grid = np.arange(4 * 5, dtype=np.uint16).reshape(4, 5) * (frame + 1)
        records += [
            rc.make_record(
                "cam/rgb", rc.make_image_msg(np.full((4, 5, 3), frame, np.uint8)), **stamp
            ),
            rc.make_record("cam/depth", rc.make_depth_msg(grid, meter=1000.0), **stamp),
            rc.make_record(
                "cam/seg", rc.make_segmentation_msg((grid % 2).astype(np.uint8)), **stamp
            ),
        ]
    records += [
        rc.make_record(
            "cam/jpeg",
            rc.make_encoded_image_msg((GOLDEN / "source-rgb.jpg").read_bytes()),
            timepoint={"frame": ("sequence", 2)},
        ),
        rc.make_record("misc", rc.make_extension_msg({"score": [0.5, 0.25]})),
    ]
    return records


def compressible_recording() -> list[rc.Record]:
    """:func:`recording` plus depth, segmentation and an image of at least 4 KiB."""
    grid = np.indices((64, 80)).sum(axis=0)
    time = {"frame": ("sequence", 3)}
    return [
        *recording(),
        rc.make_record(
            "cam/depth", rc.make_depth_msg((grid * 7).astype(np.uint16)), timepoint=time
        ),
        rc.make_record(
            "cam/seg", rc.make_segmentation_msg((grid // 20).astype(np.uint8)), timepoint=time
        ),
        rc.make_record(
            "cam/rgb",
            rc.make_image_msg(np.dstack([grid % 256] * 3).astype(np.uint8)),
            timepoint=time,
        ),
    ]


def _indexed(compression: str | None = None) -> bytes:
    stream = io.BytesIO()
    with FileSink(stream, compression=compression) as sink:
        for record in recording() if compression is None else compressible_recording():
            sink.write(record)
    return stream.getvalue()


CASES: dict[str, Callable[[], bytes]] = {
    "indexed": _indexed,
    "indexed-truncated": lambda: _indexed()[:-37],
}
COMPRESSED = ("zstd", "lz4")
"""Golden files ``compressed-<codec>.rrc``: read back exactly; their bytes may differ
between codec library versions, so they are not reproduced byte for byte."""


@pytest.mark.parametrize("name", sorted(CASES))
def test_writer_reproduces_golden_bytes(name: str) -> None:
    assert CASES[name]() == (GOLDEN_1_1 / f"{name}.rrc").read_bytes()


def test_indexed_golden_file_opens_with_its_index() -> None:
    path = GOLDEN_1_1 / "indexed.rrc"
    with open_recording(path) as f:
        assert f.indexed
        assert list(f) == recording()
        assert f.timelines == {"clock": "time", "frame": "sequence"}
    assert list(read_records(path)) == recording()
    report = verify(path)
    assert (report.ok, report.count, report.index) == (True, len(recording()), "valid")


def test_truncated_golden_file_reads_front_to_back() -> None:
    path = GOLDEN_1_1 / "indexed-truncated.rrc"
    with open_recording(path) as f:
        assert not f.indexed
        assert list(f) == recording()
    report = verify(path)
    assert (report.ok, report.count, report.index) == (False, len(recording()), "missing")


@pytest.mark.parametrize("codec", COMPRESSED)
def test_compressed_golden_files_read_back_exactly(codec: str) -> None:
    path = GOLDEN_1_1 / f"compressed-{codec}.rrc"
    data = path.read_bytes()
    kinds = {struct.unpack_from("<H", data, span.offset + 6)[0] for span in rc.scan_records(data)}
    assert kinds == {1, 2, 3}  # plain records, the index, compressed records
    with open_recording(path) as f:
        assert f.indexed
        assert list(f) == compressible_recording()
    assert list(read_records(path)) == compressible_recording()
    plain = sum(len(rc.encode_record(r)) for r in compressible_recording())
    assert len(data) < plain / 2


def test_a_1_0_reader_reads_the_log_records_of_a_1_1_file() -> None:
    assert list(rc.iter_records((GOLDEN_1_1 / "indexed.rrc").read_bytes())) == recording()


def test_the_index_reads_with_the_documented_rules_alone() -> None:
    """FORMAT.md section 8 with struct, zlib, cbor2 and numpy only."""
    data = (GOLDEN_1_1 / "indexed.rrc").read_bytes()
    offset, length, magic = struct.unpack_from("<QQ8s", data, len(data) - 32)
    assert (magic, offset + length, data[-8:-4]) == (b"RRCINDEX", len(data), bytes(4))
    head = struct.unpack_from("<4sBBHIQI", data, offset)
    _, major, minor, kind, meta_len, payload_len, header_crc = head
    assert (major, minor, kind) == (1, 1, 2)
    assert zlib.crc32(data[offset : offset + 20]) == header_crc
    assert zlib.crc32(data[offset : len(data) - 4]) == struct.unpack("<I", data[-4:])[0]
    meta = cbor2.loads(data[offset + 24 : offset + 24 + meta_len])
    payload_start = offset + 24 + meta_len + (-(24 + meta_len) % 8)
    payload = data[payload_start : payload_start + payload_len - 24]
    columns = {
        name: np.frombuffer(payload, spec["dtype"], spec["shape"][0], spec["offset"])
        for name, spec in meta["columns"]
    }
    records = recording()
    assert meta["count"] == len(records)
    # every row frames a log record of the stated length, in order
    position = 0
    for row, record in enumerate(records):
        assert columns["offset"][row] == position
        encoded = rc.encode_record(record)
        assert columns["length"][row] == len(encoded)
        assert data[position : position + len(encoded)] == encoded
        position += len(encoded)
        assert meta["entities"][columns["entity"][row]] == list(record.entity_path)
        assert columns["log_tick"][row] == record.log_tick
        assert columns["timeless"][row] == record.timeless
        for i, (timeline, _kind) in enumerate(meta["timelines"]):
            assert columns[f"has_time.{i}"][row] == (timeline in record.timepoint)
            if timeline in record.timepoint:
                assert columns[f"time.{i}"][row] == record.timepoint[timeline].value
    assert position == offset
    kinds = [meta["formats"][f]["kind"] for f in columns["format"]]
    assert kinds[:4] == ["annotation_context", "image", "depth", "segmentation"]


if __name__ == "__main__" and "--regenerate" in sys.argv:
    GOLDEN_1_1.mkdir(exist_ok=True)
    for case_name, make in CASES.items():
        (GOLDEN_1_1 / f"{case_name}.rrc").write_bytes(make())
        print("wrote", case_name)
    for codec_name in COMPRESSED:
        (GOLDEN_1_1 / f"compressed-{codec_name}.rrc").write_bytes(_indexed(codec_name))
        print("wrote compressed", codec_name)
