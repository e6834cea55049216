"""The wire format: framing checks, versions, damage, and only DecodeError on bad bytes."""

from __future__ import annotations

import contextlib
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import DecodeError


def _records() -> list[rc.Record]:
    rgb = rc.make_image_msg(np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3), ext={"a": 1})
    depth = rc.make_depth_msg(np.full((3, 2), np.nan, np.float32), meter=2.0)
    seg = rc.make_segmentation_msg(np.arange(6, dtype=np.int64).reshape(2, 3))
    ctx = rc.make_annotation_context_msg([(1, "a", "#102030")])
    ext = rc.make_extension_msg({"v": [1.5, 2.5]}, identifiers=[4, 5])
    return [
        rc.make_record(
            "cam/rgb", rgb, timepoint={"frame": ("sequence", 1)}, log_tick=0, log_time_ns=10
        ),
        rc.make_record(
            "cam/depth", depth, timepoint={"t": ("time", 5)}, log_tick=1, log_time_ns=11
        ),
        rc.make_record("cam/seg", seg, log_tick=2, log_time_ns=12),
        rc.make_record("/", ctx, timeless=True, log_tick=3),
        rc.make_record("ext", ext, log_tick=4, log_time_ns=13),
    ]


def _stream() -> tuple[bytes, list[int]]:
    encoded = [rc.encode_record(r) for r in _records()]
    offsets = [sum(len(e) for e in encoded[:i]) for i in range(len(encoded))]
    return b"".join(encoded), offsets


def _reframe(record: bytes, *, major: int | None = None, kind: int | None = None) -> bytes:
    """Rewrite header fields and fix both CRCs, as a newer writer would."""
    data = bytearray(record)
    if major is not None:
        data[4] = major
    if kind is not None:
        struct.pack_into("<H", data, 6, kind)
    struct.pack_into("<I", data, 20, zlib.crc32(data[:20]))
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(data[:-4]))
    return bytes(data)


class TestRoundTrip:
    def test_every_record_round_trips(self) -> None:
        for record in _records():
            assert rc.decode_record(rc.encode_record(record)) == record

    def test_parts_join_to_bytes(self) -> None:
        for record in _records():
            assert b"".join(rc.encode_record_parts(record)) == rc.encode_record(record)

    def test_pixel_part_is_zero_copy(self) -> None:
        record = rc.make_record("a", rc.make_image_msg(np.ones((64, 64, 3), np.uint8)))
        parts = rc.encode_record_parts(record)
        pixel_part = parts[1]
        assert isinstance(pixel_part, memoryview)
        assert record.msg.pixels is not None
        assert np.shares_memory(np.frombuffer(pixel_part, np.uint8), record.msg.pixels)

    def test_decoded_pixels_are_zero_copy_and_immutable(self) -> None:
        data = rc.encode_record(_records()[0])
        decoded = rc.decode_record(data)
        assert isinstance(decoded.msg, rc.ImageMsg)
        assert decoded.msg.pixels is not None
        assert np.shares_memory(decoded.msg.pixels, np.frombuffer(data, np.uint8))
        with pytest.raises(ValueError, match="WRITEABLE"):
            decoded.msg.pixels.setflags(write=True)

    def test_records_are_8_aligned(self) -> None:
        assert all(len(rc.encode_record(r)) % 8 == 0 for r in _records())

    def test_stream_iterates_in_order(self) -> None:
        stream, _ = _stream()
        assert list(rc.iter_records(stream)) == _records()
        assert list(rc.iter_records(b"")) == []


