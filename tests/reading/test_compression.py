"""Compressed records (format 1.1, kind 3): round trips, opt-in, 1.0 readers, bombs."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import cbor2
import lz4.frame
import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_core.errors import DecodeError, InvalidArgumentError
from rerun_sinks import FileSink, open_recording, read_records, recover, verify

CODECS = ("zstd", "lz4")
HEADER = struct.Struct("<4sBBHIQI")


def _smooth(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Compressible pixels: a gradient."""
    grid = np.indices(shape).sum(axis=0)
    if np.dtype(dtype).kind == "f":
        return (grid / grid.max()).astype(dtype)
    return (grid % (256 if dtype == "uint8" else 4096)).astype(dtype)


def every_kind_and_dtype() -> list[rc.Record]:
    """Every message kind x pixel dtype, big enough to compress, plus small and JPEG ones."""
    msgs: list[Any] = []
    for dtype in ("uint8", "uint16", "float16", "float32", "float64"):
        for channels in (1, 3, 4):
            shape = (64, 64) if channels == 1 else (64, 64, channels)
            msgs.append(rc.make_image_msg(_smooth(shape, dtype), draw_order=1.0))
    for dtype in ("uint8", "uint16", "float32", "float64"):
        msgs.append(rc.make_depth_msg(_smooth((64, 80), dtype), ext={"k": 1}))
    for dtype in ("uint8", "uint16"):
        msgs.append(rc.make_segmentation_msg(_smooth((64, 80), dtype)))
    msgs += [
        rc.make_image_msg(np.zeros((4, 4, 3), np.uint8)),  # under 4 KiB: stays raw
        rc.make_image_msg(_smooth((64, 64, 3), "uint8"), jpeg_quality=90),  # JPEG: as is
        rc.make_annotation_context_msg([(1, "a", "#ff0000")]),
        rc.make_extension_msg({"v": np.arange(2000, dtype=np.float64)}),
    ]
    return [
        rc.make_record(f"e/{i}", msg, timepoint={"f": ("sequence", i)}, log_tick=i)
        for i, msg in enumerate(msgs)
    ]


def _encode(record: rc.Record, codec: str) -> bytes:
    return b"".join(bytes(part) for part in rc.encode_compressed_parts(record, codec))


def _kind(data: bytes) -> int:
    return HEADER.unpack_from(data)[3]


@pytest.mark.parametrize("codec", CODECS)
def test_every_kind_and_dtype_round_trips(codec: str) -> None:
    for record in every_kind_and_dtype():
        data = _encode(record, codec)
        decoded = rc.decode_record(data)
        assert decoded == record
        pixels = getattr(decoded.msg, "pixels", None)
        if pixels is not None and pixels.nbytes >= 4096:
            assert _kind(data) == 3, record.entity_path
            with pytest.raises(ValueError, match="WRITEABLE"):
                pixels.setflags(write=True)
        else:
            assert data == rc.encode_record(record)  # nothing to compress: a plain record


@pytest.mark.parametrize("codec", CODECS)
@given(record=rcst.records())
def test_any_record_round_trips(codec: str, record: rc.Record) -> None:
    assert rc.decode_record(_encode(record, codec)) == record


@pytest.mark.parametrize("codec", CODECS)
def test_depth_and_segmentation_are_shuffled(codec: str) -> None:
    depth = rc.make_record("d", rc.make_depth_msg(_smooth((64, 80), "uint16")))
    data = _encode(depth, codec)
    (meta_len,) = struct.unpack_from("<I", data, 8)
    spec = cbor2.loads(data[24 : 24 + meta_len])["msg"]["pixels"]
    assert (spec["codec"], spec["shuffle"]) == (codec, True)
    assert spec["stored"] < 64 * 80 * 2


def test_incompressible_pixels_stay_raw() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    record = rc.make_record("n", rc.make_image_msg(noise))
    assert _encode(record, "zstd") == rc.encode_record(record)


