"""RecordBatch: ``encode()`` is the bytes of its ``records()``, in any chunking."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_core.unchecked import new_time_value

INT64 = st.integers(-(2**63), 2**63 - 1)
# The values where a CBOR integer's encoded length changes, and the int64 ends.
EDGES = st.sampled_from(
    [s * e + d for e in (0, 24, 256, 2**16, 2**32) for s in (1, -1) for d in (-1, 0)]
    + [2**63 - 1, -(2**63)]
)
VALUES = st.one_of(INT64, EDGES, st.integers(-30, 300))
NAMES = st.sampled_from(["frame", "t", "a", "zz", "é"])


@st.composite
def batches(draw: st.DrawFn) -> rc.RecordBatch:
    kind = draw(st.sampled_from(["image", "depth", "segmentation"]))
    proto = draw(
        {
            "image": rcst.image_arrays(max_side=4),
            "depth": rcst.depth_arrays(max_side=4),
            "segmentation": rcst.segmentation_arrays(max_side=4),
        }[kind]
    )
    count = draw(st.integers(0, 9))  # 0: a batch of no records encodes to nothing
    block = draw(
        hnp.arrays(
            proto.dtype, (max(count, 1), *proto.shape), elements={"min_value": 0, "max_value": 1}
        )
    )
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["draw_order"] = draw(rcst.draw_orders())
    if draw(st.booleans()):
        options["ext"] = draw(rcst.ext_components())
    frames = rc.make_column_frames(block, kind=kind, **options)
    assert isinstance(frames, rc.ColumnFrames)
    frames = rc.ColumnFrames(frames.template, frames.pixels[:count])
    shared = {
        name: new_time_value(kind=draw(st.sampled_from(["sequence", "time"])), value=draw(VALUES))
        for name in draw(st.lists(NAMES, unique=True, max_size=3))
    }
    columns = {
        name: (
            draw(st.sampled_from(["sequence", "time"])),
            np.array(draw(st.lists(VALUES, min_size=count, max_size=count)), np.int64),
        )
        for name in draw(st.lists(NAMES, unique=True, max_size=3))
    }
    first_tick = draw(st.one_of(st.just(0), st.integers(0, 2**40), st.just(2**63 - 1 - count)))
    clocks = np.array(draw(st.lists(VALUES, min_size=count, max_size=count)), np.int64)
    path = tuple(draw(st.lists(NAMES, min_size=1, max_size=3)))
    return rc.RecordBatch(path, frames, MappingProxyType(shared), columns, first_tick, clocks)


@given(batch=batches(), records=st.integers(0, 10))
def test_encode_is_the_bytes_of_the_records_in_any_chunking(
    batch: rc.RecordBatch, records: int
) -> None:
    expected = [rc.encode_record(record) for record in batch.records()]
    encoded = batch.encode()
    chunks = list(encoded.chunks(records))
    data = b"".join(part for parts, _ in chunks for part in parts)
    assert data == b"".join(expected)
    assert [size for _, size in chunks] == [sum(len(p) for p in parts) for parts, _ in chunks]
    assert encoded.lengths.tolist() == [len(record) for record in expected]
    assert encoded.nbytes == len(data)
    assert b"".join(batch.encode().parts) == data
    for record, offset in zip(batch.records(), encoded.pixel_offsets.tolist(), strict=True):
        pixels = record.msg.pixels
        assert data[offset : offset + pixels.nbytes] == pixels.tobytes()
    assert list(rc.iter_records(data)) == batch.records()
