"""An independent reader written from docs/FORMAT.md alone (struct, zlib, cbor2, numpy).

It shares no code with rerun_core, so it fails if the encoder and the document drift apart.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import cbor2
import numpy as np
import pytest

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
HEADER = struct.Struct("<4sBBHIQI")
PIXEL_DTYPES = {
    "image": {"|u1", "<u2", "<f2", "<f4", "<f8"},
    "depth": {"|u1", "<u2", "<f4", "<f8"},
    "segmentation": {"|u1", "<u2"},
}


def read_stream(data: bytes) -> list[dict[str, Any]]:
    """Section 2: frame after frame; section 3: CBOR metadata; section 4: payload."""
    records, offset = [], 0
    while offset < len(data):
        magic, major, _minor, kind, meta_len, payload_len, header_crc = HEADER.unpack_from(
            data, offset
        )
        assert magic == b"\x89RRC"
        assert zlib.crc32(data[offset : offset + 20]) == header_crc
        assert major == 1
        pad1 = -(24 + meta_len) % 8
        pad2 = -(payload_len + 4) % 8
        length = 24 + meta_len + pad1 + payload_len + pad2 + 4
        (record_crc,) = struct.unpack_from("<I", data, offset + length - 4)
        assert zlib.crc32(data[offset : offset + length - 4]) == record_crc
        assert length % 8 == 0
        meta = cbor2.loads(data[offset + 24 : offset + 24 + meta_len])
        payload_start = offset + 24 + meta_len + pad1
        payload = data[payload_start : payload_start + payload_len]
        if kind == 1:
            meta["arrays"] = _arrays(meta["msg"], payload)
            records.append(meta)
        offset += length
    return records


def _array(spec: dict[str, Any], payload: bytes) -> np.ndarray:
    assert spec["offset"] % 8 == 0
    count = int(np.prod(spec["shape"]))
    return np.frombuffer(payload, spec["dtype"], count, spec["offset"]).reshape(spec["shape"])


def _arrays(msg: dict[str, Any], payload: bytes) -> dict[str, np.ndarray]:
    arrays = {name: _array(spec, payload) for name, spec in msg.get("ext", [])}
    for field in ("pixels", "encoded"):
        if field in msg:
            arrays[field] = _array(msg[field], payload)
    if "pixels" in msg:
        assert msg["pixels"]["dtype"] in PIXEL_DTYPES[msg["kind"]]
    return arrays


def test_tiny_example_matches_the_document() -> None:
    [record] = read_stream((GOLDEN / "tiny.rrc").read_bytes())
    assert record["entity_path"] == ["a"]
    assert record["msg"]["kind"] == "image"
    assert record["msg"]["color_model"] == "RGB"
    assert record["arrays"]["pixels"].tolist() == [[[255, 0, 128]]]
    assert "timepoint" not in record  # defaults are omitted


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.rrc")), ids=lambda p: p.stem)
def test_every_golden_file_reads_with_the_documented_rules(path: Path) -> None:
    [record] = read_stream(path.read_bytes())
    msg = record["msg"]
    assert msg["kind"] in {"image", "depth", "segmentation", "annotation_context", "extension"}
    assert all(name.startswith("ext.") for name, _ in msg.get("ext", []))
    if msg["kind"] == "image":
        assert ("pixels" in msg) != ("encoded" in msg)
        if "pixels" in msg:
            assert record["arrays"]["pixels"].shape == (
                msg["height"],
                msg["width"],
                msg["channels"],
            )
        else:
            assert msg["media_type"] == "jpeg"
            assert record["arrays"]["encoded"][:2].tobytes() == b"\xff\xd8"
    for entry in record.get("timepoint", []):
        assert entry["kind"] in {"sequence", "time"}
    names = [entry["timeline"] for entry in record.get("timepoint", [])]
    assert names == sorted(names)
    if record.get("timeless"):
        assert "timepoint" not in record


def test_golden_stream_reads_back_to_back() -> None:
    files = sorted(GOLDEN.glob("*.rrc"))
    assert len(read_stream(b"".join(p.read_bytes() for p in files))) == len(files)