class TestFiles:
    @pytest.mark.parametrize("codec", CODECS)
    def test_file_sink_compresses_and_every_reader_reads_it(
        self, tmp_path: Path, codec: str
    ) -> None:
        records = every_kind_and_dtype()
        plain, packed = tmp_path / "plain.rrc", tmp_path / "packed.rrc"
        for path, compression in ((plain, None), (packed, codec)):
            with FileSink(path, compression=compression) as sink:
                sink.write_many(records)
        assert packed.stat().st_size < plain.stat().st_size / 2
        assert list(read_records(packed)) == records
        with open_recording(packed) as f:
            assert f.indexed
            assert list(f) == records
            assert list(f.query(kinds={"depth"})) == [
                r for r in records if isinstance(r.msg, rc.DepthMsg)
            ]
        report = verify(packed)
        assert (report.ok, report.count, report.index) == (True, len(records), "valid")
        assert recover(packed, tmp_path / "copy.rrc") == len(records)
        assert list(read_records(tmp_path / "copy.rrc")) == records

    def test_a_1_0_reader_skips_compressed_records(self, tmp_path: Path) -> None:
        records = every_kind_and_dtype()
        path = tmp_path / "packed.rrc"
        with FileSink(path, compression="zstd") as sink:
            sink.write_many(records)
        data, offset, plain = path.read_bytes(), 0, []
        while offset < len(data):  # a 1.0 reader: kind 1 only, every other kind skipped
            _, _, _, kind, meta_len, payload_len, _ = HEADER.unpack_from(data, offset)
            length = 24 + meta_len + (-(24 + meta_len) % 8) + payload_len + 4
            length += -(payload_len + 4) % 8
            if kind == 1:
                plain.append(rc.decode_record(data[offset : offset + length]))
            offset += length
        assert plain == [
            r for r in records if _kind(rc.encode_record(r)) == 1 and _kind(_encode(r, "zstd")) == 1
        ]
        assert len(plain) < len(records)

    @pytest.mark.parametrize("compression", ["gzip", "", "ZSTD", 1, True])
    def test_unknown_compression_raises(self, tmp_path: Path, compression: object) -> None:
        with pytest.raises(InvalidArgumentError, match="compression must be None, 'zstd' or 'lz4'"):
            FileSink(tmp_path / "a.rrc", compression=compression)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="compression must be"):
            rc.encode_compressed_parts(every_kind_and_dtype()[0], compression)  # type: ignore[arg-type]


# -- bombs: forged compressed arrays -------------------------------------------------


def _frame(meta: dict[str, Any], payload: bytes, kind: int = 3) -> bytes:
    """A correctly framed and CRC'd record around any metadata and payload."""
    meta_bytes = cbor2.dumps(meta, canonical=True)
    payload += bytes(-len(payload) % 8)
    header = HEADER.pack(b"\x89RRC", 1, 1, kind, len(meta_bytes), len(payload), 0)
    header = header[:-4] + struct.pack("<I", zlib.crc32(header[:-4]))
    body = header + meta_bytes + bytes(-(24 + len(meta_bytes)) % 8) + payload
    body += bytes(-(len(payload) + 4) % 8)
    return body + struct.pack("<I", zlib.crc32(body))


def _segmentation(shape: list[int], codec: str, stored: bytes, kind: int = 3) -> bytes:
    spec = {"dtype": "|u1", "shape": shape, "offset": 0, "codec": codec, "stored": len(stored)}
    meta = {"entity_path": ["s"], "msg": {"kind": "segmentation", "pixels": spec}}
    return _frame(meta, stored, kind)


def _zeros_frame(codec: str, size: int) -> bytes:
    zeros = bytes(size)
    if codec == "zstd":
        return zstandard.ZstdCompressor(level=1).compress(zeros)
    return lz4.frame.compress(zeros, store_size=True)


