"""RecordDecoder: the records and errors of decode_record (the canonical cattrs decoder)."""

from __future__ import annotations

import mmap
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import cbor2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rerun_core as rc
from rerun_core import _decoder
from rerun_core import strategies as rcst
from rerun_core._encoder import MAX_TEMPLATES
from rerun_core.catalog import decode_record_at

SHARED = rc.RecordDecoder()  # templates outlive a single example, as in a reader
_BOUNDARIES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1]
_INT64S = st.sampled_from(_BOUNDARIES + [-1 - b for b in _BOUNDARIES]) | st.integers(
    -(2**63), 2**63 - 1
)
_TICKS = st.sampled_from(_BOUNDARIES) | st.integers(0, 2**63 - 1)
_KINDS = (
    [
        ("image", dtype, channels)
        for dtype in ("uint8", "uint16", "float16", "float32", "float64")
        for channels in (1, 3, 4)
    ]
    + [("depth", dtype, 1) for dtype in ("uint8", "uint16", "float32", "float64")]
    + [("segmentation", dtype, 1) for dtype in ("uint8", "uint16", "bool", "int64")]
)


def _owner(array: np.ndarray) -> object:
    """The object whose memory ``array`` views (itself when it owns its memory)."""
    owner: Any = array
    while isinstance(owner, np.ndarray) and owner.base is not None:
        owner = owner.base
    return owner.obj if isinstance(owner, memoryview) else owner


def assert_same(fast: rc.Record, slow: rc.Record, source: object = None) -> None:
    """Equal records, field types, array layouts, read-only flags; views of ``source`` alike."""
    assert fast == slow
    for a, b in ((fast, slow), (fast.msg, slow.msg)):
        assert type(a) is type(b)
        for field in attrs.fields(type(a)):
            assert type(getattr(a, field.name)) is type(getattr(b, field.name)), field.name
    assert [type(t) for t in fast.timepoint.values()] == [type(t) for t in slow.timepoint.values()]
    for name in ("pixels", "encoded"):
        a, b = getattr(fast.msg, name, None), getattr(slow.msg, name, None)
        if isinstance(a, np.ndarray):
            assert (a.dtype.str, a.shape, a.strides) == (b.dtype.str, b.shape, b.strides)
            assert not a.flags.writeable
            assert not b.flags.writeable
            assert (_owner(a) is source) == (_owner(b) is source)


def outcome(decode: Any, data: Any) -> tuple[Any, ...]:
    try:
        return ("ok", decode(data))
    except rc.DecodeError as error:
        return ("error", str(error), error.offset)


def assert_same_outcome(decoder: rc.RecordDecoder, data: Any) -> None:
    fast, slow = outcome(decoder.decode, data), outcome(rc.decode_record, data)
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] == "ok":
        assert_same(fast[1], slow[1])
    else:
        assert fast == slow


def _msg(kind: str, pixels: np.ndarray, channels: int, data: st.DataObject) -> rc.Message:
    order = data.draw(rcst.draw_orders(), label="draw_order")
    if kind == "image":
        model = data.draw(rcst.color_models_for(channels))
        return rc.make_image_msg(pixels, color_model=model, draw_order=order)
    if kind == "depth":
        return rc.make_depth_msg(pixels, meter=data.draw(rcst.meters()), draw_order=order)
    return rc.make_segmentation_msg(pixels, draw_order=order)


def _arrays(kind: str, dtype: str, channels: int) -> st.SearchStrategy[np.ndarray]:
    if kind == "image":
        return rcst.image_arrays(dtype=dtype, channels=channels, max_side=6)
    if kind == "depth":
        return rcst.depth_arrays(dtype=dtype, max_side=6)
    return rcst.segmentation_arrays(dtype=dtype, max_side=6)


def _restamped(record: rc.Record, msg: rc.Message, data: st.DataObject) -> rc.Record:
    """``record`` with ``msg`` and new integers: the same template, other tick and times."""
    timepoint = {name: (t.kind, data.draw(_INT64S)) for name, t in record.timepoint.items()}
    return rc.make_record(
        record.entity_path,
        msg,
        timepoint=None if record.timeless else timepoint,
        timeless=record.timeless,
        log_tick=data.draw(_TICKS),
        log_time_ns=data.draw(_INT64S),
    )