class TestFraming:
    def test_trailing_bytes_raise(self) -> None:
        data = rc.encode_record(_records()[0])
        with pytest.raises(DecodeError, match="trailing") as caught:
            rc.decode_record(data + b"\0")
        assert caught.value.offset == len(data)

    def test_unknown_major_version_raises(self) -> None:
        data = _reframe(rc.encode_record(_records()[0]), major=2)
        with pytest.raises(DecodeError, match="major version 2"):
            rc.decode_record(data)

    def test_newer_minor_version_reads(self) -> None:
        data = bytearray(rc.encode_record(_records()[0]))
        data[5] = 7
        assert rc.decode_record(_reframe(bytes(data))) == _records()[0]

    def test_unknown_kind_is_skipped_in_streams(self) -> None:
        first, second = (rc.encode_record(r) for r in _records()[:2])
        stream = first + _reframe(first, kind=99) + second
        assert list(rc.iter_records(stream)) == _records()[:2]
        with pytest.raises(DecodeError, match="kind 99"):
            rc.decode_record(_reframe(first, kind=99))

    def test_bad_magic(self) -> None:
        with pytest.raises(DecodeError, match="magic") as caught:
            rc.decode_record(b"PK\x03\x04" + bytes(40))
        assert caught.value.offset == 0

    def test_short_header(self) -> None:
        with pytest.raises(DecodeError, match="truncated record header"):
            rc.decode_record(b"\x89RRC\x01")

    def test_unsupported_dtype_in_metadata_is_decode_error(self) -> None:
        record = rc.make_record("a", rc.make_extension_msg({"v": [1]}))
        data = rc.encode_record(record).replace(b"<i8", b"|O8")
        with pytest.raises(DecodeError, match="metadata is invalid"):
            rc.decode_record(_reframe(data))


class TestDamage:
    def test_truncation_at_every_offset_of_last_record(self) -> None:
        stream, offsets = _stream()
        last = offsets[-1]
        tried = 0
        for cut in range(last, len(stream)):
            spans = list(rc.scan_records(stream[:cut]))
            intact = [s for s in spans if s.error is None]
            assert len(intact) == len(offsets) - 1
            if cut > last:
                assert spans[-1].error is not None
                assert spans[-1].offset == last
            with pytest.raises(DecodeError) as caught:
                list(rc.iter_records(stream[:cut])) if cut > last else rc.decode_record(
                    stream[last:cut]
                )
            assert caught.value.offset in (0, last)
            tried += 1
        assert tried == len(stream) - last

    def test_one_flipped_byte_loses_at_most_one_record(self) -> None:
        stream, offsets = _stream()
        for position in range(len(stream)):
            damaged = bytearray(stream)
            damaged[position] ^= 0x40
            intact = [s.offset for s in rc.scan_records(bytes(damaged)) if s.error is None]
            hit = max(o for o in offsets if o <= position)
            assert intact == [o for o in offsets if o != hit], position

    @settings(max_examples=300)
    @given(st.binary(max_size=512))
    def test_random_bytes_raise_only_decode_error(self, data: bytes) -> None:
        errors = [s.error for s in rc.scan_records(data) if s.error is not None]
        assert all(0 <= e.offset <= len(data) for e in errors)
        for span in rc.scan_records(data):
            assert span.length > 0

    @settings(max_examples=300)
    @given(st.data())
    def test_mutated_records_raise_only_decode_error(self, data: st.DataObject) -> None:
        stream, _ = _stream()
        mutated = bytearray(stream)
        for _ in range(data.draw(st.integers(1, 4))):
            position = data.draw(st.integers(0, len(mutated) - 1))
            mutated[position] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(0, len(mutated)))
        candidate = bytes(mutated[:cut])
        with contextlib.suppress(DecodeError):
            list(rc.iter_records(candidate))
        assert sum(s.length for s in rc.scan_records(candidate)) == len(candidate)

    @settings(max_examples=200)
    @given(st.data())
    def test_mutated_metadata_with_fixed_crcs_raises_only_decode_error(
        self, data: st.DataObject
    ) -> None:
        record = rc.encode_record(_records()[data.draw(st.integers(0, 4))])
        (meta_len,) = struct.unpack_from("<I", record, 8)
        mutated = bytearray(record)
        for _ in range(data.draw(st.integers(1, 3))):
            position = data.draw(st.integers(24, 24 + meta_len - 1))
            mutated[position] = data.draw(st.integers(0, 255))
        with contextlib.suppress(DecodeError):
            rc.decode_record(_reframe(bytes(mutated)))

    def test_huge_declared_length_is_not_allocated(self) -> None:
        header = bytearray(struct.pack("<4sBBHIQI", b"\x89RRC", 1, 0, 1, 10, 2**62, 0))
        struct.pack_into("<I", header, 20, zlib.crc32(header[:20]))
        with pytest.raises(DecodeError, match="truncated record"):
            rc.decode_record(bytes(header))