def _decode_within(data: bytes, limit: int) -> DecodeError:
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError) as caught:
            rc.decode_record(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, peak
    return caught.value


def test_a_well_formed_forged_record_decodes() -> None:
    data = _segmentation([64, 64], "zstd", _zeros_frame("zstd", 4096))
    assert rc.decode_record(data).msg.pixels.shape == (64, 64)  # type: ignore[union-attr]


@pytest.mark.parametrize("codec", CODECS)
def test_metadata_declaring_more_than_the_frame_raises_without_allocating(codec: str) -> None:
    frame = _zeros_frame(codec, 4096)
    error = _decode_within(_segmentation([1 << 15, 1 << 15], codec, frame), 1 << 20)
    assert "declares 1073741824 bytes in its metadata" in str(error)


@pytest.mark.parametrize("codec", CODECS)
def test_a_frame_declaring_more_than_the_metadata_raises_without_allocating(codec: str) -> None:
    frame = _zeros_frame(codec, 1 << 22)
    error = _decode_within(_segmentation([64, 64], codec, frame), 1 << 20)
    assert "frame declares 4194304" in str(error)


def test_an_impossible_ratio_raises_without_allocating() -> None:
    frame = _zeros_frame("zstd", 1 << 26)[:64]  # a 64 MiB frame cut to 64 bytes
    error = _decode_within(_segmentation([1 << 13, 1 << 13], "zstd", frame), 1 << 20)
    assert "from 64 bytes" in str(error)


@pytest.mark.parametrize(
    ("codec", "kind", "fragment"),
    [("brotli", 3, "unknown codec"), ("zstd", 1, "compressed in a record of kind 1")],
)
def test_unknown_codecs_and_compressed_arrays_in_plain_records_raise(
    codec: str, kind: int, fragment: str
) -> None:
    data = _segmentation([64, 64], codec, _zeros_frame("zstd", 4096), kind)
    with pytest.raises(DecodeError, match=fragment):
        rc.decode_record(data)


def test_garbage_instead_of_a_frame_raises() -> None:
    data = _segmentation([64, 64], "zstd", b"\x00" * 40)
    with pytest.raises(DecodeError, match="declares 4096 bytes in its metadata"):
        rc.decode_record(data)


@given(st.binary(max_size=64), st.sampled_from(CODECS))
def test_random_stored_bytes_never_raise_anything_but_decode_error(junk: bytes, codec: str) -> None:
    data = _segmentation([64, 64], codec, junk)
    with pytest.raises(DecodeError):
        rc.decode_record(data)


class TestSave:
    def test_save_with_compression_writes_compressed_records(self, tmp_path: Path) -> None:
        import rerun_sinks as rr

        rec = rr.new_recording("app", strict=True, clock=lambda: 5)
        depth = _smooth((64, 80), "uint16")
        rec.set_time_sequence("frame", 1)
        rec.log_depth_image("cam/depth", depth)
        path = tmp_path / "a.rrc"
        rec.save(path, compression="zstd")
        rec.disconnect()
        data = path.read_bytes()
        assert {_kind(data[s.offset :]) for s in rc.scan_records(data)} == {2, 3}
        [record] = read_records(path)
        assert np.array_equal(record.msg.pixels, depth)  # type: ignore[union-attr]

    def test_facade_save_takes_compression(self, tmp_path: Path) -> None:
        import rerun_sinks as rr

        rr.init("app", strict=True)
        rr.log_segmentation_image("seg", _smooth((64, 80), "uint8"))
        rr.save(tmp_path / "a.rrc", compression="lz4")
        rr.disconnect()
        assert len(list(read_records(tmp_path / "a.rrc"))) == 1

    @pytest.mark.parametrize("name", ["a.mcap", "a.rrd"])
    def test_compression_is_for_rrc_files_only(self, tmp_path: Path, name: str) -> None:
        import rerun_sinks as rr

        rec = rr.new_recording("app", strict=True)
        with pytest.raises(InvalidArgumentError, match=r"is for \.rrc files"):
            rec.save(tmp_path / name, compression="zstd")
        assert not (tmp_path / name).exists()