@pytest.mark.parametrize(("kind", "dtype", "channels"), _KINDS)
@given(data=st.data())
def test_every_kind_dtype_and_channels_decodes_as_the_canonical_decoder(
    kind: str, dtype: str, channels: int, data: st.DataObject
) -> None:
    msg = _msg(kind, data.draw(_arrays(kind, dtype, channels), label="pixels"), channels, data)
    timepoint = data.draw(
        st.dictionaries(
            st.sampled_from(["frame", "t", "é", "zz"]),
            st.tuples(st.sampled_from(["sequence", "time"]), _INT64S),
            max_size=3,
        )
    )
    timeless = data.draw(st.booleans())
    record = rc.make_record(
        data.draw(rcst.entity_paths()),
        msg,
        timepoint=None if timeless else timepoint,
        timeless=timeless,
        log_tick=data.draw(_TICKS),
        log_time_ns=data.draw(_INT64S),
    )
    others = []
    for _ in range(data.draw(st.integers(1, 3))):  # same layout, other pixels and integers
        pixels = data.draw(hnp.arrays(msg.pixels.dtype, msg.pixels.shape), label="more pixels")
        others.append(_restamped(record, attrs.evolve(msg, pixels=pixels), data))
    fresh = rc.RecordDecoder()
    for item in [record, *others]:
        for buffer in (rc.encode_record(item), bytearray(rc.encode_record(item))):
            expected = rc.decode_record(buffer)
            assert expected == item
            assert_same(fresh.decode(buffer), expected, buffer)
            assert_same(SHARED.decode(buffer), expected, buffer)


