"""RecordEncoder: the bytes of encode_record_parts (the canonical cattrs/CBOR encoding)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst

SHARED = rc.RecordEncoder()  # templates outlive a single example, as in a sink


@given(st.lists(rcst.records(), min_size=1, max_size=8))
def test_bytes_equal_the_canonical_encoder(records: list[rc.Record]) -> None:
    fresh = rc.RecordEncoder()
    for record in records:
        expected = b"".join(rc.encode_record_parts(record))
        assert b"".join(fresh.encode_parts(record)) == expected
        assert b"".join(SHARED.encode_parts(record)) == expected


@given(
    st.sampled_from([0.0, -0.0, 1.0, 1.5, -10.0, 1e300, 5e-324]),
    st.integers(0, 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
)
def test_templates_tell_apart_what_cbor_tells_apart(order, tick, when):
    """Equal floats with different encodings (0.0 and -0.0) never share a template."""
    pixels = np.zeros((2, 3), np.uint16)
    for msg in (
        rc.make_image_msg(pixels, draw_order=order),
        rc.make_depth_msg(pixels, meter=abs(order) or 1.0, draw_order=order),
        rc.make_segmentation_msg(pixels, draw_order=order),
    ):
        record = rc.make_record("a/b", msg, log_tick=tick, log_time_ns=when)
        assert b"".join(SHARED.encode_parts(record)) == rc.encode_record(record)


def test_the_pixels_are_not_copied():
    """The pixel part is the message's own memory: its bytes, or a view of its array."""
    msg = rc.make_image_msg(np.ones((4, 4, 3), np.uint8))
    parts = rc.RecordEncoder().encode_parts(rc.make_record("x", msg))
    assert any(p is msg.pixels.base for p in parts)
    window = memoryview(b"\x00" * 8 + bytes(msg.pixels.base))[8:]  # a view, not its own bytes
    viewed = rc.make_image_msg(np.frombuffer(window, np.uint8).reshape(4, 4, 3))
    assert viewed.pixels.base is not None
    parts = rc.RecordEncoder().encode_parts(rc.make_record("x", viewed))
    assert any(isinstance(p, memoryview) and p.obj is viewed.pixels for p in parts)


_BOUNDARIES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1]
_INT64S = st.sampled_from(_BOUNDARIES + [-1 - b for b in _BOUNDARIES]) | st.integers(
    -(2**63), 2**63 - 1
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "a/b", "/"]),
            st.dictionaries(
                st.sampled_from(["frame", "t", "é", "zz"]),
                st.tuples(st.sampled_from(["sequence", "time"]), _INT64S),
                max_size=3,
            ),
            st.booleans(),
            st.sampled_from(_BOUNDARIES),
            _INT64S,
        ),
        min_size=1,
        max_size=12,
    )
)
def test_field_templates_give_the_canonical_bytes(fields) -> None:
    """Records that share a template's key but not its integers or kinds, at CBOR's size steps."""
    msg = rc.make_image_msg(np.zeros((2, 3, 3), np.uint8))
    encoder = rc.RecordEncoder()
    for path, timepoint, timeless, tick, when in fields:
        record = rc.make_record(
            path,
            msg,
            timepoint=None if timeless else timepoint,
            timeless=timeless,
            log_tick=tick,
            log_time_ns=when,
        )
        expected = rc.encode_record(record)
        parts, size = encoder.encode_sized(record)
        assert b"".join(parts) == expected
        assert size == len(expected)
        assert b"".join(SHARED.encode_parts(record)) == expected


@given(rcst.records())
def test_encode_sized_counts_the_bytes_of_every_kind(record: rc.Record) -> None:
    parts, size = SHARED.encode_sized(record)
    assert size == len(b"".join(parts)) == len(rc.encode_record(record))
