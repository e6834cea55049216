"""McapSink's per-layout plans: what is built once equals what would be built per record."""

from __future__ import annotations

import io

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_sinks import McapSink, read_mcap_records
from rerun_sinks._foxglove import (
    RAW_IMAGE,
    FoxgloveImage,
    fill_side_stamp,
    fill_side_static,
    foxglove_image,
    image_data,
    layout_key,
    side_key,
)

pytest.importorskip(
    "foxglove", reason="McapSink needs the [mcap] extra: pip install 'rerun-core[mcap]'"
)

from rerun_sinks import _mcap, _mcap_schema
from rerun_sinks._mcap_plan import SideStamp, raw_image_builder

SIDE = _mcap_schema.message_class("Record")


def _static(msg: rc.Message) -> bytes:
    side = SIDE()
    fill_side_static(side, ("cam",), msg, foxglove_image(msg))
    return side.SerializeToString()


DEPTHS = st.builds(  # more depth images than rcst.messages() gives: their meter is in the key
    rc.make_depth_msg, rcst.depth_arrays(), meter=rcst.meters(), draw_order=rcst.draw_orders()
)


ORDERS = st.sampled_from((None, 0.0, -0.0, 1.5))  # few values: pairs often share one
METERS = st.sampled_from((None, 1.0, 1000.0))


@st.composite
def same_layout_pairs(draw: st.DrawFn) -> tuple[rc.Message, rc.Message]:
    """Two messages alike but for their pixel values (shuffled), draw orders and meters."""
    msg = draw(st.one_of(rcst.messages(), DEPTHS))
    if isinstance(msg, rc.AnnotationContextMsg | rc.ExtensionMsg):
        return msg, msg
    pair = []
    for _ in range(2):
        changes = {"draw_order": draw(ORDERS)}
        if isinstance(msg, rc.DepthMsg):
            changes["meter"] = draw(METERS)
        pixels = msg.pixels
        if pixels is not None:
            order = np.array(draw(st.permutations(range(pixels.size))), np.intp)
            changes["pixels"] = pixels.reshape(-1)[order].reshape(pixels.shape)
        pair.append(attrs.evolve(msg, **changes))
    return pair[0], pair[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(same_layout_pairs())
def test_equal_layout_keys_mean_equal_foxglove_fields_and_side_statics(pair):
    first, second = pair
    key = layout_key(first)
    if key is None:
        assert isinstance(first, rc.AnnotationContextMsg | rc.ExtensionMsg) or first.ext
        return
    if key != layout_key(second):
        return
    image, other = foxglove_image(first), foxglove_image(second)
    assert image._replace(data=b"") == other._replace(data=b"")
    assert side_key(first, image) == side_key(second, other)
    if side_key(first, image) is not None:
        assert _static(first) == _static(second)
        assert image_data(first, image)(second) == other.data  # the plan's data is the form's


@given(same_layout_pairs())
def test_only_pixel_values_keep_the_layout_key(pair):
    first, second = pair
    changed = getattr(first, "draw_order", None), getattr(first, "meter", None)
    same = getattr(second, "draw_order", None), getattr(second, "meter", None)
    if layout_key(first) is not None and str(changed) == str(same):  # -0.0 is not 0.0
        assert layout_key(first) == layout_key(second)


def test_pixel_data_is_the_frozen_pixels_own_bytes():
    msg = rc.make_depth_msg(np.arange(12, dtype=np.uint16).reshape(3, 4), meter=1000)
    data = image_data(msg, foxglove_image(msg))(msg)
    assert data is msg.pixels.base  # no copy of the pixels


INT64 = st.integers(-(2**63), 2**63 - 1)
TIMEPOINTS = st.dictionaries(  # few names and kinds: records often share timelines, or nearly
    st.sampled_from(("frame", "t", "u")),
    st.builds(rc.TimeValue, st.sampled_from(("sequence", "time")), INT64),
    min_size=1,
    max_size=2,
)


@st.composite
def stamped_records(draw: st.DrawFn) -> rc.Record:
    """Records on a few shared timelines (so the kept entries are reused), or timeless."""
    msg = rc.make_image_msg(np.zeros((1, 1), np.uint8))
    timeless = draw(st.booleans()) and draw(st.booleans())
    return rc.make_record(
        "cam",
        msg,
        timepoint=None if timeless else draw(TIMEPOINTS),
        timeless=timeless,
        log_tick=draw(st.integers(0, 2**63 - 1)),
        log_time_ns=draw(INT64),
    )


@settings(max_examples=300)
@given(st.lists(st.tuples(stamped_records(), st.integers(0, 2**32 - 1)), min_size=2, max_size=12))
def test_side_stamps_equal_freshly_filled_messages(stamps):
    stamper = SideStamp(SIDE())
    for record, sequence in stamps:
        fresh = SIDE()
        fill_side_stamp(fresh, record, sequence)
        assert stamper.serialize(record, sequence) == fresh.SerializeToString()


def test_more_layouts_than_kept_plans_read_back_exactly():
    records = [
        rc.make_record(
            "cam",
            rc.make_image_msg(np.full((1, width), width, np.uint8), draw_order=float(width % 3)),
            timepoint={"frame": rc.TimeValue("sequence", width)},
            log_tick=width,
            log_time_ns=width,
        )
        for width in range(1, 2 * _mcap._MAX_PLANS + 2)
    ]
    records += records[::-1]  # the layouts again: kept plans and plans made again
    stream = io.BytesIO()
    with McapSink(stream) as sink:
        for record in records:
            sink.write(record)
    stream.seek(0)
    assert list(read_mcap_records(stream)) == records


ENCODINGS = st.sampled_from(("mono8", "rgb8", "rgba8", "bgr8", "bgra8", "mono16", "16UC1", "32FC1"))
BYTES_PER_PIXEL = {"mono8": 1, "rgb8": 3, "rgba8": 4, "bgr8": 3, "bgra8": 4}


@given(ENCODINGS, st.integers(1, 40), st.integers(1, 40), st.text(max_size=12), st.data())
def test_raw_image_bytes_equal_foxglove_sdk_and_protobuf_encodings(
    encoding, width, height, frame_id, data
):
    """The bytes a plan logs are the message foxglove-sdk and protobuf would serialize."""
    from foxglove.messages import RawImage, Timestamp
    from foxglove_schemas_protobuf.RawImage_pb2 import RawImage as PbRawImage
    from google.protobuf.timestamp_pb2 import Timestamp as PbTimestamp

    sec, nsec = data.draw(st.integers(0, 2**32 - 1)), data.draw(st.integers(0, 10**9 - 1))
    step = width * BYTES_PER_PIXEL.get(encoding, 2 if "16" in encoding else 4)
    pixels = data.draw(st.binary(min_size=step * height, max_size=step * height))
    image = FoxgloveImage(RAW_IMAGE, encoding, width, height, step, pixels)
    got = raw_image_builder(RawImage, image, frame_id)(Timestamp(sec, nsec), pixels)
    fields = {"frame_id": frame_id, "width": width, "height": height, "encoding": encoding}
    own = RawImage(timestamp=Timestamp(sec, nsec), step=step, data=pixels, **fields)
    assert got == own.encode()
    timestamp = PbTimestamp(seconds=sec, nanos=nsec)
    protobuf = PbRawImage(timestamp=timestamp, step=step, data=pixels, **fields)
    assert got == protobuf.SerializeToString(deterministic=True)