@given(st.lists(rcst.records(), min_size=1, max_size=6), st.data())
def test_any_record_decodes_as_the_canonical_decoder(
    records: list[rc.Record], data: st.DataObject
) -> None:
    fresh = rc.RecordDecoder()
    items = records + [_restamped(r, r.msg, data) for r in records]
    for item in items:
        encoded = rc.encode_record(item)
        assert_same(fresh.decode(encoded), rc.decode_record(encoded), encoded)
        assert_same(SHARED.decode(encoded), rc.decode_record(encoded), encoded)
    stream = b"".join(rc.encode_record(r) for r in items)
    spans = list(rc.scan_records(stream))
    for fast, span in zip(rc.iter_records(stream), spans, strict=True):
        assert_same(fast, decode_record_at(stream, span.offset), stream)


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count the calls of ``_decoder.<name>`` (the slow path, or building a template)."""
    calls: list[int] = []
    original = getattr(_decoder, name)

    def counted(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(_decoder, name, counted)
    return calls


def test_a_layout_seen_twice_skips_the_slow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    pixels = np.arange(12, dtype=np.uint16).reshape(3, 4)
    records = [
        rc.make_record("d", rc.make_depth_msg(pixels + i), timepoint={"f": ("sequence", i)})
        for i in range(4)
    ]
    slow = _counting(monkeypatch, "_decode_parts")
    decoder = rc.RecordDecoder()
    assert [decoder.decode(rc.encode_record(r)) for r in records] == records
    assert len(slow) == 2


def test_layouts_seen_once_build_no_template(monkeypatch: pytest.MonkeyPatch) -> None:
    msg = rc.make_segmentation_msg(np.zeros((2, 2), np.uint8))
    encoded = [rc.encode_record(rc.make_record(f"e{i}", msg, log_tick=i)) for i in range(10)]
    built = _counting(monkeypatch, "_Template")
    decoder = rc.RecordDecoder()
    for expected_builds in (0, 10, 10):  # each layout once, twice, three times
        assert [decoder.decode(e) for e in encoded] == [rc.decode_record(e) for e in encoded]
        assert len(built) == expected_builds


def test_pixels_view_a_read_only_map_as_the_canonical_decoder_does() -> None:
    msg = rc.make_image_msg(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    stream = b"".join(rc.encode_record(rc.make_record("a", msg, log_tick=i)) for i in range(3))
    with mmap.mmap(-1, len(stream)) as writable:
        writable.write(stream)
        decoded = list(rc.RecordDecoder().iter_records(writable))  # writable: copied
        assert all(_owner(r.msg.pixels) is not writable for r in decoded)
    decoder = rc.RecordDecoder()
    for span in rc.scan_records(stream):
        fast = decoder.decode_at(stream, span.offset)
        assert_same(fast, decode_record_at(stream, span.offset), stream)
        assert _owner(fast.msg.pixels) is stream


def test_more_layouts_than_templates_still_decode() -> None:
    decoder = rc.RecordDecoder()
    msg = rc.make_segmentation_msg(np.zeros((1, 1), np.uint8))
    for index in range(MAX_TEMPLATES + 5):
        encoded = rc.encode_record(rc.make_record(f"e{index}", msg, log_tick=index))
        assert decoder.decode(encoded) == rc.decode_record(encoded)
        assert decoder.decode(encoded) == rc.decode_record(encoded)


def test_one_decoder_shared_by_threads_decodes_every_record() -> None:
    records = [
        rc.make_record(
            f"e{index % 7}",
            rc.make_depth_msg(np.full((4, 4), index, np.uint16)),
            timepoint={"f": ("sequence", index)},
            log_tick=index,
        )
        for index in range(2000)
    ]
    decoder = rc.RecordDecoder()
    with ThreadPoolExecutor(4) as pool:
        decoded = list(pool.map(decoder.decode, [rc.encode_record(r) for r in records]))
    assert decoded == records


# -- damaged and hostile records --------------------------------------------------------------


def _split(encoded: bytes) -> tuple[bytes, bytes]:
    meta_len, payload_len = struct.unpack_from("<IQ", encoded, 8)
    start = 24 + meta_len + (-(24 + meta_len) % 8)
    return encoded[24 : 24 + meta_len], encoded[start : start + payload_len]


def _frame(meta: bytes, payload: bytes, kind: int = 1) -> bytes:
    """A record frame with valid CRCs around any metadata and payload."""
    head = struct.pack("<4sBBHIQ", b"\x89RRC", 1, 0, kind, len(meta), len(payload))
    body = head + struct.pack("<I", zlib.crc32(head)) + meta + bytes(-(24 + len(meta)) % 8)
    body += payload + bytes(-(len(payload) + 4) % 8)
    return body + struct.pack("<I", zlib.crc32(body))


_TEMPLATE = rc.make_record(
    "cam/rgb",
    rc.make_image_msg(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3), draw_order=1.5),
    timepoint={"frame": ("sequence", 300), "t": ("time", 70_000)},
    log_tick=5,
    log_time_ns=1_000_000,
)
_MARKERS = {"log_tick": 0x1234_5678_9A, "frame": 0x2234_5678_9A, "log_time_ns": 0x3234_5678_9A}


def _int_forms(value: int) -> list[bytes]:
    """Every CBOR encoding of an integer, shortest and longer ones."""
    major, magnitude = (0x00, value) if value >= 0 else (0x20, -1 - value)
    forms = [bytes([major | magnitude])] if magnitude < 24 else []
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if magnitude < 1 << (8 * size):
            forms.append(bytes([major | info]) + magnitude.to_bytes(size, "big"))
    return forms


def _encoded_ints(values: st.SearchStrategy[int]) -> st.SearchStrategy[bytes]:
    return values.flatmap(lambda value: st.sampled_from(_int_forms(value)))


_VALID = {
    "log_tick": _encoded_ints(_TICKS),
    "frame": _encoded_ints(_INT64S),
    "log_time_ns": _encoded_ints(_INT64S),
}
_HOSTILE = st.one_of(
    _encoded_ints(st.integers(-(2**64), 2**64 - 1)),
    st.sampled_from([2**63, -(2**63) - 1, 2**64 - 1, -(2**64), -1]).map(cbor2.dumps),
    st.sampled_from([1.0, 0.5, True, False, None, "1", b"1", [1]]).map(cbor2.dumps),
    st.sampled_from([b"\x1c", b"\x1f", b"\x19\x01", b"\x3b", b""]),  # reserved, short, none
)


def _crafted(items: dict[str, bytes], payload_size: int = 24, kind: int = 1) -> bytes:
    """``_TEMPLATE``'s record with ``items`` in its integer slots and a cut or padded payload."""
    meta, payload = _split(rc.encode_record(_TEMPLATE))
    tree = cbor2.loads(meta)
    tree["log_tick"], tree["log_time_ns"] = _MARKERS["log_tick"], _MARKERS["log_time_ns"]
    tree["timepoint"][0]["value"] = _MARKERS["frame"]
    crafted = cbor2.dumps(tree, canonical=True)
    for slot, marker in _MARKERS.items():
        crafted = crafted.replace(cbor2.dumps(marker), items[slot])
    return _frame(crafted, (payload + bytes(8))[:payload_size], kind)


