"""Codec laws over every valid record the public strategies can draw."""

from __future__ import annotations

import io
import struct

import cbor2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_core.catalog import read_index
from rerun_sinks import FileSink, MemorySink

IMAGE_DTYPES = ("uint8", "uint16", "float16", "float32", "float64")


@given(rcst.records())
def test_round_trip(record: rc.Record) -> None:
    assert rc.decode_record(rc.encode_record(record)) == record


@given(rcst.records())
def test_encoding_is_deterministic_and_canonical(record: rc.Record) -> None:
    data = rc.encode_record(record)
    assert rc.encode_record(record) == data
    assert rc.encode_record(rc.decode_record(data)) == data
    assert b"".join(rc.encode_record_parts(record)) == data


@given(st.lists(rcst.records(), max_size=6))
def test_concatenated_records_decode_to_the_same_list(records: list[rc.Record]) -> None:
    stream = b"".join(rc.encode_record(r) for r in records)
    assert list(rc.iter_records(stream)) == records
    assert [s.error for s in rc.scan_records(stream)] == [None] * len(records)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
@given(data=st.data())
def test_image_round_trip_per_dtype_and_channels(
    dtype: str, channels: int, data: st.DataObject
) -> None:
    image = data.draw(rcst.image_arrays(dtype=dtype, channels=channels))
    model = data.draw(rcst.color_models_for(channels))
    msg = rc.make_image_msg(image, color_model=model)
    record = rc.make_record("cam", msg, timepoint={"f": ("sequence", 1)})
    decoded = rc.decode_record(rc.encode_record(record))
    assert decoded == record
    assert isinstance(decoded.msg, rc.ImageMsg)
    assert decoded.msg.pixels is not None
    assert decoded.msg.pixels.dtype == np.dtype(dtype)


@given(st.lists(rcst.records(), max_size=5))
def test_file_sink_bytes_equal_memory_sink_bytes(records: list[rc.Record]) -> None:
    memory, stream = MemorySink(), io.BytesIO()
    with FileSink(stream) as file_sink:
        for record in records:
            memory.write(record)
            file_sink.write(record)
    data = stream.getvalue()
    index = read_index(data)
    assert (index.status, index.offset) == ("valid", len(memory.getvalue()))
    assert (
        data[: index.offset] == memory.getvalue() == b"".join(rc.encode_record(r) for r in records)
    )


@given(rcst.records())
def test_metadata_is_canonical_cbor(record: rc.Record) -> None:
    data = rc.encode_record(record)
    (meta_len,) = struct.unpack_from("<I", data, 8)
    meta = data[24 : 24 + meta_len]
    assert cbor2.dumps(cbor2.loads(meta), canonical=True) == meta