def _check_crafted(data: bytes) -> None:
    for decoder in (rc.RecordDecoder(), SHARED):
        decoder.decode(rc.encode_record(_TEMPLATE))  # the template is known
        assert_same_outcome(decoder, data)
        streamed = outcome(lambda d, stream=decoder.iter_records: list(stream(d)), data)
        assert streamed[0] == outcome(rc.decode_record, data)[0]


@given(
    st.fixed_dictionaries(_VALID),
    st.sampled_from([None, *_MARKERS]),
    _HOSTILE,
    st.sampled_from([0, 17, 18, 19, 24, 32]),  # the pixels are 18 bytes
    st.sampled_from([1, 3]),
)
def test_any_items_in_the_integer_slots_give_the_canonical_outcome(
    items: dict[str, bytes], hostile_slot: str | None, hostile: bytes, payload_size: int, kind: int
) -> None:
    """Integers of any width or range, other CBOR items, short payloads, compressed kind."""
    if hostile_slot is not None:
        items = {**items, hostile_slot: hostile}
    _check_crafted(_crafted(items, payload_size, kind))


@pytest.mark.parametrize("slot", _MARKERS)
@pytest.mark.parametrize("value", [-1, 2**63, -(2**63) - 1, 2**64 - 1, -(2**64)])
def test_integers_out_of_range_raise_the_canonical_error(slot: str, value: int) -> None:
    items = {name: cbor2.dumps(7) for name in _MARKERS}
    for form in _int_forms(value):
        data = _crafted({**items, slot: form})
        if slot == "log_tick" or value != -1:
            with pytest.raises(rc.DecodeError, match="must be in"):
                rc.decode_record(data)
        _check_crafted(data)


@given(st.data())
def test_mutated_metadata_with_valid_crcs_gives_the_canonical_outcome(data: st.DataObject) -> None:
    meta, payload = _split(rc.encode_record(_TEMPLATE))
    mutated = bytearray(meta)
    for _ in range(data.draw(st.integers(1, 3))):
        mutated[data.draw(st.integers(0, len(meta) - 1))] = data.draw(st.integers(0, 255))
    SHARED.decode(rc.encode_record(_TEMPLATE))
    assert_same_outcome(SHARED, _frame(bytes(mutated), payload))


_DAMAGE = r"CRC mismatch|bad record magic|truncated record"


@given(st.data())
def test_a_damaged_record_of_a_known_layout_raises_decode_error(data: st.DataObject) -> None:
    encoded = rc.encode_record(_TEMPLATE)
    decoder = rc.RecordDecoder()
    decoder.decode(encoded)
    damaged = bytearray(encoded)
    position = data.draw(st.integers(0, len(encoded) - 1))
    damaged[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(rc.DecodeError, match=_DAMAGE):
        decoder.decode(bytes(damaged))
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(rc.DecodeError, match="truncated"):
        decoder.decode(encoded[:cut])
    with pytest.raises(rc.DecodeError, match=_DAMAGE):
        list(decoder.iter_records(encoded + bytes(damaged)))
